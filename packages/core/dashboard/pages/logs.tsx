/**
 * Logs through the head (the logs API, `/api/v0/logs`): the nodes, a node's log files by category,
 * and a log (a file, an actor's or a task's stdout and stderr, a submitted job's driver log) with
 * its last lines, followed live (log-view.tsx).
 */
import type { JSX } from 'preact';
import { usePoll } from '../api.js';
import { Id, Loaded, Section, Table } from '../components.js';
import { bytes, time } from '../format.js';
import { LogPanes, type LogPane } from '../log-view.js';
import { href, type Route } from '../router.js';
import type { ClusterStatus } from '../types.js';

/** `/api/v0/logs`: Ray's files by category, and ray-ts's `files` with their sizes. */
interface LogListing {
  result: boolean;
  msg: string;
  data: {
    result: Record<string, string[]>;
    node_id: string;
    files?: { name: string; size_bytes: number; mtime_ms: number; category: string }[];
  };
}

const enc = encodeURIComponent;

/** A worker's stdout and stderr (an actor's, a task's): `query` names it. */
const outAndErr = (query: string, follow: LogPane['follow']): LogPane[] => [
  { title: 'stdout', query, follow, testId: 'log-out' },
  { title: 'stderr', query: `${query}&suffix=err`, follow, testId: 'log-err' },
];

export function Logs(props: { route: Route }): JSX.Element {
  const q = props.route.query;
  const node = q.get('node') ?? undefined;
  const file = q.get('file') ?? undefined;
  const actor = q.get('actor') ?? undefined;
  const task = q.get('task') ?? undefined;
  const submission = q.get('submission') ?? undefined;
  let title: string | undefined;
  let body: JSX.Element;
  if (actor) {
    title = `actor ${actor}`;
    body = <LogPanes key={title} panes={outAndErr(`actor_id=${enc(actor)}`, 'stream')} />;
  } else if (task) {
    // The head reads a task's lines once (byte ranges of its worker's files): read again, not followed.
    title = `task ${task}`;
    const on = node ? `&node_id=${enc(node)}` : '';
    body = <LogPanes key={title} panes={outAndErr(`task_id=${enc(task)}${on}`, 'poll')} />;
  } else if (submission) {
    title = `job ${submission}`;
    const pane: LogPane = {
      title: 'driver',
      query: `submission_id=${enc(submission)}`,
      follow: 'stream',
      testId: 'log-out',
    };
    body = <LogPanes key={title} panes={[pane]} />;
  } else if (node && file) {
    title = file;
    const stream = /\.(out|err)(\.\d+)?$/.exec(file)?.[1];
    const pane: LogPane = {
      title: stream === 'out' ? 'stdout' : stream === 'err' ? 'stderr' : 'log',
      query: `node_id=${enc(node)}&filename=${enc(file)}`,
      follow: 'stream',
      testId: 'log-file',
    };
    // A worker's other stream, one click away (its name differs by the suffix only).
    const other = /^worker-.*\.(out|err)$/.test(file)
      ? file.replace(/(out|err)$/, (s) => (s === 'out' ? 'err' : 'out'))
      : '';
    body = (
      <>
        {other && (
          <p class="summary">
            The same worker's {stream === 'out' ? 'stderr' : 'stdout'}:{' '}
            <a href={href('logs', { node, file: other })}>{other}</a>
          </p>
        )}
        <LogPanes key={`${node}/${file}`} panes={[pane]} linkFile={false} />
      </>
    );
  } else body = node ? <NodeFiles node={node} /> : <NodePicker />;
  return (
    <>
      <p class="crumbs">
        <a href={href('logs')}>Logs</a>
        {node && (
          <>
            {' / '}
            <a href={href('logs', { node })}>{node}</a>
          </>
        )}
        {title && ` / ${title}`}
      </p>
      <h1>Logs</h1>
      {body}
    </>
  );
}

function NodePicker(): JSX.Element {
  const status = usePoll<ClusterStatus>('/api/cluster_status');
  return (
    <Section title="Nodes">
      <Loaded polled={status}>
        {(s) => (
          <Table
            testId="log-nodes"
            rows={s.nodes}
            rowKey={(n) => n.nodeId}
            columns={[
              { title: 'Node', kind: 'id', cell: (n) => <Id id={n.nodeId} href={href('logs', { node: n.nodeId })} /> },
              { title: 'Address', kind: 'id', cell: (n) => n.address },
              { title: 'Head', cell: (n) => (n.isHead ? 'head' : '') },
              { title: 'State', cell: (n) => n.state },
            ]}
          />
        )}
      </Loaded>
    </Section>
  );
}

/** Ray's categories, in the order a reader looks for them. */
const CATEGORY_ORDER = ['worker_out', 'worker_err', 'driver', 'raylet', 'internal'];
const CATEGORY_TITLE: Record<string, string> = {
  worker_out: 'Workers: stdout (worker_out)',
  worker_err: 'Workers: stderr (worker_err)',
  driver: 'Submitted jobs (driver)',
  raylet: 'The node (raylet)',
  internal: 'Other files (internal)',
};
const rank = (c: string) => (CATEGORY_ORDER.includes(c) ? CATEGORY_ORDER.indexOf(c) : CATEGORY_ORDER.length);

type FileRow = { name: string; size_bytes?: number; mtime_ms?: number };

function NodeFiles(props: { node: string }): JSX.Element {
  const listing = usePoll<LogListing>(`/api/v0/logs?node_id=${enc(props.node)}`);
  return (
    <Loaded polled={listing}>
      {(l) => {
        const byName = new Map((l.data.files ?? []).map((f) => [f.name, f]));
        const cats = Object.entries(l.data.result)
          .filter(([, names]) => names.length)
          .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
        if (cats.length === 0)
          return (
            <p class="empty">
              This node has no log file: it writes them when started with a log directory (ray-ts start does).
            </p>
          );
        return (
          <>
            {cats.map(([cat, names]) => (
              <Section
                key={cat}
                title={CATEGORY_TITLE[cat] ?? cat}
                aside={`${names.length} file${names.length === 1 ? '' : 's'}`}
              >
                <Table<FileRow>
                  testId={`log-files-${cat}`}
                  rows={[...names].sort().map((n) => byName.get(n) ?? { name: n })}
                  rowKey={(f) => f.name}
                  columns={[
                    {
                      title: 'File',
                      kind: 'id',
                      cell: (f) => <a href={href('logs', { node: props.node, file: f.name })}>{f.name}</a>,
                    },
                    { title: 'Size', kind: 'num', cell: (f) => bytes(f.size_bytes) },
                    { title: 'Modified', cell: (f) => time(f.mtime_ms) },
                  ]}
                />
              </Section>
            ))}
          </>
        );
      }}
    </Loaded>
  );
}
