/** Placement groups: their strategy, state, bundles and the nodes the bundles are on. */
import type { JSX } from 'preact';
import { rowsOf, usePoll, type StateListing } from '../api.js';
import { Badge, Id, Loaded, Section, Table } from '../components.js';
import { resources } from '../format.js';
import type { GroupRow } from '../types.js';

export function PlacementGroups(): JSX.Element {
  const groups = usePoll<StateListing<GroupRow>>('/api/v0/placement_groups?limit=1000');
  return (
    <>
      <h1>Placement groups</h1>
      <Loaded polled={groups}>
        {(l) => {
          const rows = rowsOf(l) ?? [];
          return (
            <Section title={`Placement groups (${rows.length})`}>
              <Table
                testId="placement-groups"
                rows={rows}
                rowKey={(g) => g.placementGroupId}
                empty="No placement group."
                columns={[
                  { title: 'Id', kind: 'id', cell: (g) => g.placementGroupId },
                  { title: 'Name', cell: (g) => g.name || '–' },
                  { title: 'Strategy', cell: (g) => g.strategy },
                  { title: 'State', cell: (g) => <Badge state={g.state} /> },
                  {
                    title: 'Bundles (resources → node)',
                    kind: 'wrap',
                    cell: (g) => (
                      <ol class="bundles">
                        {g.bundles.map((b, i) => (
                          <li key={i}>
                            {resources(b)} → <Id id={g.bundleNodes[i] || undefined} />
                          </li>
                        ))}
                      </ol>
                    ),
                  },
                  { title: 'Why it waits', kind: 'wrap', cell: (g) => g.reason || '–' },
                ]}
              />
            </Section>
          );
        }}
      </Loaded>
    </>
  );
}
