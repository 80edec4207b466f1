/**
 * A progress bar on a terminal (tqdm's look, which Ray's bars share): `desc 40% |████░░| 4/10 it
 * [00:08<00:12, 2.00 s/it]` when the total is known, a counter with its rate when not. Drawn only
 * when its stream is a terminal and `progressBars` (config.ts, `RAY_TS_PROGRESS_BARS`) is on: on a
 * file or a pipe it writes nothing, so logs stay clean.
 */
import { envSetting } from './config.js';

/** Where a bar is drawn: a terminal stream (process.stderr by default). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  /** The terminal's width: a longer line is cut to fit. */
  readonly columns?: number;
  write(text: string): unknown;
}

/** Options of {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** What is counted, before the bar (e.g. `train my_run`). */
  readonly desc: string;
  /** The count at which the bar ends, if known. */
  readonly total?: number;
  /** The counted thing's unit (default `it`). */
  readonly unit?: string;
  /** The count the bar starts from (a run resumed at iteration 5 starts at 5); its rate counts what came after. */
  readonly initial?: number;
  /** Default process.stderr. */
  readonly stream?: ProgressStream;
  /** Draw it (default: when the stream is a terminal and `progressBars` is on). */
  readonly enabled?: boolean;
  /** Milliseconds, for the rate and the ETA (default performance.now). */
  readonly now?: () => number;
}

const BAR_WIDTH = 20;

/** `s` seconds as `MM:SS`, or `H:MM:SS` past an hour. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${two(m)}:${two(sec)}`;
}

/** Units per second, or seconds per unit when slower than one a second. */
export function formatRate(perS: number, unit: string): string {
  if (!(perS > 0) || !Number.isFinite(perS)) return `?${unit}/s`;
  return perS >= 1 ? `${perS.toFixed(2)}${unit}/s` : `${(1 / perS).toFixed(2)}s/${unit}`;
}

/**
 * A progress bar of one count (iterations, epochs, rows) with its rate and, when its total is
 * known, the time left. Call {@link ProgressBar.update} as the count grows and
 * {@link ProgressBar.close} at the end; print other lines through {@link ProgressBar.interrupt}
 * so they do not land inside the bar.
 *
 * @example
 * const bar = new ProgressBar({ desc: 'train', total: 10, unit: 'epoch' });
 * for (let i = 1; i <= 10; i++) { await step(); bar.update(i, `loss=${loss}`); }
 * bar.close();
 */
export class ProgressBar {
  /** Whether it draws anything. */
  readonly enabled: boolean;
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly t0: number;
  private readonly initial: number;
  private total: number | undefined;
  private value: number;
  private postfix = '';
  private drawn = false;
  private closed = false;

  constructor(private readonly opts: ProgressBarOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.enabled = opts.enabled ?? (this.stream.isTTY === true && envSetting('progressBars'));
    this.now = opts.now ?? (() => performance.now());
    this.t0 = this.now();
    this.initial = opts.initial ?? 0;
    this.value = this.initial;
    this.total = opts.total !== undefined && opts.total > 0 ? opts.total : undefined;
    this.draw();
  }

  /** Sets the count (and a short text after the bar, e.g. the latest loss), and redraws. */
  update(value: number, postfix?: string): void {
    if (this.closed) return;
    this.value = value;
    if (postfix !== undefined) this.postfix = postfix;
    if (this.total !== undefined && value > this.total) this.total = value;
    this.draw();
  }

  /** Sets the total once it is known (undefined: unknown). */
  setTotal(total: number | undefined): void {
    this.total = total !== undefined && total > 0 ? Math.max(total, this.value) : undefined;
    this.draw();
  }

  /** Runs `print` (which writes whole lines) with the bar cleared, then draws the bar again below. */
  interrupt(print: () => void): void {
    if (!this.enabled || !this.drawn || this.closed) return print();
    this.stream.write('\r\x1b[2K');
    this.drawn = false;
    print();
    this.draw();
  }

  /** Draws the final state and ends the line; later updates are ignored. */
  close(): void {
    if (this.closed) return;
    this.draw();
    this.closed = true;
    if (this.enabled && this.drawn) this.stream.write('\n');
  }

  /** The bar's text now (what it draws, before it is cut to the terminal's width). */
  text(): string {
    const unit = this.opts.unit ?? 'it';
    const elapsedS = (this.now() - this.t0) / 1000;
    const rate = elapsedS > 0 ? (this.value - this.initial) / elapsedS : 0;
    const post = this.postfix ? `, ${this.postfix}` : '';
    if (this.total === undefined) {
      return `${this.opts.desc}: ${this.value}${unit === 'it' ? 'it' : ` ${unit}`} [${formatDuration(elapsedS)}, ${formatRate(rate, unit)}${post}]`;
    }
    const frac = Math.min(1, this.value / this.total);
    const full = Math.round(frac * BAR_WIDTH);
    const bar = '█'.repeat(full) + '░'.repeat(BAR_WIDTH - full);
    const left = this.value >= this.total ? 0 : rate > 0 ? (this.total - this.value) / rate : NaN;
    const pct = `${Math.floor(frac * 100)}%`.padStart(4);
    return (
      `${this.opts.desc}: ${pct} |${bar}| ${this.value}/${this.total} ${unit} ` +
      `[${formatDuration(elapsedS)}<${formatDuration(left)}, ${formatRate(rate, unit)}${post}]`
    );
  }

  private draw(): void {
    if (!this.enabled || this.closed) return;
    let line = this.text();
    const width = this.stream.columns;
    if (width && line.length > width - 1) line = line.slice(0, Math.max(0, width - 1));
    this.stream.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }
}
