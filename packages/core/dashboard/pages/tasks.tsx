/** Tasks: counts by state and by name, and the failed ones with their errors. */
import type { JSX } from 'preact';
import { rowsOf, usePoll, type StateListing } from '../api.js';
import { Badge, countBy, Counts, Id, Loaded, Section, Table } from '../components.js';
import { duration, time } from '../format.js';
import { href } from '../router.js';
import type { TaskRow } from '../types.js';

const failed = (t: TaskRow) => t.state === 'FAILED' || t.state === 'CANCELLED';
const errorOf = (t: TaskRow) => t.errorMessage || t.error || '';
/** The task's own lines (stdout and stderr), read on its node when known. */
const logLink = (t: TaskRow) => <a href={href('logs', { task: t.taskId, node: t.nodeId })}>logs</a>;

export function Tasks(): JSX.Element {
  const tasks = usePoll<StateListing<TaskRow>>('/api/v0/tasks?limit=10000');
  return (
    <>
      <h1>Tasks</h1>
      <Loaded polled={tasks}>
        {(l) => {
          const rows = rowsOf(l) ?? [];
          const names = byName(rows);
          const failures = rows.filter(failed);
          return (
            <>
              <Section title="By state" aside={`${l.data.result.total} tasks known`}>
                <Counts counts={countBy(rows, (t) => t.state)} testId="task-states" />
              </Section>
              <Section title={`Failed (${failures.length})`}>
                <Table
                  testId="failed-tasks"
                  rows={failures}
                  rowKey={(t) => t.taskId}
                  empty="No task failed."
                  columns={[
                    { title: 'Task id', kind: 'id', cell: (t) => t.taskId },
                    { title: 'Name', cell: (t) => t.name },
                    { title: 'State', cell: (t) => <Badge state={t.state} /> },
                    { title: 'Node', kind: 'id', cell: (t) => <Id id={t.nodeId} /> },
                    { title: 'Error', kind: 'wrap', cell: (t) => <pre class="error-text">{errorOf(t) || '–'}</pre> },
                    { title: 'Logs', cell: logLink },
                  ]}
                />
              </Section>
              <Section title="By name">
                <Table
                  testId="task-names"
                  rows={names}
                  rowKey={(n) => n.name}
                  columns={[
                    { title: 'Name', cell: (n) => n.name },
                    { title: 'Type', cell: (n) => n.type },
                    ...STATES.map((s) => ({ title: s, kind: 'num' as const, cell: (n: NameRow) => n.counts[s] ?? 0 })),
                    { title: 'Total', kind: 'num', cell: (n) => n.total },
                  ]}
                />
              </Section>
              <Section title="Latest tasks">
                <Table
                  testId="tasks"
                  rows={latest(rows)}
                  rowKey={(t) => t.taskId}
                  columns={[
                    { title: 'Task id', kind: 'id', cell: (t) => t.taskId },
                    { title: 'Name', cell: (t) => t.name },
                    { title: 'State', cell: (t) => <Badge state={t.state} /> },
                    { title: 'Type', cell: (t) => t.type ?? '–' },
                    { title: 'Node', kind: 'id', cell: (t) => <Id id={t.nodeId} /> },
                    { title: 'Job', kind: 'id', cell: (t) => <Id id={t.jobId} /> },
                    { title: 'Started', cell: (t) => time(t.startTimeMs) },
                    { title: 'Duration', kind: 'num', cell: (t) => duration(t.durationMs) },
                    { title: 'Logs', cell: logLink },
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

/** The 200 tasks that started last (the listing's order where start times are unknown). */
function latest(rows: TaskRow[]): TaskRow[] {
  return rows
    .map((t, i) => ({ t, i }))
    .sort((a, b) => (b.t.startTimeMs ?? 0) - (a.t.startTimeMs ?? 0) || b.i - a.i)
    .slice(0, 200)
    .map((x) => x.t);
}

const STATES = ['PENDING_ARGS', 'PENDING_NODE', 'RUNNING', 'FINISHED', 'FAILED'];

interface NameRow {
  name: string;
  type: string;
  counts: Record<string, number>;
  total: number;
}

function byName(rows: TaskRow[]): NameRow[] {
  const m = new Map<string, NameRow>();
  for (const t of rows) {
    let n = m.get(t.name);
    if (!n) m.set(t.name, (n = { name: t.name, type: t.type ?? '', counts: {}, total: 0 }));
    const s = t.state === 'CANCELLED' ? 'FAILED' : t.state;
    n.counts[s] = (n.counts[s] ?? 0) + 1;
    n.total++;
  }
  return [...m.values()].sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
}
