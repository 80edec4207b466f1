import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe as suite, expect, it, onTestFinished } from 'vitest';
import { init, shutdown } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import * as serve from '@ray-ts/serve';
import * as f from './fixtures/grpc-apps.js';

const PROTO = fileURLToPath(new URL('./fixtures/greeter.proto', import.meta.url));

interface HelloReply {
  message: string;
  replica: string;
  greeting: string;
  model: string;
}
interface CountReply {
  i: number;
}
type Callback<T> = (err: grpc.ServiceError | null, reply?: T) => void;
interface GreeterClient extends grpc.Client {
  SayHello(
    req: { name: string },
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: Callback<HelloReply>,
  ): grpc.ClientUnaryCall;
  Missing(
    req: { name: string },
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: Callback<HelloReply>,
  ): grpc.ClientUnaryCall;
  Upload(
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: Callback<HelloReply>,
  ): grpc.ClientWritableStream<{ name: string }>;
  Count(req: { n: number; fail?: string }, md: grpc.Metadata): grpc.ClientReadableStream<CountReply>;
  Hold(req: { n: number }, md: grpc.Metadata): grpc.ClientReadableStream<CountReply>;
}

const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, defaults: true })) as unknown as {
  userdefined: {
    UserDefinedService: new (
      address: string,
      creds: grpc.ChannelCredentials,
      options?: grpc.ClientOptions,
    ) => GreeterClient;
  };
};

let address = '';
let client: GreeterClient;

/** A client on a connection of its own (clients share connections by default). */
function newClient(): GreeterClient {
  const c = new pkg.userdefined.UserDefinedService(address, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
  onTestFinished(() => c.close());
  return c;
}

function metadata(entries: Record<string, string> = {}): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries)) md.set(k, v);
  return md;
}

/** A unary call: the reply and the trailing metadata, or the error. */
function unary<T>(
  fn: (
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: Callback<T>,
  ) => grpc.ClientUnaryCall | grpc.ClientWritableStream<unknown>,
  md: Record<string, string> = {},
  opts: grpc.CallOptions = {},
): Promise<{ reply: T; trailer: grpc.Metadata }> {
  return new Promise((resolve, reject) => {
    let reply: T | undefined;
    let failed: grpc.ServiceError | undefined;
    const call = fn(metadata(md), opts, (err, r) => {
      if (err) failed = err;
      else reply = r;
    });
    call.on('status', (s: grpc.StatusObject) =>
      failed ? reject(failed) : resolve({ reply: reply!, trailer: s.metadata }),
    );
  });
}

function sayHello(
  c: GreeterClient,
  name: string,
  md: Record<string, string> = {},
  opts: grpc.CallOptions = {},
): Promise<{ reply: HelloReply; trailer: grpc.Metadata }> {
  return unary<HelloReply>((m, o, cb) => c.SayHello({ name }, m, o, cb), md, opts);
}

async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('The call succeeded; expected it to fail.');
}

async function collect(stream: grpc.ClientReadableStream<CountReply>): Promise<number[]> {
  const out: number[] = [];
  for await (const item of stream as AsyncIterable<CountReply>) out.push(item.i);
  return out;
}

/** Starts a Hold stream and waits for its first item: the app's only replica slot is taken. */
async function hold(app: string): Promise<grpc.ClientReadableStream<CountReply>> {
  const s = newClient().Hold({ n: 1 }, metadata({ application: app }));
  s.on('error', () => undefined); // CANCELLED, once the test cancels it
  const [first] = (await once(s, 'data')) as [CountReply];
  expect(first.i).toBe(0);
  return s;
}

