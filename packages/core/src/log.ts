/**
 * Log lines of core and the libraries (Ray's `ray`, `ray.serve`, `ray.data`... Python loggers):
 * `getLogger('ray-ts.serve').warn('...', { fields })`, at a level (`RAY_TS_LOG_LEVEL`, default
 * `info`), as text or as one JSON object a line (`RAY_TS_LOG_FORMAT=json`) carrying the node,
 * worker, job, task and actor ids of where it was written. Lines go to `console.error`: on a
 * driver or a node process that is stderr (a node process's log); in a worker, the console goes to
 * its node and on to the job's driver, as user output does.
 *
 * Errors that core handles by design (a peer gone, a best-effort notice that could not be sent)
 * are not thrown, but named with {@link ignored}, a debug line.
 */
import { envSetting } from './config.js';
import { executionContext } from './runtime/execution-context.js';
import { threadState } from './runtime/thread-state.js';
import { formatLine, type LogIds, type LogRecord } from './log-format.js';

export type { LogIds } from './log-format.js';

/** How severe a line is; lines below the configured level are dropped before they are formatted. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** `text`: `ray-ts.serve: WARNING: message (key=value)`; `json`: one JSON object a line. */
export type LogFormat = 'text' | 'json';
/** Structured values of a line: in JSON, keys of its object; in text, `key=value` after the message. */
export type LogFields = Readonly<Record<string, unknown>>;

/** The logger settings, checked: see config.ts `logLevel` and `logFormat`. */
export interface LogSettings {
  readonly level: LogLevel;
  readonly format: LogFormat;
}

/** A named logger (see {@link getLogger}). */
export interface Logger {
  /** Its name, e.g. `ray-ts.data` (the JSON lines' `logger`). */
  readonly name: string;
  /** Whether a line at `level` would be written (to skip building costly fields). */
  isEnabledFor(level: LogLevel): boolean;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const levelAliases: Record<string, LogLevel> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
};

/**
 * Checks raw settings (as `RAY_TS_LOG_LEVEL` and `RAY_TS_LOG_FORMAT` give them): an unknown value
 * means the default, and a problem says so.
 */
export function checkLogSettings(rawLevel: string, rawFormat: string): { settings: LogSettings; problems: string[] } {
  const problems: string[] = [];
  let level = levelAliases[rawLevel.trim().toLowerCase()];
  if (!level) {
    problems.push(`RAY_TS_LOG_LEVEL='${rawLevel}' is not a level: set debug, info, warn or error. Using info.`);
    level = 'info';
  }
  let format = rawFormat.trim().toLowerCase() as LogFormat;
  if (format !== 'text' && format !== 'json') {
    problems.push(`RAY_TS_LOG_FORMAT='${rawFormat}' is not a format: set text or json. Using text.`);
    format = 'text';
  }
  return { settings: { level, format }, problems };
}

/** Where a logger's collaborators come from (all of them settable by unit tests). */
export interface LoggerDeps {
  /** The settings now (read on each line: cheap, and a test may change them). */
  readonly settings: () => LogSettings;
  /** The ids of where the line is written (JSON only). */
  readonly ids: () => LogIds;
  /** Writes one formatted line (without its newline). */
  readonly write: (line: string) => void;
  readonly now?: () => Date;
}

/** A logger over explicit collaborators; {@link getLogger} is this over the process's settings. */
export function createLogger(name: string, deps: LoggerDeps): Logger {
  const now = deps.now ?? (() => new Date());
  const enabled = (level: LogLevel) => rank[level] >= rank[deps.settings().level];
  const emit = (level: LogLevel, message: string, fields: LogFields | undefined) => {
    const settings = deps.settings();
    if (rank[level] < rank[settings.level]) return;
    const record: LogRecord = { ts: now(), level, logger: name, message, fields };
    deps.write(formatLine(record, settings.format, settings.format === 'json' ? deps.ids() : {}));
  };
  return {
    name,
    isEnabledFor: enabled,
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

let processSettings: LogSettings | undefined;
let processIds: LogIds = {};

function settingsOfProcess(): LogSettings {
  if (!processSettings) {
    const { settings, problems } = checkLogSettings(envSetting('logLevel'), envSetting('logFormat'));
    processSettings = settings;
    // Once per process, in the format chosen (or text, when that is what was wrong).
    for (const p of problems) getLogger('ray-ts.core').warn(p);
  }
  return processSettings;
}

/** The ids of the code running now: its task and actor, else its thread's worker and job, else the process's. */
function currentIds(): LogIds {
  const exec = executionContext.getStore()?.data;
  const client = threadState().client;
  return {
    node_id: client?.nodeId || processIds.node_id,
    worker_id: client?.workerId ?? processIds.worker_id,
    job_id: exec?.jobId ?? (client?.jobId || processIds.job_id),
    task_id: exec?.taskId,
    actor_id: exec?.actorId,
  };
}

/**
 * Ids this process's lines carry when no runtime is there to say (a node process: its node id).
 * Internal: called where a process learns them.
 */
export function setProcessLogIds(ids: LogIds): void {
  processIds = { ...processIds, ...ids };
}

/** Forgets the settings read from the environment, so the next line reads them again (tests). */
export function reloadLogSettings(): void {
  processSettings = undefined;
}

const loggers = new Map<string, Logger>();

/**
 * The logger named `name` (by convention `ray-ts.<package>`: `ray-ts.core`, `ray-ts.serve`,
 * `ray-ts.data`, `ray-ts.train`, `ray-ts.tune`, `ray-ts.rllib`), as Ray's `logging.getLogger("ray.serve")`.
 * Its level and format are the process's: `RAY_TS_LOG_LEVEL` (`debug`, `info` (default), `warn`,
 * `error`) and `RAY_TS_LOG_FORMAT` (`text` (default) or `json`), read once; workers inherit them.
 * A JSON line has `ts` (ISO 8601), `level` (`DEBUG`, `INFO`, `WARNING`, `ERROR`), `logger`,
 * `message`, the `node_id`, `worker_id`, `job_id`, `task_id` and `actor_id` known where it is
 * written, and the fields passed.
 *
 * @example
 * const log = getLogger('ray-ts.data');
 * log.warn('block too large; splitting it', { bytes: 1 << 30 });
 */
export function getLogger(name: string): Logger {
  let logger = loggers.get(name);
  if (!logger) {
    logger = createLogger(name, { settings: settingsOfProcess, ids: currentIds, write: (line) => console.error(line) });
    loggers.set(name, logger);
  }
  return logger;
}

const coreLog = getLogger('ray-ts.core');

/**
 * Names an error that is ignored on purpose and why (`what`: what failed, and why that is fine), as
 * a debug line of `ray-ts.core`. Use it as a promise's rejection handler: `.catch(ignored('...'))`.
 */
export function ignored(what: string): (err: unknown) => void {
  return (err: unknown) => {
    if (coreLog.isEnabledFor('debug')) coreLog.debug(`ignored: ${what}`, { err });
  };
}
