// wrk for the Serve benchmark: is it installed, run it (asynchronously: in ray-ts the HTTP proxy may
// share this process's event loop), and read requests/s, p50/p99 latency and errors from its
// `--latency` report. ray_serve_bench.py has the same parser in Python (parse_wrk); keep them alike.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';

export const WRK_INSTALL = 'apt-get update && apt-get install -y wrk';

/** True when `wrk` runs. */
export function wrkAvailable() {
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return !r.error;
}

const units = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** "1.23ms" -> 1.23 (milliseconds); null when it does not read as a wrk duration. */
export function wrkMs(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  return m ? Number(m[1]) * units[m[2]] : null;
}

/**
 * The figures of one `wrk --latency` report:
 * { rps, p50Ms, p99Ms, requests, errors, non2xx, socketErrors: { connect, read, write, timeout } }.
 * `errors` sums the socket errors (timeouts included); `non2xx` counts "Non-2xx or 3xx responses".
 * Throws when the report has no Requests/sec line (wrk failed).
 */
export function parseWrk(text) {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  if (!rps) throw new Error(`wrk printed no Requests/sec line:\n${text}`);
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(text);
    return m ? wrkMs(m[1]) : null;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = sock
    ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) }
    : { connect: 0, read: 0, write: 0, timeout: 0 };
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const requests = /^\s+(\d+) requests in /m.exec(text);
  return {
    rps: Number(rps[1]),
    p50Ms: pct(50),
    p99Ms: pct(99),
    requests: requests ? Number(requests[1]) : null,
    errors: Object.values(socketErrors).reduce((a, b) => a + b, 0),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors,
  };
}

/**
 * Runs `wrk -tT -cN -dDs --timeout 10s --latency URL` and resolves to its parsed report (see
 * parseWrk) plus `raw`, the report itself. The 10 s timeout (wrk's default is 2 s) keeps slow
 * requests in the latency figures instead of dropping them as timeout errors.
 */
export function runWrk({ url, connections, durationS, threads = 2, timeoutS = 10 }) {
  const args = [
    `-t${Math.min(threads, connections)}`,
    `-c${connections}`,
    `-d${durationS}s`,
    `--timeout`,
    `${timeoutS}s`,
    '--latency',
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    // wrk stops by itself after durationS; this only guards against a hung wrk.
    const guard = setTimeout(() => child.kill('SIGKILL'), (durationS + timeoutS + 30) * 1000);
    child.on('error', (e) => {
      clearTimeout(guard);
      reject(e.code === 'ENOENT' ? new Error(`wrk is not installed; run: ${WRK_INSTALL}`) : e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (code !== 0)
        return reject(new Error(`wrk ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${err}${out}`));
      try {
        resolve({ ...parseWrk(out), raw: out });
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** A free TCP port on 127.0.0.1 (for a server the benchmark starts). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
