/**
 * Core's diagnostics. Errors that core handles by design (a peer gone, a best-effort notice that
 * could not be sent) are not thrown, but named here at debug level: `RAY_TS_LOG_LEVEL=debug`
 * prints them on stderr.
 */

const debugOn = (process.env.RAY_TS_LOG_LEVEL ?? '').toLowerCase() === 'debug';

/**
 * Names an error that is ignored on purpose and why (`what`: what failed, and why that is fine).
 * Use it as a promise's rejection handler: `.catch(ignored('...'))`.
 */
export function ignored(what: string): (err: unknown) => void {
  return (err: unknown) => {
    if (debugOn) console.error(`ray-ts [debug] ignored: ${what}: ${err instanceof Error ? err.message : String(err)}`);
  };
}
