/**
 * The autoscaling policy (Ray Serve's default): the replicas wanted are the ongoing requests
 * (in replicas and queued in routers), averaged over the look-back period, divided by
 * `targetOngoingRequests`. A change applies only after it was wanted without a break for the
 * upscale or downscale delay, so steady load never makes the count oscillate.
 * Pure: time comes in as an argument, so it is unit-tested without a cluster.
 */
import type { AutoscalingConfig } from './options.js';

/** The policy's memory between decisions. */
export interface AutoscalingState {
  samples: { t: number; load: number }[];
  /** When the wanted count first rose above the current one (undefined: it does not). */
  upSince: number | undefined;
  downSince: number | undefined;
}

export function newAutoscalingState(): AutoscalingState {
  return { samples: [], upSince: undefined, downSince: undefined };
}

/** Records a load sample (total ongoing plus queued requests) at time `t` (ms). */
export function recordLoad(s: AutoscalingState, cfg: Required<AutoscalingConfig>, t: number, load: number): void {
  s.samples.push({ t, load });
  const keepFrom = t - Math.max(cfg.lookBackPeriodS * 1000, 1);
  let i = 0;
  while (i < s.samples.length - 1 && s.samples[i].t < keepFrom) i++;
  if (i > 0) s.samples.splice(0, i);
}

/** The replicas the load asks for now, within the bounds. */
export function desiredReplicas(s: AutoscalingState, cfg: Required<AutoscalingConfig>): number {
  if (s.samples.length === 0) return -1;
  let sum = 0;
  for (const x of s.samples) sum += x.load;
  const avg = sum / s.samples.length;
  const latest = s.samples[s.samples.length - 1].load;
  // Any load at all keeps at least one replica (and wakes a deployment scaled to zero).
  const want = avg === 0 && latest === 0 ? 0 : Math.max(1, Math.ceil(avg / cfg.targetOngoingRequests - 1e-9));
  return Math.min(cfg.maxReplicas, Math.max(cfg.minReplicas, want));
}

/**
 * The replica count to run at time `t` given `current`: the desired count once it was wanted
 * for its delay, else `current`. Scaling up from zero does not wait.
 */
export function decide(s: AutoscalingState, cfg: Required<AutoscalingConfig>, current: number, t: number): number {
  const want = desiredReplicas(s, cfg);
  if (want < 0) return current;
  if (want > current) {
    s.downSince = undefined;
    if (current === 0) {
      s.upSince = undefined;
      return want;
    }
    s.upSince ??= t;
    if (t - s.upSince >= cfg.upscaleDelayS * 1000) {
      s.upSince = undefined;
      return want;
    }
    return current;
  }
  if (want < current) {
    s.upSince = undefined;
    s.downSince ??= t;
    if (t - s.downSince >= cfg.downscaleDelayS * 1000) {
      s.downSince = undefined;
      return want;
    }
    return current;
  }
  s.upSince = undefined;
  s.downSince = undefined;
  return current;
}
