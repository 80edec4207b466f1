/** The timeline: Chrome's trace format of the tasks that ran, to download or to open in Perfetto. */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { download, getBlob } from '../api.js';
import { ErrorNote } from '../components.js';

const PERFETTO = 'https://ui.perfetto.dev';

export function Timeline(): JSX.Element {
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const run = (fn: () => Promise<void>) => async () => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const name = `ray-ts-timeline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  return (
    <>
      <h1>Timeline</h1>
      <p>
        Every task and actor call that ran, per node and worker, in Chrome's trace format (what{' '}
        <code>ray-ts timeline</code> writes).
      </p>
      <p class="buttons">
        <button type="button" disabled={busy} onClick={run(() => download('/api/timeline', name))}>
          Download the timeline
        </button>
        <button type="button" disabled={busy || !navigator.onLine} onClick={run(() => openInPerfetto(name))}>
          Open in Perfetto
        </button>
      </p>
      {!navigator.onLine && <p class="muted">This browser is offline: open the downloaded file in Perfetto later.</p>}
      {error && <ErrorNote error={error} />}
      <p class="muted">
        Or open the downloaded file at <a href={PERFETTO}>ui.perfetto.dev</a> (<em>Open trace file</em>) or in Chrome's{' '}
        <code>chrome://tracing</code>. The trace stays in this browser: Perfetto opens it locally.
      </p>
    </>
  );
}

/**
 * Opens Perfetto's UI in a new tab and hands it the trace (Perfetto's postMessage protocol: PING
 * until it answers PONG, then the buffer). The page's own policy only limits what it fetches.
 */
async function openInPerfetto(title: string): Promise<void> {
  const win = window.open(PERFETTO);
  if (!win) throw new Error('The browser blocked the new tab: allow pop-ups for this page, or download the timeline.');
  const buffer = await (await getBlob('/api/timeline')).arrayBuffer();
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const ping = setInterval(() => {
      if (Date.now() - started > 20_000) {
        done();
        reject(new Error(`${PERFETTO} did not answer within 20 s: download the timeline and open it there.`));
      } else win.postMessage('PING', PERFETTO);
    }, 100);
    const onMessage = (e: MessageEvent) => {
      if (e.origin !== PERFETTO || e.data !== 'PONG') return;
      done();
      win.postMessage({ perfetto: { buffer, title } }, PERFETTO);
      resolve();
    };
    const done = () => {
      clearInterval(ping);
      removeEventListener('message', onMessage);
    };
    addEventListener('message', onMessage);
  });
}
