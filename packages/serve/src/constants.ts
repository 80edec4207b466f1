/** Names Serve's actors go by in the cluster. */
export const SERVE_NAMESPACE = 'serve';
export const CONTROLLER_NAME = 'SERVE_CONTROLLER';

/** Runtime settings of Serve, each with a `RAY_TS_SERVE_<NAME>` environment override (tests shorten them). */
function env(name: string, fallback: number): number {
  const v = Number(process.env[`RAY_TS_SERVE_${name}`]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export const serveConfig = {
  /** Period of the controller's control loop. */
  controlLoopMs: env('CONTROL_LOOP_MS', 50),
  /** A long poll for the routing table returns after this even when nothing changed. */
  longPollTimeoutMs: env('LONG_POLL_TIMEOUT_MS', 10_000),
  /** Replica metrics (ongoing requests, loaded models) are sampled this often when not autoscaling. */
  metricsIntervalMs: env('METRICS_INTERVAL_MS', 1000),
  /** Proxies are pinged this often; a dead one is replaced. */
  proxyCheckMs: env('PROXY_CHECK_MS', 2000),
  /** Consecutive failed replica starts before a deployment is DEPLOY_FAILED. */
  maxStartFailures: env('MAX_START_FAILURES', 3),
  /** A streaming response reads its body this many items ahead of the caller, at most... */
  streamBufferItems: env('STREAM_BUFFER_ITEMS', 256),
  /** ...and this many bytes (chunks of bytes or text), plus the one chunk being read. */
  streamBufferBytes: env('STREAM_BUFFER_BYTES', 1024 * 1024),
  /** After a 413, the connection drops what the client still sends for at most this long, then closes. */
  lingeringCloseMs: env('LINGERING_CLOSE_MS', 5000),
  /** The `Retry-After` (whole seconds) of a 503 answered because a deployment's queue is full. */
  backPressureRetryAfterS: env('BACK_PRESSURE_RETRY_AFTER_S', 1),
  /**
   * HTTP requests to a replica in the proxy's process go on a BroadcastChannel, not as actor calls
   * through the driver thread (direct.ts). `RAY_TS_SERVE_DIRECT=0` turns it off.
   */
  direct: process.env.RAY_TS_SERVE_DIRECT !== '0',
};
