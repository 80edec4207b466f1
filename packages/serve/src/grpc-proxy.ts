/** gRPC ingress (being written). */
import type { CompiledStartOptions } from './options.js';

export async function startGrpcIngress(
  opts: NonNullable<CompiledStartOptions['grpc']>,
  sharedFd: number | undefined,
): Promise<{ fd: number; port: number; close(): Promise<void> }> {
  void opts;
  void sharedFd;
  throw new Error('gRPC ingress is not built yet');
}
