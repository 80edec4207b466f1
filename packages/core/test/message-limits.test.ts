// Bounded gRPC inputs: each method refuses a request over its bound with RESOURCE_EXHAUSTED and
// the setting to raise, before decoding it; the caller gets that error at once, not a hang.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, init, internalKv, shutdown } from '@ray-ts/core';
import { Cluster, clusterAuthHeaders } from '@ray-ts/core/testing';

type Protos = { gcs: { Gcs: grpc.ServiceClientConstructor }; node: { Node: grpc.ServiceClientConstructor } };
const { protos } = (await import('../dist/cluster/proto.js' as string)) as { protos: () => Protos };

let cluster: Cluster;

beforeAll(async () => {
  cluster = await Cluster.start({
    head: {
      numCpus: 1,
      env: {
        RAY_TS_GCS_REQUEST_MAX_BYTES: '65536',
        RAY_TS_GCS_KV_REQUEST_MAX_BYTES: '200000',
        RAY_TS_NODE_REQUEST_MAX_BYTES: '4096',
      },
    },
  });
  await init({ address: cluster.address });
}, 60_000);

afterAll(async () => {
  await shutdown();
  await cluster?.shutdown();
});

/** A unary call of a raw client with the cluster's token; resolves with its error (undefined: it succeeded). */
function call(
  ctor: grpc.ServiceClientConstructor,
  method: string,
  req: object,
): Promise<grpc.ServiceError | undefined> {
  const client = new ctor(cluster.address, grpc.credentials.createInsecure());
  const def = ctor.service[method];
  const md = new grpc.Metadata();
  md.set('authorization', clusterAuthHeaders().authorization);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      req,
      md,
      { deadline: Date.now() + 10_000 },
      (err) => {
        client.close();
        resolve(err ?? undefined);
      },
    );
  });
}

describe('gRPC request bounds', () => {
  it('refuses a GCS call over gcsRequestMaxBytes, and takes one under it', async () => {
    const { Gcs } = protos().gcs;
    const big = await call(Gcs, 'GetActor', { actorId: 'x'.repeat(100_000) });
    expect(big?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(big?.details).toMatch(
      /^Gcs\.GetActor refused a message of 10\d{4} bytes: it accepts at most 65536 \(gcsRequestMaxBytes; raise RAY_TS_GCS_REQUEST_MAX_BYTES/,
    );
    expect(await call(Gcs, 'GetActor', { actorId: 'x'.repeat(1000) })).toBeUndefined();
  });

  it("bounds a node's calls by nodeRequestMaxBytes", async () => {
    const { Node } = protos().node;
    const err = await call(Node, 'GetState', { kind: 'x'.repeat(10_000) });
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err?.details).toMatch(/^Node\.GetState refused .* at most 4096 \(nodeRequestMaxBytes/);
  });

  it('gives KV writes their own bound, and the caller an InvalidArgumentError past it', async () => {
    await internalKv.put('fits', new Uint8Array(100_000).fill(1));
    expect((await internalKv.get('fits'))?.length).toBe(100_000);
    const err = await internalKv.put('too-big', new Uint8Array(300_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(String(err)).toMatch(
      /Gcs\.KvPut refused a message of 3\d{5} bytes: it accepts at most 200000 \(gcsKvRequestMaxBytes/,
    );
  });
});
