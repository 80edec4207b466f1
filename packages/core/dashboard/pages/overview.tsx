/** The cluster at a glance: nodes and their use, resources, waiting work, and plots over time. */
import type { JSX } from 'preact';
import { usePoll } from '../api.js';
import { Badge, Bar, Id, Loaded, Section, Table } from '../components.js';
import { bytes, isBytes, num, percent, resources } from '../format.js';
import { Plot } from '../plot.js';
import type { AutoscalerStatus, ClusterStatus, Demand, GroupDemand, History, NodeStatus } from '../types.js';

export function Overview(): JSX.Element {
  const status = usePoll<ClusterStatus>('/api/cluster_status');
  const history = usePoll<History>('/api/dashboard/history?seconds=600');
  return (
    <>
      <h1>Cluster</h1>
      <Loaded polled={status}>
        {(s) => (
          <>
            <p class="summary" data-testid="summary">
              {s.nodes.filter((n) => n.state === 'ALIVE').length} of {s.nodes.length} nodes alive
              {s.jobs && ` · ${s.jobs.running} jobs running, ${s.jobs.finished} finished`}
              {s.address && (
                <>
                  {' · GCS at '}
                  <code>{s.address}</code>
                </>
              )}
            </p>
            <Section title={`Nodes (${s.nodes.length})`}>
              <NodesTable nodes={s.nodes} />
            </Section>
            <Section title="Resources">
              <ResourcesTable used={s.resources.used} total={s.resources.total} />
            </Section>
            <Section title="Waiting work">
              <DemandList title="Pending demand" demand={s.pendingDemand} />
              <DemandList title="Infeasible (no node can ever run it)" demand={s.infeasible} />
              <DemandList title="Placement groups pending" demand={s.placementGroupsPending} />
            </Section>
            <Section title="Autoscaler">
              <Autoscaler status={s.autoscaler} />
            </Section>
          </>
        )}
      </Loaded>
      <Section title="Over the last 10 minutes">
        <Loaded polled={history}>{(h) => <OverviewPlots history={h} nodes={status.data?.nodes ?? []} />}</Loaded>
      </Section>
    </>
  );
}

function NodesTable(props: { nodes: NodeStatus[] }): JSX.Element {
  return (
    <Table
      testId="nodes"
      rows={props.nodes}
      rowKey={(n) => n.nodeId}
      columns={[
        {
          title: 'Node',
          kind: 'id',
          cell: (n) => (
            <>
              <Id id={n.nodeId} />
              {n.isHead && <span class="tag">head</span>}
            </>
          ),
        },
        { title: 'Address', kind: 'id', cell: (n) => n.address },
        { title: 'State', cell: (n) => <Badge state={n.state} /> },
        {
          title: 'CPU',
          cell: (n) => (
            <Bar percent={n.cpuPercent ?? undefined} label={n.cpuPercent === null ? '–' : `${num(n.cpuPercent)}%`} />
          ),
        },
        {
          title: 'Memory',
          cell: (n) => (
            <Bar
              percent={percent(n.memUsedBytes, n.memTotalBytes)}
              label={`${bytes(n.memUsedBytes)} / ${bytes(n.memTotalBytes)}`}
            />
          ),
        },
        {
          title: 'Object store',
          cell: (n) => (
            <Bar
              percent={percent(n.objectStoreUsedBytes, n.objectStoreBytes)}
              label={`${bytes(n.objectStoreUsedBytes)} / ${bytes(n.objectStoreBytes)}`}
            />
          ),
        },
        { title: 'Logical resources (available of total)', kind: 'wrap', cell: (n) => nodeResources(n) },
        { title: 'Logs', cell: (n) => <a href={`#/logs?node=${encodeURIComponent(n.nodeId)}`}>logs</a> },
      ]}
    />
  );
}

function nodeResources(n: NodeStatus): string {
  return Object.keys(n.resourcesTotal)
    .filter((k) => !k.startsWith('node:') && !k.startsWith('bundle_'))
    .sort()
    .map((k) => {
      const f = isBytes(k) ? bytes : num;
      return `${k} ${f(n.resourcesAvailable[k] ?? 0)}/${f(n.resourcesTotal[k])}`;
    })
    .join(', ');
}

