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
};
