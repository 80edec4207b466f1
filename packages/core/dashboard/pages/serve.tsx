/** Serve: applications, their deployments and replicas with their health; request rate and latency. */
import type { JSX } from 'preact';
import { usePoll } from '../api.js';
import { Badge, Id, Loaded, Section, Table } from '../components.js';
import { num, time } from '../format.js';
import { Plot } from '../plot.js';
import type { History, ServeApplication, ServeReplica, ServeStatus } from '../types.js';
import { seriesWith } from './overview.js';

export function Serve(): JSX.Element {
  const status = usePoll<ServeStatus>('/api/serve/applications/');
  const history = usePoll<History>('/api/dashboard/history?seconds=600');
  return (
    <>
      <h1>Serve</h1>
      <Loaded polled={status}>
        {(s) => {
          const apps = Object.entries(s.applications ?? {});
          if (apps.length === 0) return <p class="empty">Serve runs no application on this cluster.</p>;
          return (
            <>
              {apps.map(([name, app]) => (
                <Application key={name} name={name} app={app} />
              ))}
              <Proxies proxies={s.proxies} />
            </>
          );
        }}
      </Loaded>
      <Section title="Requests over the last 10 minutes">
        <Loaded polled={history}>{(h) => <ServePlots history={h} />}</Loaded>
      </Section>
    </>
  );
}

function Application(props: { name: string; app: ServeApplication }): JSX.Element {
  const { app } = props;
  const deployments = Object.entries(app.deployments ?? {});
  return (
    <Section title={`Application ${props.name}`} aside={<Badge state={app.status} />}>
      <p class="muted">
        Route prefix <code>{app.route_prefix ?? '–'}</code>
        {app.message ? ` · ${app.message}` : ''}
      </p>
      {deployments.map(([dname, d]) => {
        const replicas = d.replicas ?? [];
        return (
          <div class="deployment" key={dname}>
            <h3>
              Deployment {dname} <Badge state={d.status} />{' '}
              <span class="muted">
                {replicas.filter((r) => r.state === 'RUNNING').length}/{replicas.length} replicas running
              </span>
            </h3>
            {d.message && <p class="muted">{d.message}</p>}
            <Table
              testId="replicas"
              rows={replicas}
              rowKey={(r) => r.replica_id}
              empty="No replica."
              columns={[
                { title: 'Replica', kind: 'id', cell: (r) => r.replica_id },
                { title: 'State', cell: (r) => <Badge state={r.state} /> },
                { title: 'Node', kind: 'id', cell: (r) => <Id id={r.node_id} /> },
                { title: 'Actor', kind: 'id', cell: (r) => <Id id={r.actor_id} /> },
                { title: 'Started', cell: (r) => time(typeof r.start_time_s === 'number' ? r.start_time_s * 1000 : 0) },
                { title: 'Ongoing requests', kind: 'num', cell: (r) => num(r.ongoing_requests) },
                { title: 'Details', kind: 'wrap', cell: (r) => extra(r) },
              ]}
            />
          </div>
        );
      })}
    </Section>
  );
}

const SHOWN = new Set(['replica_id', 'state', 'node_id', 'actor_id', 'start_time_s', 'ongoing_requests']);
function extra(r: ServeReplica): string {
  const rest = Object.entries(r).filter(([k, v]) => !SHOWN.has(k) && v !== undefined && v !== null && v !== '');
  return rest.length
    ? rest.map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')
    : '–';
}

function Proxies(props: { proxies: ServeStatus['proxies'] }): JSX.Element | null {
  const rows = Object.entries(props.proxies ?? {});
  if (rows.length === 0) return null;
  return (
    <Section title="Proxies">
      <Table
        rows={rows}
        rowKey={([id]) => id}
        columns={[
          { title: 'Node', kind: 'id', cell: ([id, p]) => p.node_id ?? id },
          { title: 'Status', cell: ([, p]) => <Badge state={p.status} /> },
          { title: 'HTTP port', kind: 'num', cell: ([, p]) => num(p.http_port) },
        ]}
      />
    </Section>
  );
}

function ServePlots(props: { history: History }): JSX.Element {
  const h = props.history;
  const rps = seriesWith(h, 'serve_rps');
  if (rps.length === 0) return <p class="muted">No request was served yet.</p>;
  const p50 = seriesWith(h, 'serve_p50_ms', (d) => `${d} p50`);
  const p99 = seriesWith(h, 'serve_p99_ms', (d) => `${d} p99`);
  return (
    <div class="plots">
      <Plot title="Requests per second by deployment" time x={h.t} series={rps} yMin={0} />
      <Plot title="Latency (ms) by deployment" time x={h.t} series={[...p50, ...p99]} yMin={0} />
    </div>
  );
}
