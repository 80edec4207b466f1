// Shared by the libraries' side-by-side benchmarks (packages/*/bench/run.mjs): runs one side
// (ray-ts, or Ray through ../shared/tools/ray-baseline.sh) in a child process and collects the
// JSON lines it prints on stdout.
import { spawn } from 'node:child_process';

/** The JSON lines of a side's stdout (lines starting with '{'). */
export function jsonLines(stdout) {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/**
 * Runs one side; resolves to { status, results }. Past budgetMs it is interrupted (SIGINT, so it
 * shuts down cleanly; SIGKILL 30 s later).
 */
export function runSide(label, cmd, args, { cwd, budgetMs }) {
  console.error(`${label}...`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
    });
    let killer;
    const timer = setTimeout(() => {
      console.error(`${label} ran past ${budgetMs / 1000} s; interrupting it`);
      child.kill('SIGINT');
      killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    }, budgetMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      console.error(`${label} could not start: ${err.message}`);
      resolve({ status: null, results: [] });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      let results = [];
      try {
        results = jsonLines(out);
      } catch (err) {
        console.error(`${label} printed a line that is not JSON: ${err.message}`);
      }
      const status = code ?? signal;
      if (status !== 0)
        console.error(
          `${label} failed (${signal ?? `exit ${code}`}); its table cells stay empty where it has no figures`,
        );
      resolve({ status, results });
    });
  });
}
