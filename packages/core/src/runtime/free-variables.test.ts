import { describe, expect, it } from 'vitest';
import { freeVariablesOf, obviouslySelfContained } from './free-variables.js';

const free = (fn: string) => freeVariablesOf(fn).sort();

describe('free variables', () => {
  it('finds outer names and ignores declared ones', () => {
    expect(free('(x) => x * factor')).toEqual(['factor']);
    expect(free('function f(a, { b, c: [d] }, ...rest) { const e = a + b + d + rest.length; return e + g; }')).toEqual([
      'g',
    ]);
    expect(free('async (x = y) => { let z; try { z = await x; } catch (err) { log(err); } return z; }')).toEqual([
      'log',
      'y',
    ]);
  });
  it('handles hoisting, nested functions, classes, loops and labels', () => {
    expect(free('() => { inner(); function inner() { return v; } var v = 1; }')).toEqual([]);
    expect(free('class A extends Base { m() { return this.x + A.y + other; } static s = 1; #p = q; }')).toEqual([
      'Base',
      'other',
      'q',
    ]);
    expect(free('() => { for (const k of list) { out: for (let i = 0; i < k; i++) { if (i) break out; } } }')).toEqual([
      'list',
    ]);
    expect(free('(o) => ({ a: o.b, [key]: 1, short, m() { return 1; } })')).toEqual(['key', 'short']);
  });
  it('parses method shorthand', () => {
    expect(free('add(x) { return x + base; }')).toEqual(['base']);
  });
});

describe('quick self-containment check', () => {
  const known = new Set(['Math', 'console', 'get']);
  it('accepts simple self-contained functions without parsing', () => {
    expect(obviouslySelfContained('(x) => x * x', known)).toBe(true);
    expect(
      obviouslySelfContained(
        '(n, seed) => { let s = seed; const r = () => Math.random(); for (let i = 0; i < n; i++) s += r(); return s; }',
        known,
      ),
    ).toBe(true);
    expect(obviouslySelfContained('async (ref) => (await get(ref)).length', known)).toBe(true);
  });
  it('defers to the parser whenever in doubt', () => {
    expect(obviouslySelfContained('(x) => x * factor', known)).toBe(false);
    expect(obviouslySelfContained('(x) => x ? a : b', known)).toBe(false);
    expect(obviouslySelfContained('(x) => `${x}${y}`', known)).toBe(false);
    expect(obviouslySelfContained('(x) => ({ [k]: x })', known)).toBe(false);
    expect(obviouslySelfContained('(x) => /re/.test(x)', known)).toBe(false);
  });
});
