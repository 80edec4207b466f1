/**
 * How a log line looks: text (`ray-ts.serve: WARNING: message (key=value)`) or one JSON object
 * (Ray's `LoggingConfig(encoding="JSON")`: ids under Ray's snake_case names).
 */

/** Where a line was written: ids known there (undefined ones are left out). */
export interface LogIds {
  readonly node_id?: string;
  readonly worker_id?: string;
  readonly job_id?: string;
  readonly task_id?: string;
  readonly actor_id?: string;
}

/** One line before it is formatted. */
export interface LogRecord {
  readonly ts: Date;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly logger: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>> | undefined;
}

/** Python's level names, which Ray's lines (and log tooling built for them) use. */
const levelNames = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' } as const;
const reserved = new Set(['ts', 'level', 'logger', 'message']);

/** A value as JSON can hold it: errors as name, message and stack; bigints as strings. */
function jsonValue(v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message, ...(v.stack ? { stack: v.stack } : {}) };
  if (typeof v === 'bigint') return v.toString();
  return v;
}

function textValue(v: unknown): string {
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  if (typeof v === 'string') return /[\s=,()]/.test(v) || v === '' ? JSON.stringify(v) : v;
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
  } catch {
    // A cycle, most likely: the value's own string is better than losing the line.
    return String(v);
  }
}

/** `record` as one line (no newline at the end; a text line at error level may add its error's stack below). */
export function formatLine(record: LogRecord, format: 'text' | 'json', ids: LogIds): string {
  const fields = record.fields ?? {};
  if (format === 'json') {
    const out: Record<string, unknown> = {
      ts: record.ts.toISOString(),
      level: levelNames[record.level],
      logger: record.logger,
      message: record.message,
    };
    for (const [k, v] of Object.entries(ids)) if (v) out[k] = v;
    for (const [k, v] of Object.entries(fields)) if (!reserved.has(k) && v !== undefined) out[k] = jsonValue(v);
    try {
      return JSON.stringify(out);
    } catch {
      // A field that JSON cannot hold (a cycle): keep the line, with the fields as text.
      const safe: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(out)) safe[k] = typeof v === 'object' && v !== null ? textValue(v) : v;
      return JSON.stringify(safe);
    }
  }
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${textValue(v)}`);
  let line = `${record.logger}: ${levelNames[record.level]}: ${record.message}`;
  if (parts.length > 0) line += ` (${parts.join(', ')})`;
  if (record.level === 'error') {
    const err = Object.values(fields).find((v): v is Error => v instanceof Error);
    if (err?.stack) line += `\n${err.stack}`;
  }
  return line;
}
