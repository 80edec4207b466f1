/**
 * Logs through the head (the logs API: `/api/v0/logs`): a node's log files by category, and a file
 * (or an actor's, task's or job's log) with its last lines, followed live.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getText, usePoll } from '../api.js';
import { Id, Loaded, Section, Table } from '../components.js';
import { href, type Route } from '../router.js';
import type { ClusterStatus } from '../types.js';

interface LogListing {
  result: boolean;
  msg: string;
  data: { result: Record<string, string[]> };
}

const LINES = 1000;

export function Logs(props: { route: Route }): JSX.Element {
  const q = props.route.query;
  const node = q.get('node') ?? undefined;
  const file = q.get('file') ?? undefined;
  const by = (['actor', 'task', 'submission'] as const).find((k) => q.get(k));
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
        {file && ` / ${file}`}
        {by && ` / ${by} ${q.get(by)}`}
      </p>
      <h1>Logs</h1>
      {by ? (
        <LogFile
          key={`${by}=${q.get(by)}`}
          query={`${by === 'submission' ? 'submission_id' : `${by}_id`}=${enc(q.get(by)!)}`}
        />
      ) : file && node ? (
        <LogFile key={`${node}/${file}`} query={`node_id=${enc(node)}&filename=${enc(file)}`} />
      ) : node ? (
        <NodeFiles node={node} />
      ) : (
        <NodePicker />
      )}
    </>
  );
}

const enc = encodeURIComponent;

function NodePicker(): JSX.Element {
  const status = usePoll<ClusterStatus>('/api/cluster_status');
  return (
    <Section title="Nodes">
      <Loaded polled={status}>
        {(s) => (
          <Table
            rows={s.nodes}
            rowKey={(n) => n.nodeId}
            columns={[
              { title: 'Node', kind: 'id', cell: (n) => <Id id={n.nodeId} href={href('logs', { node: n.nodeId })} /> },
              { title: 'Address', kind: 'id', cell: (n) => n.address },
              { title: 'State', cell: (n) => n.state },
            ]}
          />
        )}
      </Loaded>
    </Section>
  );
}

function NodeFiles(props: { node: string }): JSX.Element {
  const files = usePoll<LogListing>(`/api/v0/logs?node_id=${enc(props.node)}`);
  return (
    <Loaded polled={files}>
      {(l) => {
        const cats = Object.entries(l.data?.result ?? {}).filter(([, f]) => f.length);
        if (cats.length === 0) return <p class="empty">This node has no log file.</p>;
        return (
          <>
            {cats.map(([cat, names]) => (
              <Section key={cat} title={cat}>
                <ul class="files">
                  {[...names].sort().map((f) => (
                    <li key={f}>
                      <a href={href('logs', { node: props.node, file: f })}>{f}</a>
                    </li>
                  ))}
                </ul>
              </Section>
            ))}
          </>
        );
      }}
    </Loaded>
  );
}

/** A log's last lines, fetched again every 2 s while "Follow" is on. */
function LogFile(props: { query: string }): JSX.Element {
  const [follow, setFollow] = useState(true);
  const [text, setText] = useState<string | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const pre = useRef<HTMLPreElement>(null);
  const path = `/api/v0/logs/file?${props.query}&lines=${LINES}`;
  const polled = usePoll<string>(follow ? path : undefined, getText);
  useEffect(() => {
    if (polled.data !== undefined) setText(polled.data);
    setError(polled.error);
  }, [polled.data, polled.error]);
  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text, follow]);
  return (
    <>
      {error && <p class="error">{error.message}</p>}
      <div class="log-bar">
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow
        </label>
        <span class="muted">last {LINES} lines</span>
      </div>
      <pre class="log" ref={pre} data-testid="log-file">
        {text ?? (error ? '' : 'Loading…')}
      </pre>
    </>
  );
}
