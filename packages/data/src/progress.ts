/**
 * One progress bar per operator, drawn on stderr when it is a terminal (cli-progress): rows done
 * out of the rows expected, the rate and the time left when the total is known
 * (progress-totals.ts), else rows done and the rate. An operator that finishes shows its final
 * count as its total.
 */
import cliProgress from 'cli-progress';
import type { ExpectedRows } from './progress-totals.js';

/** Where the bars are drawn (process.stderr by default; a fake terminal in tests). */
export interface BarStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string, cb?: () => void): unknown;
}

/** An operator, as its bar knows it. */
export interface BarOperator {
  readonly name: string;
  /** Rows it is expected to output, if known before it runs. */
  readonly expectedRows: ExpectedRows;
}

const withTotal = '{name} |{bar}| {value}/{total} rows | {rate} rows/s | ETA {timeLeft}';
const withoutTotal = '{name} | {value} rows | {rate} rows/s';

/** `s` seconds as `1h02m`, `3m05s` or `12s`. */
export function formatEta(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const t = Math.round(s);
  if (t >= 3600) return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
  if (t >= 60) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${t}s`;
}

interface OperatorBar {
  readonly bar: cliProgress.SingleBar;
  total: ExpectedRows;
}

export class ProgressBars {
  private readonly multi: cliProgress.MultiBar;
  private readonly bars = new Map<BarOperator, OperatorBar>();
  private readonly now: () => number;
  private readonly t0: number;

  constructor(ops: readonly BarOperator[], opts: { stream?: BarStream; now?: () => number } = {}) {
    this.now = opts.now ?? (() => performance.now());
    this.t0 = this.now();
    this.multi = new cliProgress.MultiBar(
      {
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        fps: 5,
        stream: (opts.stream ?? process.stderr) as NodeJS.WriteStream,
      },
      cliProgress.Presets.shades_grey,
    );
    for (const op of ops) {
      const short = op.name.length > 48 ? `${op.name.slice(0, 45)}...` : op.name.padEnd(48);
      const total = op.expectedRows;
      const bar = this.multi.create(
        Math.max(total ?? 0, 1),
        0,
        { name: short, rate: 0, timeLeft: '?' },
        { format: total === undefined ? withoutTotal : withTotal },
      );
      this.bars.set(op, { bar, total });
    }
  }

  /** `op` has output `rows` rows so far. */
  update(op: BarOperator, rows: number): void {
    const b = this.bars.get(op);
    if (!b) return;
    const s = (this.now() - this.t0) / 1000;
    const rate = s > 0 ? rows / s : 0;
    if (b.total !== undefined && rows > b.total) b.total = rows; // the estimate was low (a limit that is not reached, say)
    b.bar.setTotal(Math.max(b.total ?? rows, 1));
    const timeLeft =
      b.total === undefined ? '?' : rows >= b.total ? '0s' : rate > 0 ? formatEta((b.total - rows) / rate) : '?';
    b.bar.update(rows, { rate: Math.round(rate), timeLeft });
  }

  /** `op` is done with `rows` rows: its total becomes what it output. */
  finish(op: BarOperator, rows: number): void {
    const b = this.bars.get(op);
    if (!b) return;
    if (b.total !== undefined) b.total = rows;
    this.update(op, rows);
  }

  stop(): void {
    this.multi.stop();
  }
}
