/**
 * Prometheus service discovery on the head: every alive node's (and connected driver's) metrics
 * endpoint, as Prometheus's HTTP SD (`GET /api/prometheus/sd` on the job API, with the token) and
 * as Ray's file-based discovery file (`<session dir>/prom_metrics_service_discovery.json`, where
 * Ray writes `/tmp/ray/prom_metrics_service_discovery.json`), rewritten whole when the nodes change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ignored } from '../log.js';

/** Ray's name for the file (ray_constants.PROMETHEUS_SERVICE_DISCOVERY_FILE). */
export const SD_FILE_NAME = 'prom_metrics_service_discovery.json';

/** A target group of Prometheus's file and HTTP service discovery. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** What the discovery reads of a node (NodeInfo's fields). */
export interface SdNode {
  readonly state: string;
  readonly metricsAddress: string;
}

/** The target groups of `nodes`: one group (`job: ray`, as Ray's) of every alive node's endpoint. */
export function targetGroups(nodes: Iterable<SdNode>, labels: Record<string, string> = {}): TargetGroup[] {
  const targets = new Set<string>();
  for (const n of nodes) if (n.state === 'ALIVE' && n.metricsAddress) targets.add(n.metricsAddress);
  return [{ targets: [...targets].sort(), labels: { job: 'ray', ...labels } }];
}

/**
 * Keeps `file` equal to the target groups of `nodes()`, looking every `intervalMs` (written to a
 * temporary file and renamed, so Prometheus never reads half a file, and only when it changed).
 * Returns a stop function, which removes the file.
 */
export function writeDiscoveryFile(
  file: string,
  groups: () => TargetGroup[],
  intervalMs: number,
): { stop(): void; writeNow(): void } {
  let last = '';
  const writeNow = () => {
    const text = JSON.stringify(groups());
    if (text === last) return;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, file);
      last = text;
    } catch (err) {
      ignored(`writing the Prometheus discovery file ${file} (tried again in ${intervalMs} ms)`)(err);
    }
  };
  writeNow();
  const timer = setInterval(writeNow, intervalMs);
  timer.unref();
  return {
    writeNow,
    stop: () => {
      clearInterval(timer);
      try {
        if (last) fs.rmSync(file, { force: true });
      } catch (err) {
        ignored(`removing the Prometheus discovery file ${file}`)(err);
      }
    },
  };
}
