/**
 * Hash routes (`#/jobs/<id>?x=y`): the head serves one page at `/`, and a route never reaches the
 * server (nor does the `#token=` the page is first opened with).
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** The path's parts: `#/runs/exp1` -> ['runs', 'exp1']. */
  readonly parts: readonly string[];
  readonly query: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const q = hash.indexOf('?');
  const path = q < 0 ? hash : hash.slice(0, q);
  return {
    parts: path
      .split('/')
      .filter(Boolean)
      .map((p) => decodeURIComponent(p)),
    query: new URLSearchParams(q < 0 ? '' : hash.slice(q + 1)),
  };
}

/** The link to a route: `href('runs', name, { path })` -> `#/runs/<name>?path=...`. */
export function href(...parts: (string | Record<string, string | undefined>)[]): string {
  const query = parts.find((p): p is Record<string, string | undefined> => typeof p === 'object');
  const path = parts.filter((p): p is string => typeof p === 'string').map(encodeURIComponent);
  const qs = query
    ? new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString()
    : '';
  return `#/${path.join('/')}${qs ? `?${qs}` : ''}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
