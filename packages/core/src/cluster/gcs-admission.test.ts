import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeInfo, NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import { refusal } from './gcs-admission.js';
import { VERSION } from './proto.js';

let server: net.Server;
let open: string;
let closed: string;

beforeAll(async () => {
  server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  // A port nothing listens on: bound and released.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closed = `127.0.0.1:${(probe.address() as net.AddressInfo).port}`;
  await new Promise<void>((r) => probe.close(() => r()));
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const node = (o: Partial<NodeInfo> = {}): NodeInfo => ({
  nodeId: 'node-b',
  address: open,
  version: VERSION,
  isHead: false,
  isDriver: false,
  ...o,
});

describe('GCS admission', () => {
  it('lets in a node of the same version that the head reaches back', async () => {
    expect(await refusal(node(), undefined)).toBeUndefined();
  });

  it('refuses another version, naming both', async () => {
    expect(await refusal(node({ version: '9.9.9' }), undefined)).toMatch(
      new RegExp(`version mismatch: this cluster runs ray-ts ${VERSION} and the node runs 9\\.9\\.9`),
    );
  });

  it('refuses a node id it declared dead (fenced): it must join as a new node', async () => {
    const known = { nodeId: 'node-b', state: 'DEAD' } as NodeInfo__Output;
    expect(await refusal(node(), known)).toMatch(/node-b was declared dead.*start it again to join as a new node/);
    expect(await refusal(node(), { ...known, state: 'ALIVE' })).toBeUndefined();
  });

  it('refuses a node or driver it cannot reach back, saying what to set and open', async () => {
    const port = closed.split(':')[1];
    expect(await refusal(node({ address: closed }), undefined)).toMatch(
      new RegExp(`cannot reach this node at ${closed}.*--node-ip-address.*its port ${port}`),
    );
    expect(await refusal(node({ address: closed, isDriver: true }), undefined)).toMatch(
      /cannot reach this driver at .*init\(\{ nodeIpAddress \}\)/,
    );
  });

  it('does not probe the head itself', async () => {
    expect(await refusal(node({ address: closed, isHead: true }), undefined)).toBeUndefined();
  });
});
