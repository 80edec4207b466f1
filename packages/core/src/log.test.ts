import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { checkLogSettings, createLogger, getLogger, reloadLogSettings, type LogIds, type LogSettings } from './log.js';

function setup(settings: LogSettings, ids: LogIds = {}) {
  const lines: string[] = [];
  const log = createLogger('ray-ts.test', {
    settings: () => settings,
    ids: () => ids,
    write: (line) => lines.push(line),
    now: () => new Date('2026-01-02T03:04:05.678Z'),
  });
  return { log, lines };
}

describe('getLogger: levels', () => {
  it('drops lines below the level and keeps the rest', () => {
    const { log, lines } = setup({ level: 'warn', format: 'text' });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines).toEqual(['ray-ts.test: WARNING: w', 'ray-ts.test: ERROR: e']);
    expect(log.isEnabledFor('info')).toBe(false);
    expect(log.isEnabledFor('error')).toBe(true);
  });

  it('does not format a dropped line (its fields are never read)', () => {
    const { log, lines } = setup({ level: 'info', format: 'json' });
    const fields = {
      get costly(): never {
        throw new Error('read a field of a dropped line');
      },
    };
    log.debug('d', fields);
    expect(lines).toEqual([]);
  });

  it('reads levels and formats case-insensitively, warning about an unknown value and using the default', () => {
    expect(checkLogSettings('DEBUG', 'JSON')).toEqual({ settings: { level: 'debug', format: 'json' }, problems: [] });
    expect(checkLogSettings('warning', 'text').settings.level).toBe('warn');
    const { settings, problems } = checkLogSettings('verbose', 'yaml');
    expect(settings).toEqual({ level: 'info', format: 'text' });
    expect(problems).toEqual([
      "RAY_TS_LOG_LEVEL='verbose' is not a level: set debug, info, warn or error. Using info.",
      "RAY_TS_LOG_FORMAT='yaml' is not a format: set text or json. Using text.",
    ]);
  });
});

describe('getLogger: text lines', () => {
  it('shows the logger, the level and the fields after the message', () => {
    const { log, lines } = setup({ level: 'info', format: 'text' });
    log.info('scaling', { app: 'default', replicas: 3, why: 'queue is long', extra: undefined });
    expect(lines).toEqual(['ray-ts.test: INFO: scaling (app=default, replicas=3, why="queue is long")']);
  });

  it("adds an error field's stack below an error line, and only its message to a warning", () => {
    const { log, lines } = setup({ level: 'info', format: 'text' });
    const err = new TypeError('bad input');
    log.warn('retrying', { err });
    log.error('failed', { err });
    expect(lines[0]).toBe('ray-ts.test: WARNING: retrying (err=TypeError: bad input)');
    expect(lines[1]).toMatch(/^ray-ts\.test: ERROR: failed \(err=TypeError: bad input\)\nTypeError: bad input\n\s+at /);
  });
});

describe('getLogger: JSON lines', () => {
  it('is one object a line: time, level, logger, message, the ids known and the fields', () => {
    const ids = { node_id: 'node-1', worker_id: 'worker-2', job_id: 'job-3', task_id: 'task-4', actor_id: undefined };
    const { log, lines } = setup({ level: 'debug', format: 'json' }, ids);
    log.debug('hello', { rows: 10, big: 2n ** 70n });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual({
      ts: '2026-01-02T03:04:05.678Z',
      level: 'DEBUG',
      logger: 'ray-ts.test',
      message: 'hello',
      node_id: 'node-1',
      worker_id: 'worker-2',
      job_id: 'job-3',
      task_id: 'task-4',
      rows: 10,
      big: '1180591620717411303424',
    });
  });

  it('keeps its own keys over fields of the same name, and errors as name, message and stack', () => {
    const { log, lines } = setup({ level: 'info', format: 'json' });
    log.warn('the message', { message: 'not this', level: 'nor this', err: new RangeError('too far') });
    const o = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(o.message).toBe('the message');
    expect(o.level).toBe('WARNING');
    expect(o.err).toMatchObject({
      name: 'RangeError',
      message: 'too far',
      stack: expect.stringContaining('RangeError'),
    });
  });

  it('keeps a line whose field JSON cannot hold (a cycle), with that field as text', () => {
    const { log, lines } = setup({ level: 'info', format: 'json' });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    log.error('cyclic', { cyclic });
    const o = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(o.message).toBe('cyclic');
    expect(o.cyclic).toBe('[object Object]');
  });
});

describe('getLogger: settings from the environment', () => {
  it('warns once about an unknown level, then logs at the default level', () => {
    const saved = process.env.RAY_TS_LOG_LEVEL;
    const said: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => void said.push(line));
    onTestFinished(() => {
      spy.mockRestore();
      if (saved === undefined) delete process.env.RAY_TS_LOG_LEVEL;
      else process.env.RAY_TS_LOG_LEVEL = saved;
      reloadLogSettings();
    });
    process.env.RAY_TS_LOG_LEVEL = 'verbose';
    reloadLogSettings();
    const log = getLogger('ray-ts.test-env');
    log.debug('hidden');
    log.info('first');
    log.info('second');
    expect(said).toEqual([
      "ray-ts.core: WARNING: RAY_TS_LOG_LEVEL='verbose' is not a level: set debug, info, warn or error. Using info.",
      'ray-ts.test-env: INFO: first',
      'ray-ts.test-env: INFO: second',
    ]);
  });
});