beforeAll(async () => {
  await init({ numCpus: 2, namespace: 'serve-grpc-test' });
  const proxies = await serve.start({
    http: { host: '127.0.0.1', port: 0 },
    grpc: { host: '127.0.0.1', port: 0, protoFiles: [PROTO] },
  });
  const [p] = Object.values(proxies);
  expect(p.grpcPort).toBeGreaterThan(0);
  address = `127.0.0.1:${p.grpcPort}`;
  client = new pkg.userdefined.UserDefinedService(address, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  await serve.shutdown();
  await shutdown();
});

suite('gRPC ingress', () => {
  it('calls a unary method, with or without the application metadata', async () => {
    await serve.run(f.Greeter.bind(), { name: 'greeter', routePrefix: '/greeter' });
    const only = await sayHello(client, 'Ada'); // the only app: no metadata needed
    expect(only.reply.message).toBe('Hello, Ada!');
    const named = await sayHello(client, 'Bob', {
      application: 'greeter',
      'x-greeting': 'hi',
      multiplexed_model_id: 'm1',
      request_id: 'req-42',
    });
    expect(named.reply).toMatchObject({ message: 'Hello, Bob!', greeting: 'hi', model: 'm1' });
    expect(named.trailer.get('request_id')).toEqual(['req-42']);
    // Both replicas serve.
    const replicas = new Set<string>();
    await Promise.all(
      Array.from({ length: 30 }, async () => replicas.add((await sayHello(client, 'x')).reply.replica)),
    );
    expect(replicas.size).toBe(2);
  });

  it('streams a server-streaming method, and reports an error raised mid-stream', async () => {
    expect(await collect(client.Count({ n: 5 }, metadata({ application: 'greeter' })))).toEqual([0, 1, 2, 3, 4]);
    expect(await collect(client.Count({ n: 0 }, metadata()))).toEqual([]);
    const items: number[] = [];
    const s = client.Count({ n: 2, fail: 'the counter broke' }, metadata());
    s.on('data', (d: CountReply) => items.push(d.i));
    const err = await failure(once(s, 'end'));
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(err.details).toMatch(/the counter broke/);
    expect(items).toEqual([0, 1]);
  });

  it('answers INTERNAL with the message of an error the method threw', async () => {
    const err = await failure(sayHello(client, 'fail'));
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(err.details).toBe("RangeError: cannot greet 'fail'");
  });

  it('answers UNIMPLEMENTED for a method the deployment lacks, and for client streaming', async () => {
    const missing = await failure(unary<HelloReply>((m, o, cb) => client.Missing({ name: 'x' }, m, o, cb)));
    expect(missing.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(missing.details).toMatch(/Method 'Missing' is not implemented by application 'greeter'/);
    const notStreamed = await failure(collect(client.Hold({ n: 1 }, metadata({ application: 'greeter' }))));
    expect(notStreamed.code).toBe(grpc.status.UNIMPLEMENTED);
    const upload = await failure(
      unary<HelloReply>((m, o, cb) => {
        const call = client.Upload(m, o, cb);
        call.end();
        return call;
      }),
    );
    expect(upload.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(upload.details).toMatch(/client streaming/);
  });

  it('answers NOT_FOUND, listing the running apps, for an unknown or missing application', async () => {
    const unknown = await failure(sayHello(client, 'x', { application: 'nope' }));
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.details).toMatch(/'nope'.*'greeter'/);
    await serve.run(f.Tight.bind(), { name: 'tight', routePrefix: null });
    const ambiguous = await failure(sayHello(client, 'x'));
    expect(ambiguous.code).toBe(grpc.status.NOT_FOUND);
    expect(ambiguous.details).toMatch(/'greeter'.*'tight'|'tight'.*'greeter'/);
    expect((await sayHello(client, 'y', { application: 'tight' })).reply.message).toBe('tight y');
  });

  it('answers RESOURCE_EXHAUSTED when overloaded, and frees the replica when a stream is cancelled', async () => {
    const s = await hold('tight');
    const err = await failure(sayHello(newClient(), 'x', { application: 'tight' }));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/overloaded.*maxOngoingRequests/);
    s.cancel();
    await waitFor(async () => (await sayHello(client, 'z', { application: 'tight' })).reply.message === 'tight z', {
      what: 'the held slot to free',
    });
  });

  it('gives up waiting for a replica at the deadline: DEADLINE_EXCEEDED, and the request never runs', async () => {
    await serve.run(f.Queued.bind(), { name: 'queued', routePrefix: null });
    const s = await hold('queued');
    const err = await failure(sayHello(newClient(), 'late', { application: 'queued' }, { deadline: Date.now() + 300 }));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    s.cancel();
    // The next call waits for the slot and runs; the one past its deadline left the queue.
    expect((await sayHello(client, 'next', { application: 'queued' })).reply.message).toBe('queued next (call 1)');
  });

  it('accepts connections on every proxy thread of the node', async () => {
    const threads = new Set<string>();
    await waitFor(
      async () => {
        const batch = Array.from({ length: 4 }, () => newClient());
        for (const { trailer } of await Promise.all(batch.map((c) => sayHello(c, 'x', { application: 'greeter' })))) {
          threads.add(String(trailer.get('request_id')[0]).split('-')[1]); // <pid>-<thread>-g<seq>
        }
        for (const c of batch) c.close();
        return threads.size >= 2;
      },
      { what: 'calls accepted by two proxy threads' },
    );
    expect(Object.values((await serve.status()).proxies)[0].threads).toBe(2);
  });
});