function ResourcesTable(props: { used: Record<string, number>; total: Record<string, number> }): JSX.Element {
  const keys = Object.keys(props.total)
    .filter((k) => !k.startsWith('node:') && !k.includes('_group_'))
    .sort();
  return (
    <Table
      testId="resources"
      rows={keys}
      rowKey={(k) => k}
      columns={[
        { title: 'Resource', cell: (k) => k },
        {
          title: 'Used / total',
          cell: (k) => {
            const f = isBytes(k) ? bytes : num;
            const used = props.used[k] ?? 0;
            return <Bar percent={percent(used, props.total[k])} label={`${f(used)} / ${f(props.total[k])}`} />;
          },
        },
      ]}
    />
  );
}

/** Tasks' resource shapes (`count × shape`) and placement groups (`name: bundles, why`). */
function DemandList(props: { title: string; demand: readonly (Demand | GroupDemand)[] | undefined }): JSX.Element {
  return (
    <>
      <h3>{props.title}</h3>
      {props.demand?.length ? (
        <ul class="demand">
          {props.demand.map((d, i) => (
            <li key={i}>
              {'shape' in d ? (
                `${d.count} × ${resources(d.shape)}`
              ) : (
                <>
                  placement group <Id id={d.name || d.placementGroupId} /> ({d.strategy}):{' '}
                  {d.bundles.map(resources).join(' | ')}
                  {d.reason && <span class="muted"> — {d.reason}</span>}
                </>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p class="empty">None.</p>
      )}
    </>
  );
}

function Autoscaler(props: { status: AutoscalerStatus | null }): JSX.Element {
  const s = props.status;
  if (!s) return <p class="empty">No autoscaler runs on this head.</p>;
  return (
    <>
      <p>
        Last action: <strong>{s.lastAction ?? '–'}</strong>
      </p>
      <Table
        rows={s.nodes ?? []}
        rowKey={(n) => n.providerId}
        empty="It launched no node."
        columns={[
          { title: 'Provider id', kind: 'id', cell: (n) => n.providerId },
          { title: 'Type', cell: (n) => n.type },
          { title: 'Node', kind: 'id', cell: (n) => <Id id={n.nodeId ?? undefined} /> },
          { title: 'Why', kind: 'wrap', cell: (n) => n.reason },
        ]}
      />
    </>
  );
}

/** The series of `history` whose names start with `prefix:`, labelled by the rest of the name. */
export function seriesWith(history: History, prefix: string, label: (rest: string) => string = (r) => r) {
  return Object.keys(history.series)
    .filter((k) => k.startsWith(`${prefix}:`))
    .sort()
    .map((k) => ({ label: label(k.slice(prefix.length + 1)), values: history.series[k] }));
}

function OverviewPlots(props: { history: History; nodes: NodeStatus[] }): JSX.Element {
  const h = props.history;
  if (h.t.length === 0) return <p class="muted">No samples yet: the head samples every 2 s.</p>;
  const maxOf = (f: (n: NodeStatus) => number | null) => Math.max(1024, ...props.nodes.map((n) => f(n) ?? 0));
  return (
    <div class="plots">
      <Plot title="CPU use per node (%)" time x={h.t} series={seriesWith(h, 'cpu')} yMin={0} yMax={100} />
      <Plot
        title="Memory used per node"
        time
        x={h.t}
        series={seriesWith(h, 'mem')}
        yMin={0}
        yMax={maxOf((n) => n.memTotalBytes)}
        yFormat={bytes}
      />
      <Plot
        title="Object store used per node"
        time
        x={h.t}
        series={seriesWith(h, 'objstore')}
        yMin={0}
        yMax={maxOf((n) => n.objectStoreBytes)}
        yFormat={bytes}
      />
      <Plot title="Tasks by state" time x={h.t} series={seriesWith(h, 'tasks')} yMin={0} />
    </div>
  );
}
