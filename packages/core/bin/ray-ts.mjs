#!/usr/bin/env node
// The `ray-ts` command. It lives outside dist/ so that npm links it at install time, before the
// first build; the command itself is the bundled src/cli.ts.
import { existsSync } from 'node:fs';
const cli = new URL('../dist/bundle/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('ray-ts: @ray-ts/core is not built yet: run `npm run build` (or `npm start`) first.');
  process.exit(1);
}
await import(cli.href);
