// Bundles the compiled runtime (dist/) into a few files (dist/bundle/), so that the driver and
// every worker thread load ~5 modules instead of ~25: start-up time is module loading here.
// Code splitting keeps one copy of each module, shared by the index, testing and worker entries.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/bundle', { recursive: true, force: true }); // chunk names change with their contents

await build({
  entryPoints: ['dist/index.js', 'dist/testing.js', 'dist/worker/main.js', 'dist/cli.js', 'dist/cluster/node-main.js'],
  outdir: 'dist/bundle',
  outbase: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // acorn is loaded lazily, tsx only when a worker meets a .ts module: both stay packages. So do
  // the cluster's libraries (prom-client: only a cluster node's /metrics loads it).
  external: [
    'acorn',
    'tsx',
    'tsx/*',
    '@grpc/grpc-js',
    '@grpc/proto-loader',
    'commander',
    'ioredis',
    'yaml',
    'ws',
    'prom-client',
    // The kubernetes provider's client: an optional peer dependency, loaded only by that provider.
    '@kubernetes/client-node',
  ],
  sourcemap: true,
  logLevel: 'warning',
});
