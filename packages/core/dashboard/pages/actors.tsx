/** Actors: every actor the GCS knows, alive or dead, where it runs and why it died. */
import type { JSX } from 'preact';
import { rowsOf, usePoll, type StateListing } from '../api.js';
import { Badge, countBy, Counts, Id, Loaded, Section, Table } from '../components.js';
import { resources } from '../format.js';
import { href } from '../router.js';
import type { ActorRow } from '../types.js';

const RANK: Record<string, number> = { ALIVE: 0, RESTARTING: 1, PENDING_CREATION: 2, PENDING: 2, DEAD: 3 };

export function Actors(): JSX.Element {
  const actors = usePoll<StateListing<ActorRow>>('/api/v0/actors?limit=1000');
  return (
    <>
      <h1>Actors</h1>
      <Loaded polled={actors}>
        {(l) => {
          const rows = [...(rowsOf(l) ?? [])].sort(
            (a, b) => (RANK[a.state] ?? 9) - (RANK[b.state] ?? 9) || a.className.localeCompare(b.className),
          );
          return (
            <>
              <Section title="By state">
                <Counts counts={countBy(rows, (a) => a.state)} />
              </Section>
              <Section title={`Actors (${rows.length})`}>
                <Table
                  testId="actors"
                  rows={rows}
                  rowKey={(a) => a.actorId}
                  empty="No actor yet."
                  columns={[
                    { title: 'Actor id', kind: 'id', cell: (a) => a.actorId },
                    { title: 'Class', cell: (a) => a.className },
                    { title: 'Name', cell: (a) => (a.name ? `${a.namespace ? `${a.namespace}/` : ''}${a.name}` : '–') },
                    { title: 'State', cell: (a) => <Badge state={a.state} /> },
                    { title: 'Node', kind: 'id', cell: (a) => <Id id={a.nodeId} /> },
                    { title: 'Job', kind: 'id', cell: (a) => <Id id={a.jobId} /> },
                    { title: 'Restarts', kind: 'num', cell: (a) => a.numRestarts ?? '–' },
                    { title: 'Resources', kind: 'wrap', cell: (a) => resources(a.resources) },
                    { title: 'Death cause', kind: 'wrap', cell: (a) => a.deathCause || '–' },
                    { title: 'Logs', cell: (a) => <a href={href('logs', { actor: a.actorId })}>logs</a> },
                  ]}
                />
              </Section>
            </>
          );
        }}
      </Loaded>
    </>
  );
}
