/**
 * The dashboard's access to the head: the cluster token (from the URL fragment `#token=...` once,
 * then sessionStorage), JSON and text fetches that send it, and `usePoll`, which refetches a route
 * every 2 s while a page shows it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

const TOKEN_KEY = 'ray-ts-dashboard-token';
/** How often live pages refetch (the contract: every 2 s). */
export const POLL_MS = 2000;

/**
 * Takes `token=...` out of the URL fragment (where `ray-ts dashboard` puts it: a
 * fragment never reaches a server or a proxy's log) into sessionStorage, and cleans the URL, so
 * the token is not left in the address bar, the history or a copied link.
 */
export function adoptTokenFromUrl(): void {
  const hash = location.hash.replace(/^#/, '');
  const m = /(?:^|[&?])token=([^&]*)/.exec(hash);
  if (!m) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
  const rest = hash.replace(m[0], '').replace(/^[&?]/, '').replace(/[?&]$/, '');
  history.replaceState(null, '', location.pathname + (rest.startsWith('/') ? `#${rest}` : '#/'));
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
  for (const l of authListeners) l(false);
}

function authHeaders(): Record<string, string> {
  const t = sessionStorage.getItem(TOKEN_KEY);
  return t ? { authorization: `Bearer ${t}` } : {};
}

type AuthListener = (needed: boolean) => void;
const authListeners = new Set<AuthListener>();

/** Calls `l(true)` when the head refuses the token (401), `l(false)` when a new one is set. */
export function onAuthNeeded(l: AuthListener): () => void {
  authListeners.add(l);
  return () => authListeners.delete(l);
}

/** An answer of the head that was not 2xx: its status and the `{error}` text it sent. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** What the head said, without the path (the message has both). */
    readonly detail = message,
  ) {
    super(message);
  }
}

async function request(path: string, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { headers: authHeaders(), signal });
  } catch (err) {
    if (signal?.aborted) throw err;
    // The browser got no answer at all: the head stopped, or the network between is down.
    throw new ApiError(0, `The head does not answer (${(err as Error).message}); this page tries again every 2 s.`);
  }
  if (res.ok) return res;
  if (res.status === 401) for (const l of authListeners) l(true);
  let msg = `${res.status} ${res.statusText}`;
  try {
    const body = await res.text();
    try {
      const j = JSON.parse(body) as { error?: string; msg?: string };
      msg = j.error ?? j.msg ?? body;
    } catch {
      msg = body || msg; // not JSON: the text is the message
    }
  } catch {
    // the body could not be read: the status line says enough
  }
  throw new ApiError(res.status, `${path}: ${msg}`, msg);
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await request(path)).json()) as T;
}

export async function getText(path: string): Promise<string> {
  return (await request(path)).text();
}

/**
 * A text answer read as it arrives (a followed log: `media_type=stream`): the answer's headers,
 * then `onText` for each piece of text, until the head ends the answer or `signal` aborts (then
 * it rejects with the abort).
 */
export async function readTextStream(
  path: string,
  signal: AbortSignal,
  onHeaders: (h: Headers) => void,
  onText: (text: string) => void,
): Promise<void> {
  const res = await request(path, signal);
  onHeaders(res.headers);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
    if (text) onText(text);
    if (done) return;
  }
}

export async function getBlob(path: string): Promise<Blob> {
  return (await request(path)).blob();
}

/** A fetch with the token that hands the answer to the browser as a download. */
export async function download(path: string, filename: string): Promise<void> {
  const blob = await getBlob(path);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export interface Polled<T> {
  /** The last answer (kept while a refetch runs or fails). */
  readonly data: T | undefined;
  /** The last fetch's error, cleared by the next success. */
  readonly error: Error | undefined;
}

/**
 * Fetches `path` now and again `intervalMs` after each answer, while the component is mounted and
 * `path` is set (undefined: nothing to fetch). A change of `path` starts over.
 */
export function usePoll<T>(
  path: string | undefined,
  load: (p: string) => Promise<T> = getJson,
  intervalMs = POLL_MS,
): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ data: undefined, error: undefined });
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    setState({ data: undefined, error: undefined });
    if (path === undefined) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      // A tab in the background asks the head for nothing; it catches up when shown again.
      if (document.hidden) {
        timer = setTimeout(() => void tick(), intervalMs);
        return;
      }
      try {
        const data = await loadRef.current(path);
        if (!stopped) setState({ data, error: undefined });
      } catch (err) {
        if (!stopped) setState((s) => ({ data: s.data, error: err as Error }));
      }
      if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [path, intervalMs]);
  return state;
}

/** Ray's state API answer (`/api/v0/<kind>`). */
export interface StateListing<R> {
  result: boolean;
  msg: string;
  data: { result: { total: number; num_after_truncation: number; num_filtered: number; result: R[] } };
}

/** The rows of a state API listing. */
export const rowsOf = <R>(l: StateListing<R> | undefined): R[] | undefined => l?.data?.result?.result;
