/**
 * Live progress: on a terminal (verbose 2) a table of trials (status, config, iterations, latest
 * metric) redrawn every second; otherwise (verbose 1) a line per finished trial; then a summary.
 */
import type { ExperimentStorage } from './storage.js';
import type { TrialResult, TrialStatus } from './types.js';

interface Row {
  trialName: string;
  status: TrialStatus;
  config: Record<string, unknown>;
  lastResult: TrialResult | undefined;
  error: { message: string } | undefined;
}

function short(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  if (v && typeof v === 'object') return JSON.stringify(v).slice(0, 24);
  return String(v);
}

function flat(o: Record<string, unknown>, prefix = ''): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === 'object' && !Array.isArray(v))
      out.push(...flat(v as Record<string, unknown>, `${prefix}${k}/`));
    else out.push([`${prefix}${k}`, v]);
  }
  return out;
}

/** @internal */
export class ProgressReporter {
  private timer: NodeJS.Timeout | undefined;
  private drawnLines = 0;

  constructor(
    private readonly verbose: 0 | 1 | 2,
    private readonly metric: string | undefined,
  ) {}

  start(rows: () => Row[]): void {
    if (this.verbose < 2 || !process.stdout.isTTY) return;
    this.timer = setInterval(() => this.draw(rows()), 1000);
    this.timer.unref();
  }

  private table(rows: Row[]): string[] {
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    const head = `Trials: ${rows.length} (${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')})`;
    const keys = [...new Set(rows.flatMap((r) => flat(r.config).map(([k]) => k)))].slice(0, 5);
    const cols = ['trial', 'status', ...keys, 'iter', ...(this.metric ? [this.metric] : [])];
    const body = rows.slice(-20).map((r) => {
      const cfg = new Map(flat(r.config));
      return [
        r.trialName,
        r.status,
        ...keys.map((k) => short(cfg.get(k))),
        short(r.lastResult?.trainingIteration ?? ''),
        ...(this.metric ? [short(r.lastResult?.[this.metric] ?? '')] : []),
      ];
    });
    const widths = cols.map((c, i) => Math.max(c.length, ...body.map((b) => b[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
    return [head, line(cols), ...body.map(line)];
  }

  private draw(rows: Row[]): void {
    const lines = this.table(rows);
    let out = '';
    if (this.drawnLines > 0) out += `\x1b[${this.drawnLines}A\x1b[J`;
    out += lines.join('\n') + '\n';
    this.drawnLines = lines.length;
    process.stdout.write(out);
  }

  trialEnded(t: Row): void {
    if (this.verbose !== 1 || (t.status !== 'TERMINATED' && t.status !== 'ERROR')) return;
    const m = this.metric && t.lastResult ? ` ${this.metric}=${short(t.lastResult[this.metric])}` : '';
    const why = t.status === 'ERROR' ? ` error: ${t.error?.message ?? ''}` : '';
    console.log(`Trial ${t.trialName} ${t.status} after ${t.lastResult?.trainingIteration ?? 0} iterations:${m}${why}`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  summary(rows: Row[], storage: ExperimentStorage, elapsedMs: number): void {
    if (this.verbose === 0) return;
    if (this.verbose === 2 && process.stdout.isTTY) this.draw(rows);
    const errors = rows.filter((r) => r.status === 'ERROR').length;
    console.log(
      `Tune: ${rows.length} trials in ${(elapsedMs / 1000).toFixed(1)} s${errors ? `, ${errors} errored` : ''}; results in ${storage.dir}`,
    );
  }
}
