/** One progress bar per operator (rows done and rate), drawn on stderr when it is a terminal. */
import cliProgress from 'cli-progress';

export class ProgressBars {
  private readonly multi: cliProgress.MultiBar;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly t0 = performance.now();

  constructor(names: readonly string[]) {
    this.multi = new cliProgress.MultiBar(
      {
        format: '{name} | {value} rows | {rate} rows/s',
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        fps: 5,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_grey,
    );
    for (const name of names) {
      const short = name.length > 48 ? `${name.slice(0, 45)}...` : name.padEnd(48);
      this.bars.set(name, this.multi.create(0, 0, { name: short, rate: 0 }));
    }
  }

  update(name: string, rows: number): void {
    const bar = this.bars.get(name);
    if (!bar) return;
    const s = (performance.now() - this.t0) / 1000;
    bar.setTotal(Math.max(rows, 1));
    bar.update(rows, { rate: s > 0 ? Math.round(rows / s) : 0 });
  }

  stop(): void {
    this.multi.stop();
  }
}
