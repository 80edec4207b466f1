import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import protobuf from 'protobufjs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { maskedCrc32c } from './crc32c.js';
import { EventFileWriter, tfRecord } from './event-file.js';

let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-event-file-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The records of a TFRecord file, checking both checksums of each. */
function records(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length;) {
    const len = Number(buf.readBigUInt64LE(at));
    expect(buf.readUInt32LE(at + 8)).toBe(maskedCrc32c(buf.subarray(at, at + 8)));
    const data = buf.subarray(at + 12, at + 12 + len);
    expect(buf.readUInt32LE(at + 12 + len)).toBe(maskedCrc32c(data));
    out.push(data);
    at += len + 16;
  }
  return out;
}

// The fields of TensorBoard's event.proto and summary.proto read back here, as upstream numbers them.
const Event = protobuf
  .parse(
    `syntax = "proto3";
     message Event { double wall_time = 1; int64 step = 2; oneof what { string file_version = 3; Summary summary = 5; SessionLog session_log = 7; } }
     message SessionLog { int32 status = 1; }
     message Summary { message Value { string tag = 1; float simple_value = 2; } repeated Value value = 1; }`,
    { keepCase: true },
  )
  .root.lookupType('Event');

it('frames a record: length (u64 LE), its masked CRC-32C, the data, the data’s masked CRC-32C', () => {
  const rec = tfRecord(Buffer.from('abc'));
  expect(rec.length).toBe(3 + 16);
  expect(rec.readBigUInt64LE(0)).toBe(3n);
  expect(rec.subarray(12, 15).toString()).toBe('abc');
  expect(records(rec)).toEqual([Buffer.from('abc')]);
});

it('writes the file version first, then scalars and session starts, each event as it comes', () => {
  const w = new EventFileWriter(path.join(dir, 'trial'));
  expect(path.basename(w.path)).toMatch(/^events\.out\.tfevents\.\d{10}\./);
  w.addScalars(1, 100.5, [
    ['ray/tune/loss', 0.5],
    ['ray/tune/acc', 0.25],
  ]);
  w.addScalars(2, 101, []); // nothing to write
  w.addSessionStart(2, 102);
  const events = records(fs.readFileSync(w.path)).map((r) => Event.toObject(Event.decode(r), { longs: Number }));
  w.close();
  expect(events).toHaveLength(3);
  expect(events[0]).toMatchObject({ step: 0, file_version: 'brain.Event:2' });
  expect(events[1]).toEqual({
    wall_time: 100.5,
    step: 1,
    summary: {
      value: [
        { tag: 'ray/tune/loss', simple_value: 0.5 },
        { tag: 'ray/tune/acc', simple_value: 0.25 },
      ],
    },
  });
  expect(events[2]).toEqual({ wall_time: 102, step: 2, session_log: { status: 1 } }); // START
  expect(() => w.addScalars(3, 103, [['x', 1]])).toThrow(/closed/);
});
