/**
 * A log read through the head (`/api/v0/logs/file`): its last lines, then, while "Follow" is on,
 * what is written after, without a reload.
 *
 * Following reads the head's answer as it comes (`media_type=stream`): the head sends the last
 * lines, then each new piece as its node's file grows, across rotations, on one request. Polling
 * with `offset` instead would need the byte where the first read ended (the head answers the last
 * lines, not their offset) and would lose its place when the file rotates; the stream has neither
 * problem and shows a line as soon as the node wrote it, not up to 2 s later. A task's log is the
 * exception: the head reads it once (its byte ranges in the worker's file), so it is read again
 * every 2 s instead. A read that fails (the head restarted, the log not written yet) is tried
 * again every 2 s while following, and the text shown is replaced by what that read gets.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, POLL_MS, readTextStream } from './api.js';
import { ErrorNote, Id, Section } from './components.js';
import { href } from './router.js';

/** How many lines a read starts with (the API's default). */
export const LOG_LINES = 1000;
/** The most text a pane keeps while following (its end; earlier lines are dropped from the view). */
const MAX_CHARS = 2_000_000;

/** One log to show. */
export interface LogPane {
  readonly title: string;
  /** The query naming it: `actor_id=...&suffix=err`, `node_id=...&filename=...`. */
  readonly query: string;
  /** `stream`: followed on one request; `poll`: read again every 2 s (a task's log). */
  readonly follow: 'stream' | 'poll';
  readonly testId: string;
}

interface LogState {
  readonly text: string | undefined;
  readonly error: Error | undefined;
  /** Where the head read it: its node and file (the `x-ray-ts-*` headers). */
  readonly nodeId?: string;
  readonly file?: string;
  /** Earlier text was dropped to keep the pane under {@link MAX_CHARS}. */
  readonly cut?: boolean;
}

function keepEnd(text: string): { text: string; cut: boolean } {
  if (text.length <= MAX_CHARS) return { text, cut: false };
  const from = text.indexOf('\n', text.length - MAX_CHARS);
  return { text: text.slice(from + 1), cut: true };
}

function useLog(pane: LogPane, follow: boolean): LogState {
  const [state, setState] = useState<LogState>({ text: undefined, error: undefined });
  const loaded = useRef(false);
  useEffect(() => {
    // Stopping a follow keeps what is shown; reading starts when none was read yet.
    if (!follow && loaded.current) return;
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stream = follow && pane.follow === 'stream';
    const path = `/api/v0/logs/file?${pane.query}&lines=${LOG_LINES}${stream ? '&media_type=stream' : ''}`;
    const read = async () => {
      // A task's log in a background tab is read again when the tab shows; a stream stays open.
      if (!stream && follow && document.hidden) {
        timer = setTimeout(() => void read(), POLL_MS);
        return;
      }
      let text = '';
      let cut = false;
      let where: Pick<LogState, 'nodeId' | 'file'> = {};
      try {
        await readTextStream(
          path,
          ac.signal,
          (h) => {
            loaded.current = true;
            where = { nodeId: h.get('x-ray-ts-node-id') ?? undefined, file: h.get('x-ray-ts-log-file') ?? undefined };
            // What was shown stays until the first piece replaces it (no blank flash on a re-read).
            if (stream) setState((s) => ({ ...s, text: s.text ?? '', error: undefined, ...where }));
          },
          (piece) => {
            ({ text, cut } = keepEnd(text + piece));
            if (stream) setState({ text, cut, error: undefined, ...where });
          },
        );
        setState({ text, cut, error: undefined, ...where });
      } catch (err) {
        if (ac.signal.aborted) return;
        setState((s) => ({ ...s, error: err as Error }));
      }
      // The head ended a followed answer (or it failed): read it again in a moment.
      if (follow && !ac.signal.aborted) timer = setTimeout(() => void read(), POLL_MS);
    };
    void read();
    return () => {
      ac.abort();
      clearTimeout(timer);
    };
  }, [pane.query, pane.follow, follow]);
  return state;
}

/** A log's text with where it was read; kept scrolled to its end while following (unless scrolled up). */
function LogText(props: { pane: LogPane; follow: boolean; linkFile: boolean }): JSX.Element {
  const { text, error, nodeId, file, cut } = useLog(props.pane, props.follow);
  const pre = useRef<HTMLPreElement>(null);
  const atEnd = useRef(true);
  useEffect(() => {
    if (props.follow && atEnd.current && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text, props.follow]);
  // A log not written yet (an actor that printed nothing to stderr) is a fact, not a failure.
  const missing = error instanceof ApiError && error.status === 404;
  return (
    <Section
      title={props.pane.title}
      aside={
        nodeId &&
        file && (
          <>
            node <Id id={nodeId} href={href('logs', { node: nodeId })} />{' '}
            {props.linkFile ? <a href={href('logs', { node: nodeId, file })}>{file}</a> : file}
          </>
        )
      }
    >
      {error &&
        (missing ? (
          <p class="empty" data-testid={`${props.pane.testId}-missing`}>
            {(error as ApiError).detail}
            {props.follow && ' It shows here once written.'}
          </p>
        ) : (
          <ErrorNote error={error} />
        ))}
      {cut && <p class="muted">Earlier lines are no longer shown here: the page keeps the last 2 MB.</p>}
      {(text !== undefined || !error) && (
        <pre
          class="log"
          ref={pre}
          data-testid={props.pane.testId}
          onScroll={(e) => {
            const el = e.currentTarget;
            atEnd.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          }}
        >
          {text ?? 'Loading…'}
        </pre>
      )}
    </Section>
  );
}

/** One or more logs (an actor's stdout and stderr) under one "Follow" toggle, on by default. */
export function LogPanes(props: { panes: readonly LogPane[]; linkFile?: boolean }): JSX.Element {
  const [follow, setFollow] = useState(true);
  const polled = props.panes.some((p) => p.follow === 'poll');
  return (
    <>
      <div class="log-bar">
        <label>
          <input
            type="checkbox"
            data-testid="log-follow"
            checked={follow}
            onChange={(e) => setFollow(e.currentTarget.checked)}
          />{' '}
          Follow
        </label>
        <span class="muted">
          the last {LOG_LINES.toLocaleString('en')} lines
          {follow && (polled ? ', read again every 2 s' : ', then new lines as they are written')}
        </span>
      </div>
      {props.panes.map((p) => (
        <LogText key={p.query} pane={p} follow={follow} linkFile={props.linkFile ?? true} />
      ))}
    </>
  );
}
