/**
 * A line plot (uPlot: a canvas, ~50 KB, fast with thousands of points). Made once per set of
 * series; new data for the same series is drawn in place, so a live plot does not flicker.
 */
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const PALETTE = ['#2f6fdf', '#e0672b', '#2a9d5c', '#b83dba', '#c9a227', '#1aa3b8', '#d6455d', '#6b6b6b'];

export interface PlotSeries {
  readonly label: string;
  readonly values: readonly (number | null | undefined)[];
}

export interface PlotProps {
  readonly title: string;
  /** x of every point: ms since the epoch when `time`, else e.g. iterations. */
  readonly x: readonly number[];
  readonly series: readonly PlotSeries[];
  readonly time?: boolean;
  readonly xLabel?: string;
  /** Formats the y axis's ticks (e.g. bytes). */
  readonly yFormat?: (v: number) => string;
  readonly yMin?: number;
  readonly yMax?: number;
  readonly height?: number;
  /** Draw lines across missing points (series sampled at different x, e.g. trials' iterations). */
  readonly spanGaps?: boolean;
}

export function Plot(props: PlotProps): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('\u0000') + `|${props.time}|${props.yMin}|${props.yMax}`;
  const points = props.series.reduce((n, s) => n + s.values.filter((v) => typeof v === 'number').length, 0);
  const data = (): uPlot.AlignedData => [
    props.time ? props.x.map((ms) => ms / 1000) : [...props.x],
    ...props.series.map((s) => s.values.map((v) => (typeof v === 'number' ? v : null))),
  ];

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const yFormat = props.yFormat;
    const opts: uPlot.Options = {
      title: props.title,
      width: Math.max(240, el.clientWidth),
      height: props.height ?? 220,
      scales: {
        x: { time: !!props.time },
        y: props.yMin !== undefined || props.yMax !== undefined ? { range: rangeOf(props.yMin, props.yMax) } : {},
      },
      axes: [
        {
          label: props.xLabel,
          stroke: '#555',
          grid: { stroke: '#eee' },
          // Iterations and counts: whole numbers only.
          ...(props.time ? {} : { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000] }),
        },
        {
          stroke: '#555',
          grid: { stroke: '#eee' },
          size: yFormat ? 76 : 50,
          ...(yFormat ? { values: (_u: uPlot, ticks: number[]) => ticks.map(yFormat) } : {}),
        },
      ],
      series: [
        { label: props.time ? 'time' : (props.xLabel ?? 'x') },
        ...props.series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          spanGaps: !!props.spanGaps,
          points: { show: props.x.length < 40 },
          ...(yFormat ? { value: (_u: uPlot, v: number | null) => (v === null ? '–' : yFormat(v)) } : {}),
        })),
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    const u = new uPlot(opts, data(), el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(240, el.clientWidth), height: u.height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when the series change: data alone goes through setData below.
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data());
  });

  return <div class="plot" ref={box} data-testid="plot" data-title={props.title} data-points={points} />;
}

/** A y range from `min` (else the data's, or 0) to at least `max` (a percent plot keeps 0-100). */
function rangeOf(min: number | undefined, max: number | undefined): uPlot.Range.Function {
  return (_u, dataMin, dataMax) => [min ?? Math.min(0, dataMin ?? 0), Math.max(max ?? 1, dataMax ?? 0)];
}
