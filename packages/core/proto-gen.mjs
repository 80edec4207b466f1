// Regenerates the TypeScript types of proto/*.proto into src/cluster/generated (npm run proto).
// The generator writes extensionless relative imports; NodeNext resolution needs `.js`.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const out = 'src/cluster/generated';
rmSync(out, { recursive: true, force: true });
execFileSync(
  'npx',
  [
    'proto-loader-gen-types',
    ...readdirSync('proto').filter((f) => f.endsWith('.proto')),
    '--longs=Number',
    '--defaults',
    '--oneofs',
    '--grpcLib=@grpc/grpc-js',
    `--outDir=${out}`,
    '--includeDirs=proto',
  ],
  { stdio: 'inherit' },
);
const walk = (dir) => {
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) {
      writeFileSync(p, readFileSync(p, 'utf8').replace(/from '(\.\.?\/[^']+)'/g, "from '$1.js'"));
    }
  }
};
walk(out);
