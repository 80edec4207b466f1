/**
 * TensorBoard event files: `events.out.tfevents.<secs>.<host>.<pid>.<n>`, a TFRecord stream
 * (each record: length as u64 LE, the masked CRC-32C of those 8 bytes, the data, the masked
 * CRC-32C of the data) of `Event` protos. The first event names the format (`brain.Event:2`);
 * then scalars (`Summary.Value.simple_value`), session starts (TensorBoard drops the steps a
 * restarted run writes again), and hyperparameters in the HParams plugin's format. The messages
 * are encoded with protobufjs from the subset below of TensorBoard's protos (`event.proto`,
 * `summary.proto`, `tensor.proto`, `plugins/hparams/{api,plugin_data}.proto`), field numbers as
 * upstream.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import protobuf from 'protobufjs';
import { TuneInvalidArgumentError } from '../errors.js';
import { maskedCrc32c } from './crc32c.js';

const TENSORBOARD_PROTO = `
syntax = "proto3";
package tensorboard;
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
    SessionLog session_log = 7;
  }
}
message SessionLog {
  enum SessionStatus { STATUS_UNSPECIFIED = 0; START = 1; STOP = 2; CHECKPOINT = 3; }
  SessionStatus status = 1;
  string checkpoint_path = 2;
  string msg = 3;
}
message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  int32 data_class = 4;
}
message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
}
message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
}
message Summary {
  message Value {
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}
// google.protobuf.Value (struct.proto), the kinds hyperparameters take.
message ProtobufValue {
  oneof kind {
    double number_value = 2;
    string string_value = 3;
    bool bool_value = 4;
  }
}
message HParamInfo {
  string name = 1;
  string display_name = 2;
  string description = 3;
  int32 type = 4;
}
message MetricName {
  string group = 1;
  string tag = 2;
}
message MetricInfo {
  MetricName name = 1;
  string display_name = 3;
  string description = 4;
}
message Experiment {
  string name = 6;
  string description = 1;
  string user = 2;
  double time_created_secs = 3;
  repeated HParamInfo hparam_infos = 4;
  repeated MetricInfo metric_infos = 5;
}
message SessionStartInfo {
  map<string, ProtobufValue> hparams = 1;
  string model_uri = 2;
  string monitor_url = 3;
  string group_name = 4;
  double start_time_secs = 5;
}
message SessionEndInfo {
  int32 status = 1;
  double end_time_secs = 2;
}
message HParamsPluginData {
  int32 version = 1;
  oneof data {
    Experiment experiment = 2;
    SessionStartInfo session_start_info = 3;
    SessionEndInfo session_end_info = 4;
  }
}
`;

/** hparams/api.proto's DataType and Status values. */
const DATA_TYPE = { string: 1, boolean: 2, number: 3 } as const;
const STATUS_SUCCESS = 1;
const STATUS_FAILURE = 2;
const SESSION_START = 1;
/** tensorboard's DataType.DT_FLOAT. */
const DT_FLOAT = 1;

let types: { event: protobuf.Type; hparams: protobuf.Type } | undefined;
function protoTypes(): { event: protobuf.Type; hparams: protobuf.Type } {
  if (!types) {
    const root = protobuf.parse(TENSORBOARD_PROTO, { keepCase: true }).root;
    types = { event: root.lookupType('tensorboard.Event'), hparams: root.lookupType('tensorboard.HParamsPluginData') };
  }
  return types;
}

/** One TFRecord: the data framed with its length and both masked checksums. */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(data.length + 16);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/** A hyperparameter's value, as the HParams plugin takes them. */
export type HParamValue = number | string | boolean;

let fileCount = 0;

/**
 * Appends events to a new event file in `dir` (created if needed); each event is written (not
 * buffered) as it comes, so TensorBoard sees a running trial's progress.
 */
export class EventFileWriter {
  /** The file's path. */
  readonly path: string;
  private fd: number | undefined;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    const secs = String(Math.floor(Date.now() / 1000)).padStart(10, '0');
    this.path = path.join(dir, `events.out.tfevents.${secs}.${os.hostname()}.${process.pid}.${fileCount++}`);
    this.fd = fs.openSync(this.path, 'a');
    this.write({ wall_time: Date.now() / 1000, step: 0, file_version: 'brain.Event:2' });
  }

  /** Scalars at `step`, one tag each (`simple_value`, float32 as TensorBoard stores them). */
  addScalars(step: number, wallTimeS: number, values: readonly (readonly [string, number])[]): void {
    if (values.length === 0) return;
    this.write({
      wall_time: wallTimeS,
      step,
      summary: { value: values.map(([tag, v]) => ({ tag, simple_value: v })) },
    });
  }

  /**
   * A session (re)start at `step`: TensorBoard discards what it read at this step and later, so
   * iterations a restarted trial runs again are not shown twice.
   */
  addSessionStart(step: number, wallTimeS: number): void {
    this.write({ wall_time: wallTimeS, step, session_log: { status: SESSION_START } });
  }

  /**
   * The HParams plugin's three summaries, as tensorboardX's `hparams()` writes them (and so Ray's
   * TBXLoggerCallback): the experiment (hyperparameter and metric names), the session's start
   * (the values), and its end (success or failure).
   */
  addHparams(
    hparams: Readonly<Record<string, HParamValue>>,
    metricTags: readonly string[],
    failed: boolean,
    wallTimeS: number,
  ): void {
    const entries = Object.entries(hparams);
    const experiment = {
      hparam_infos: entries.map(([name, v]) => ({ name, type: DATA_TYPE[typeof v as keyof typeof DATA_TYPE] })),
      metric_infos: metricTags.map((tag) => ({ name: { tag } })),
    };
    const values = Object.fromEntries(
      entries.map(([k, v]) => [
        k,
        typeof v === 'number' ? { number_value: v } : typeof v === 'string' ? { string_value: v } : { bool_value: v },
      ]),
    );
    const summaries: [string, Record<string, unknown>][] = [
      ['_hparams_/experiment', { experiment }],
      ['_hparams_/session_start_info', { session_start_info: { hparams: values, start_time_secs: wallTimeS } }],
      [
        '_hparams_/session_end_info',
        { session_end_info: { status: failed ? STATUS_FAILURE : STATUS_SUCCESS, end_time_secs: wallTimeS } },
      ],
    ];
    const { hparams: pluginData } = protoTypes();
    for (const [tag, data] of summaries) {
      const content = pluginData.encode(pluginData.fromObject({ version: 0, ...data })).finish();
      this.write({
        wall_time: wallTimeS,
        step: 0,
        summary: {
          value: [
            {
              tag,
              metadata: { plugin_data: { plugin_name: 'hparams', content } },
              // The plugin's NULL_TENSOR: TensorBoard's data provider lists tensor summaries only.
              tensor: { dtype: DT_FLOAT, tensor_shape: { dim: [{ size: 0 }] } },
            },
          ],
        },
      });
    }
  }

  /** Closes the file; later writes are errors. */
  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private write(event: Record<string, unknown>): void {
    if (this.fd === undefined)
      throw new TuneInvalidArgumentError(
        `Event file ${this.path} is closed: a logger wrote to it after logTrialEnd. Open a new EventFileWriter.`,
      );
    const { event: type } = protoTypes();
    fs.writeSync(this.fd, tfRecord(type.encode(type.fromObject(event)).finish()));
  }
}
