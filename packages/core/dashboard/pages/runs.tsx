/** Tune experiments and Train runs: the list, and a run's trials with their metric curves. */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { usePoll } from '../api.js';
import { Badge, Loaded, Section, Table } from '../components.js';
import { num, show, time } from '../format.js';
import { Plot } from '../plot.js';
import { href } from '../router.js';
import type { RunDetail, RunSummary, TrialDetail } from '../types.js';

export function Runs(): JSX.Element {
  const runs = usePoll<RunSummary[]>('/api/dashboard/runs');
  return (
    <>
      <h1>Runs</h1>
      <p class="muted">
        Tune experiments and Train runs under the head's storage folders (<code>~/ray_ts_results</code>,{' '}
        <code>RAY_TS_DASHBOARD_RUNS_PATHS</code>) and those their drivers registered.
      </p>
      <Loaded polled={runs}>
        {(rows) => (
          <Table
            testId="runs"
            rows={[...rows].sort((a, b) => b.startTime - a.startTime)}
            rowKey={(r) => r.path}
            empty="No run found."
            columns={[
              { title: 'Name', cell: (r) => <a href={href('runs', r.name, { path: r.path })}>{r.name}</a> },
              { title: 'Kind', cell: (r) => (r.kind === 'tune' ? 'Tune' : 'Train') },
              { title: 'Status', cell: (r) => <Badge state={r.status} /> },
              { title: 'Trials', kind: 'num', cell: (r) => r.trials },
              {
                title: 'Best trial',
                cell: (r) =>
                  r.bestTrial ? `${r.bestTrial.trialId}: ${r.bestTrial.metric} ${num(r.bestTrial.value, 4)}` : '–',
              },
              { title: 'Started', cell: (r) => time(r.startTime) },
              { title: 'Folder', kind: 'id', cell: (r) => r.path },
            ]}
          />
        )}
      </Loaded>
    </>
  );
}

export function RunPage(props: { name: string; path: string | undefined }): JSX.Element {
  const q = props.path ? `?path=${encodeURIComponent(props.path)}` : '';
  const run = usePoll<RunDetail>(`/api/dashboard/runs/${encodeURIComponent(props.name)}${q}`);
  return (
    <>
      <p class="crumbs">
        <a href={href('runs')}>Runs</a> / {props.name}
      </p>
      <h1>{props.name}</h1>
      <Loaded polled={run}>{(r) => <RunBody run={r} />}</Loaded>
    </>
  );
}

function RunBody(props: { run: RunDetail }): JSX.Element {
  const { run } = props;
  const metrics = [...new Set(run.trials.flatMap((t) => Object.keys(t.metrics)))].sort();
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const metric =
    chosen && metrics.includes(chosen)
      ? chosen
      : run.best?.metric && metrics.includes(run.best.metric)
        ? run.best.metric
        : metrics[0];
  const best = run.best ? run.trials.find((t) => t.trialId === run.best!.trialId) : undefined;
  const configKeys = [...new Set(run.trials.flatMap((t) => Object.keys(t.config ?? {})))].sort();
  return (
    <>
      <p class="muted">
        {run.kind === 'tune' ? 'Tune experiment' : 'Train run'} in <code>{run.path}</code>
      </p>
      {best && run.best && (
        <Section title="Best trial">
          <p data-testid="best-trial">
            <strong>{best.trialId}</strong> ({run.best.mode} {run.best.metric}:{' '}
            {num(best.lastResult?.[run.best.metric] as number, 5)}) with {JSON.stringify(best.config)}
          </p>
        </Section>
      )}
      <Section
        title="Metrics over iterations"
        aside={
          metrics.length > 1 && (
            <select value={metric} onChange={(e) => setChosen(e.currentTarget.value)} aria-label="metric">
              {metrics.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          )
        }
      >
        {metric ? <MetricPlot metric={metric} trials={run.trials} /> : <p class="empty">No numeric metric yet.</p>}
      </Section>
      <Section title={`Trials (${run.trials.length})`}>
        <Table
          testId="trials"
          rows={run.trials}
          rowKey={(t) => t.trialId}
          columns={[
            {
              title: 'Trial',
              kind: 'id',
              cell: (t) => (
                <>
                  {t.trialId}
                  {t.trialId === run.best?.trialId && <span class="tag">best</span>}
                </>
              ),
            },
            { title: 'Status', cell: (t) => <Badge state={t.status} /> },
            ...configKeys.map((k) => ({
              title: k,
              kind: 'num' as const,
              cell: (t: TrialDetail) => show(t.config?.[k]),
            })),
            ...(metric
              ? [
                  {
                    title: `${metric} (last)`,
                    kind: 'num' as const,
                    cell: (t: TrialDetail) => show(t.lastResult?.[metric]),
                  },
                ]
              : []),
            {
              title: 'Iterations',
              kind: 'num',
              cell: (t) => show(t.lastResult?.trainingIteration ?? t.lastResult?.training_iteration),
            },
            { title: 'Error', kind: 'wrap', cell: (t) => (t.error ? <pre class="error-text">{t.error}</pre> : '–') },
          ]}
        />
      </Section>
    </>
  );
}

/** One curve per trial: the metric's value at each iteration it reported. */
function MetricPlot(props: { metric: string; trials: TrialDetail[] }): JSX.Element {
  const xs = [...new Set(props.trials.flatMap((t) => (t.metrics[props.metric] ?? []).map(([i]) => i)))].sort(
    (a, b) => a - b,
  );
  // The legend names each trial by the config keys that differ between trials (the searched ones).
  const varying = [...new Set(props.trials.flatMap((t) => Object.keys(t.config ?? {})))].filter(
    (k) => new Set(props.trials.map((t) => JSON.stringify(t.config?.[k]))).size > 1,
  );
  const series = props.trials
    .filter((t) => t.metrics[props.metric]?.length)
    .map((t) => {
      const at = new Map(t.metrics[props.metric]);
      const config = varying.map((k) => `${k}=${show(t.config?.[k])}`).join(' ');
      return { label: config ? `${t.trialId} ${config}` : t.trialId, values: xs.map((x) => at.get(x) ?? null) };
    });
  return <Plot title={props.metric} x={xs} series={series} xLabel="iteration" spanGaps height={280} />;
}
