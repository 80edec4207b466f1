/**
 * Import rules of the packages' sources, checked by `npm run lint` (dependency-cruiser):
 * no cycles (type-only imports count: a type cycle still ties modules together), and core's
 * layers (docs/architecture.md): the public API does not reach into the cluster layer, and the
 * protocol's plain data imports nothing from the runtime.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules import each other in a cycle (type-only imports count).',
      // core's index imports itself once, to hand its own namespace to by-value code.
      from: { pathNot: '^packages/core/src/index\\.ts$' },
      to: { circular: true },
    },
    {
      name: 'api-not-cluster',
      severity: 'error',
      comment: "core's public API (api/) goes through the runtime and the node's ports, never cluster/.",
      from: { path: '^packages/core/src/api/' },
      to: { path: '^packages/core/src/cluster/' },
    },
    {
      name: 'protocol-is-data',
      severity: 'error',
      comment: "core's protocol/ is plain data: it imports only errors.ts and options.ts types.",
      from: { path: '^packages/core/src/protocol/' },
      to: { path: '^packages/core/src/(runtime|node|cluster|api|worker)/' },
    },
    {
      name: 'node-not-cluster',
      severity: 'error',
      comment: 'The node manager reaches the cluster through its ports (node/ports.ts), never cluster/.',
      from: { path: '^packages/core/src/node/' },
      to: { path: '^packages/core/src/cluster/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/|\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    parser: 'tsc',
  },
};
