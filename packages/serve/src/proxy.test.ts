import { describe, expect, it } from 'vitest';
import { matchRoute } from './proxy.js';
import type { RoutingTable } from './wire.js';

function table(...prefixes: (string | null)[]): RoutingTable {
  return {
    version: 1,
    apps: prefixes.map((routePrefix, i) => ({ name: `app${i}`, routePrefix, ingress: `app${i}#Ingress` })),
    deployments: {},
  };
}

const nameOf = (t: RoutingTable, path: string): string | undefined => matchRoute(t, path)?.name;

describe('matchRoute', () => {
  it('picks the longest matching prefix, whatever the order of the apps', () => {
    const t = table('/', '/api', '/api/v2');
    expect(nameOf(t, '/api/v2/items')).toBe('app2');
    expect(nameOf(t, '/api/v1/items')).toBe('app1');
    expect(nameOf(t, '/other')).toBe('app0');
    const reversed = table('/api/v2', '/api', '/');
    expect(nameOf(reversed, '/api/v2/items')).toBe('app0');
    expect(nameOf(reversed, '/api/v1')).toBe('app1');
  });

  it("matches a prefix exactly or at a '/' boundary", () => {
    const t = table('/api');
    expect(nameOf(t, '/api')).toBe('app0');
    expect(nameOf(t, '/api/')).toBe('app0');
    expect(nameOf(t, '/api/x')).toBe('app0');
    expect(nameOf(t, '/apix')).toBeUndefined();
    expect(nameOf(t, '/ap')).toBeUndefined();
    expect(nameOf(t, '/')).toBeUndefined();
  });

  it("lets '/' catch every path no other prefix matches", () => {
    const t = table('/api', '/');
    expect(nameOf(t, '/')).toBe('app1');
    expect(nameOf(t, '/apix')).toBe('app1');
    expect(nameOf(t, '/a/b/c')).toBe('app1');
  });

  it('skips apps without an HTTP route (null prefix)', () => {
    expect(nameOf(table(null), '/')).toBeUndefined();
    expect(nameOf(table(null, '/api'), '/api/x')).toBe('app1');
    expect(nameOf(table(null, '/'), '/x')).toBe('app1');
  });

  it('finds nothing in an empty or missing table', () => {
    expect(matchRoute(table(), '/')).toBeUndefined();
    expect(matchRoute(undefined, '/')).toBeUndefined();
  });
});
