/** Jobs: those submitted through the job API (with their logs, live) and every driver of the cluster. */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, rowsOf, usePoll, type StateListing } from '../api.js';
import { Badge, ErrorNote, Id, Loaded, Section, Table } from '../components.js';
import { duration, time } from '../format.js';
import { href } from '../router.js';
import type { DriverJobRow, JobRecord } from '../types.js';

export function Jobs(): JSX.Element {
  const submitted = usePoll<JobRecord[]>('/api/jobs/');
  const drivers = usePoll<StateListing<DriverJobRow>>('/api/v0/jobs');
  return (
    <>
      <h1>Jobs</h1>
      <Section title="Submitted jobs">
        <Loaded polled={submitted}>
          {(jobs) => (
            <Table
              testId="submitted-jobs"
              rows={[...jobs].sort((a, b) => b.start_time - a.start_time)}
              rowKey={(j) => j.submission_id}
              empty="No job was submitted (ray-ts job submit)."
              columns={[
                {
                  title: 'Submission id',
                  kind: 'id',
                  cell: (j) => <Id id={j.submission_id} href={href('jobs', j.submission_id)} />,
                },
                { title: 'Status', cell: (j) => <Badge state={j.status} /> },
                { title: 'Entrypoint', kind: 'wrap', cell: (j) => <code>{j.entrypoint}</code> },
                { title: 'Started', cell: (j) => time(j.start_time) },
                { title: 'Duration', kind: 'num', cell: (j) => duration((j.end_time ?? Date.now()) - j.start_time) },
                { title: 'Message', kind: 'wrap', cell: (j) => j.message },
              ]}
            />
          )}
        </Loaded>
      </Section>
      <Section title="Drivers">
        <Loaded polled={drivers}>
          {(l) => (
            <Table
              testId="drivers"
              rows={rowsOf(l) ?? []}
              rowKey={(j) => j.jobId}
              empty="No driver connected yet."
              columns={[
                { title: 'Job id', kind: 'id', cell: (j) => j.jobId },
                { title: 'State', cell: (j) => <Badge state={j.state} /> },
                { title: 'Entrypoint', kind: 'wrap', cell: (j) => <code>{j.entrypoint || '–'}</code> },
                { title: 'Driver node', kind: 'id', cell: (j) => <Id id={j.driverNodeId} /> },
                { title: 'Started', cell: (j) => time(j.startTimeMs) },
                {
                  title: 'Duration',
                  kind: 'num',
                  cell: (j) => (j.startTimeMs ? duration((j.endTimeMs || Date.now()) - j.startTimeMs) : '–'),
                },
              ]}
            />
          )}
        </Loaded>
      </Section>
    </>
  );
}

export function JobPage(props: { id: string }): JSX.Element {
  const job = usePoll<JobRecord>(`/api/jobs/${encodeURIComponent(props.id)}`);
  return (
    <>
      <p class="crumbs">
        <a href={href('jobs')}>Jobs</a> / <span class="id">{props.id}</span>
      </p>
      <h1>Job {props.id}</h1>
      <Loaded polled={job}>
        {(j) => (
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <Badge state={j.status} /> {j.message}
            </dd>
            <dt>Entrypoint</dt>
            <dd>
              <code>{j.entrypoint}</code>
            </dd>
            <dt>Started</dt>
            <dd>{time(j.start_time)}</dd>
            <dt>Ended</dt>
            <dd>{j.end_time ? time(j.end_time) : '–'}</dd>
            <dt>Exit code</dt>
            <dd>{j.exit_code ?? '–'}</dd>
            <dt>Driver pid</dt>
            <dd>{j.driver_pid ?? '–'}</dd>
          </dl>
        )}
      </Loaded>
      <Section title="Log">
        <LiveLog path={`/api/jobs/${encodeURIComponent(props.id)}/logs`} />
      </Section>
    </>
  );
}

interface LogAnswer {
  logs: string;
  truncated_bytes?: number;
}

/**
 * A job's log, appended to as it grows: the head returns the log's last bytes (and how many it
 * left out before them), so the page adds only what lies past what it shows.
 */
function LiveLog(props: { path: string }): JSX.Element {
  const pre = useRef<HTMLPreElement>(null);
  const shownEnd = useRef(0);
  const [follow, setFollow] = useState(true);
  const followRef = useRef(follow);
  followRef.current = follow;
  const polled = usePoll<LogAnswer>(props.path, getJson);
  const [bytesShown, setBytesShown] = useState(0);

  useEffect(() => {
    const el = pre.current;
    const answer = polled.data;
    if (!el || !answer) return;
    const skipped = answer.truncated_bytes ?? 0;
    // A truncated answer starts with a line of ray-ts's own saying so: not part of the log.
    const body = new TextEncoder().encode(skipped ? answer.logs.slice(answer.logs.indexOf('\n') + 1) : answer.logs);
    const end = skipped + body.length;
    if (end <= shownEnd.current) return;
    let add: string;
    if (shownEnd.current < skipped) {
      const gap = skipped - shownEnd.current;
      add = `${shownEnd.current ? '\n' : ''}[… ${gap} bytes not shown …]\n${new TextDecoder().decode(body)}`;
    } else {
      add = new TextDecoder().decode(body.subarray(shownEnd.current - skipped));
    }
    el.append(document.createTextNode(add));
    shownEnd.current = end;
    setBytesShown(end);
    if (followRef.current) el.scrollTop = el.scrollHeight;
  }, [polled.data]);

  return (
    <>
      {polled.error && <ErrorNote error={polled.error} />}
      <div class="log-bar">
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow
        </label>
        <span class="muted">{bytesShown} bytes · updated every 2 s</span>
      </div>
      <pre class="log" ref={pre} data-testid="job-log" />
    </>
  );
}
