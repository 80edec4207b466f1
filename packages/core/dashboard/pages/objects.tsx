/** Objects: the memory summary (as `ray memory`): per node, by reference type, the largest objects. */
import type { JSX } from 'preact';
import { usePoll } from '../api.js';
import { Badge, Loaded, Section, Table } from '../components.js';
import { bytes } from '../format.js';
import type { ClusterStatus, MemorySummary } from '../types.js';

export function Objects(): JSX.Element {
  const memory = usePoll<MemorySummary>('/api/memory');
  // Objects are held by nodes and by drivers (which are not nodes): say which is which.
  const nodeIds = new Set(usePoll<ClusterStatus>('/api/cluster_status').data?.nodes.map((n) => n.nodeId));
  return (
    <>
      <h1>Objects</h1>
      <Loaded polled={memory}>
        {(m) => {
          const nodes = Object.entries(m.nodes ?? {}).sort(([a], [b]) => a.localeCompare(b));
          return (
            <>
              <p data-testid="objects-total">
                <strong>{m.total.count}</strong> objects, <strong>{bytes(m.total.bytes)}</strong> on {nodes.length} node
                {nodes.length === 1 ? '' : 's'} and drivers.
              </p>
              {nodes.map(([id, n]) => (
                <Section
                  key={id}
                  title={`${nodeIds.has(id) ? 'Node' : 'Driver'} ${id}`}
                  aside={`${n.count} objects · ${bytes(n.bytes)}`}
                >
                  <div class="two">
                    <Table
                      rows={Object.entries(n.byReferenceType).sort(([a], [b]) => a.localeCompare(b))}
                      rowKey={([t]) => t}
                      columns={[
                        { title: 'Reference type', cell: ([t]) => t },
                        { title: 'Objects', kind: 'num', cell: ([, v]) => v.count },
                        { title: 'Bytes', kind: 'num', cell: ([, v]) => bytes(v.bytes) },
                      ]}
                    />
                    <Table
                      rows={Object.entries(n.byState).sort(([a], [b]) => a.localeCompare(b))}
                      rowKey={([s]) => s}
                      columns={[
                        { title: 'State', cell: ([s]) => <Badge state={s} /> },
                        { title: 'Objects', kind: 'num', cell: ([, c]) => c },
                      ]}
                    />
                  </div>
                  <h3>Largest</h3>
                  <Table
                    rows={n.top}
                    rowKey={(o) => o.objectId}
                    columns={[
                      { title: 'Object id', kind: 'id', cell: (o) => o.objectId },
                      { title: 'Size', kind: 'num', cell: (o) => bytes(o.size) },
                      { title: 'State', cell: (o) => <Badge state={o.state} /> },
                      { title: 'Reference type', cell: (o) => o.referenceType ?? '–' },
                      { title: 'Owner node', kind: 'id', cell: (o) => o.ownerNodeId ?? '–' },
                      { title: 'Local refs', kind: 'num', cell: (o) => o.localRefs ?? 0 },
                      { title: 'Pins', kind: 'num', cell: (o) => o.pins ?? 0 },
                      { title: 'Borrowers', kind: 'num', cell: (o) => o.borrowers ?? 0 },
                    ]}
                  />
                </Section>
              ))}
            </>
          );
        }}
      </Loaded>
    </>
  );
}
