import { defineConfig } from 'vitest/config';

// Packages are tested through their built output (dist/), loaded natively by Node rather than
// transformed by Vite, so worker threads and the test share one module graph on disk.
const server = { deps: { external: [/\/packages\/[^/]+\/dist\//] } };

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'], server },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'tools/**/*.test.ts'],
          pool: 'forks',
          poolOptions: { forks: { maxForks: 2, minForks: 1 } },
          testTimeout: 60_000,
          hookTimeout: 60_000,
          server,
        },
      },
    ],
  },
});
