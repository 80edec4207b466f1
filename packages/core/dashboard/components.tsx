/** The pieces every page is made of: tables, usage bars, state badges, notices. */
import type { ComponentChildren, JSX } from 'preact';
import type { Polled } from './api.js';
import { num } from './format.js';

export interface Column<R> {
  readonly title: string;
  readonly cell: (row: R) => ComponentChildren;
  /** `num` right-aligns, `id` sets monospace, `wrap` lets long text wrap. */
  readonly kind?: 'num' | 'id' | 'wrap';
}

export function Table<R>(props: {
  rows: readonly R[];
  columns: readonly Column<R>[];
  rowKey: (row: R) => string;
  empty?: string;
  testId?: string;
}): JSX.Element {
  if (props.rows.length === 0) return <p class="empty">{props.empty ?? 'None.'}</p>;
  return (
    <div class="table-wrap">
      <table data-testid={props.testId}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.title} class={c.kind}>
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={props.rowKey(r)}>
              {props.columns.map((c) => (
                <td key={c.title} class={c.kind}>
                  {c.cell(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A bar filled to `percent` (0-100) with a label; colours turn amber, then red, as it fills. */
export function Bar(props: { percent: number | undefined; label: string }): JSX.Element {
  const p = props.percent;
  const level = p === undefined ? 'none' : p >= 90 ? 'high' : p >= 70 ? 'mid' : 'low';
  return (
    <div class="bar" title={props.label}>
      <div class={`bar-fill ${level}`} style={{ width: `${p ?? 0}%` }} />
      <span class="bar-label">{props.label}</span>
    </div>
  );
}

const GOOD = new Set(['ALIVE', 'RUNNING', 'SUCCEEDED', 'FINISHED', 'CREATED', 'HEALTHY', 'TERMINATED', 'READY']);
const BAD = new Set(['DEAD', 'FAILED', 'ERROR', 'UNHEALTHY', 'DEPLOY_FAILED', 'INFEASIBLE', 'REMOVED', 'STOPPED']);

export function Badge(props: { state: string | undefined }): JSX.Element {
  const s = props.state ?? 'UNKNOWN';
  const cls = GOOD.has(s) ? 'good' : BAD.has(s) ? 'bad' : 'wait';
  return <span class={`badge ${cls}`}>{s}</span>;
}

export function Id(props: { id: string | undefined; href?: string }): JSX.Element {
  if (!props.id) return <span class="muted">–</span>;
  return props.href ? (
    <a class="id" href={props.href}>
      {props.id}
    </a>
  ) : (
    <span class="id">{props.id}</span>
  );
}

/** What a polled route has: its data, "Loading", or its error (with the last data kept below it). */
export function Loaded<T>(props: { polled: Polled<T>; children: (data: T) => ComponentChildren }): JSX.Element {
  const { data, error } = props.polled;
  return (
    <>
      {error && <ErrorNote error={error} />}
      {data === undefined ? !error && <p class="muted">Loading…</p> : props.children(data)}
    </>
  );
}

export function ErrorNote(props: { error: Error }): JSX.Element {
  return (
    <p class="error" role="alert">
      {props.error.message}
    </p>
  );
}

export function Section(props: { title: string; children: ComponentChildren; aside?: ComponentChildren }): JSX.Element {
  return (
    <section>
      <h2>
        {props.title}
        {props.aside && <span class="aside">{props.aside}</span>}
      </h2>
      {props.children}
    </section>
  );
}

/** Counts as small tiles: `{RUNNING: 3, FAILED: 1}`. */
export function Counts(props: { counts: Record<string, number>; testId?: string }): JSX.Element {
  const keys = Object.keys(props.counts).sort();
  if (keys.length === 0) return <p class="empty">None.</p>;
  return (
    <div class="tiles" data-testid={props.testId}>
      {keys.map((k) => (
        <div class="tile" key={k}>
          <div class="tile-value">{num(props.counts[k])}</div>
          <div class="tile-label">
            <Badge state={k} />
          </div>
        </div>
      ))}
    </div>
  );
}

export function countBy<R>(rows: readonly R[], key: (r: R) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[key(r)] = (out[key(r)] ?? 0) + 1;
  return out;
}
