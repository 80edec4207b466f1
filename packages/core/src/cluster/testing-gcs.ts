/**
 * A fake GCS client for the unit tests of what talks to the GCS (placement groups, membership):
 * unary calls are recorded and answered by the test (at once by a per-method answer, or by hand),
 * and each Subscribe call gets a stream the test emits events on. For core's own unit tests: not
 * exported from index.ts.
 */
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import type { GcsClient } from './generated/raytscore/Gcs.js';
import type { NodeInfo__Output } from './generated/raytscore/NodeInfo.js';

type Callback = (err: grpc.ServiceError | null, res?: unknown) => void;

/** A unary call the fake received: what was asked, its deadline, and how to answer it by hand. */
export interface UnaryCall {
  method: string;
  req: any;
  /** Its deadline, as milliseconds from the time of the call. */
  timeoutMs: number;
  answered: boolean;
  reply(res: unknown): void;
  fail(err: unknown): void;
}

/** The stream a Subscribe call returns: the test emits 'data', 'error' and 'end' on it. */
export class FakeStream extends EventEmitter {
  cancelled = false;

  constructor(readonly req: unknown) {
    super();
  }

  cancel(): void {
    this.cancelled = true;
  }
}

/** An error as grpc-js reports a failed call. */
export function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: undefined as never });
}

export class FakeGcsClient {
  readonly calls: UnaryCall[] = [];
  readonly streams: FakeStream[] = [];
  /**
   * Answers by method name, given the request: what it returns is the reply, what it throws
   * fails the call. Calls of a method with no answer wait until the test answers them.
   */
  readonly answers: Record<string, (req: any) => unknown> = {};
  /** The client as the code under test sees it. */
  readonly client: GcsClient;

  constructor() {
    this.client = new Proxy({} as GcsClient, {
      get: (_target, method) => {
        if (method === 'Subscribe') return (req: unknown) => this.subscribe(req);
        return (req: unknown, _md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) =>
          this.unary(String(method), req, opts, cb);
      },
    });
  }

  /** The calls of one method, in order. */
  of(method: string): UnaryCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** The requests of one method, in order. */
  requests(method: string): any[] {
    return this.of(method).map((c) => c.req);
  }

  private subscribe(req: unknown): FakeStream {
    const s = new FakeStream(req);
    this.streams.push(s);
    return s;
  }

  private unary(method: string, req: any, opts: grpc.CallOptions, cb: Callback): void {
    const deadline = opts.deadline instanceof Date ? opts.deadline.getTime() : Number(opts.deadline);
    const call: UnaryCall = {
      method,
      req,
      timeoutMs: deadline - Date.now(),
      answered: false,
      // Answers arrive in a later turn, as grpc-js's do.
      reply: (res) => {
        call.answered = true;
        queueMicrotask(() => cb(null, res));
      },
      fail: (err) => {
        call.answered = true;
        queueMicrotask(() => cb(err as grpc.ServiceError));
      },
    };
    this.calls.push(call);
    const answer = this.answers[method];
    if (!answer) return;
    try {
      call.reply(answer(req));
    } catch (err) {
      call.fail(err);
    }
  }
}

/** A node as the GCS's view lists it: alive, empty, 4 CPUs unless `over` says otherwise. */
export function nodeInfo(nodeId: string, over: Partial<NodeInfo__Output> = {}): NodeInfo__Output {
  return {
    nodeId,
    address: `${nodeId}:1`,
    isHead: false,
    isDriver: false,
    resourcesTotal: { CPU: 4 },
    resourcesAvailable: { CPU: 4 },
    state: 'ALIVE',
    pid: 0,
    version: '',
    startTimeMs: 0,
    load: [],
    objectStoreUsed: 0,
    objectStoreCapacity: 0,
    numObjects: 0,
    numWorkers: 0,
    jobId: '',
    labels: {},
    credentialSha256: '',
    metricsAddress: '',
    ...over,
  };
}
