import { defineConfig } from 'vitest/config';

// Packages are tested through their built output (dist/), loaded natively by Node rather than
// transformed by Vite, so worker threads and the test share one module graph on disk.
const server = { deps: { external: [/\/packages\/[^/]+\/dist\//] } };

export default defineConfig({
  test: {
    // Two cores: at most two test files at once (each starts its own cluster of worker threads).
    poolOptions: { forks: { maxForks: 2, minForks: 1 }, threads: { maxThreads: 2, minThreads: 1 } },
    projects: [
      {
        test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'], server },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'tools/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          server,
        },
      },
    ],
  },
});
