import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { findOnPath, prometheusConfig } from './cli-metrics.js';

describe('ray-ts metrics launch-prometheus', () => {
  it("writes a config that finds the nodes through the head's HTTP SD and scrapes them with the token", () => {
    const text = prometheusConfig({
      jobApi: 'http://10.0.0.1:8265',
      tokenFile: '/s/prometheus/auth_token',
      scrapeIntervalS: 5,
    });
    const c = YAML.parse(text) as {
      global: { scrape_interval: string };
      scrape_configs: {
        job_name: string;
        authorization: { type: string; credentials_file: string };
        http_sd_configs: { url: string; authorization: { credentials_file: string } }[];
      }[];
    };
    expect(c.global.scrape_interval).toBe('5s');
    const [job] = c.scrape_configs;
    expect(job.job_name).toBe('ray');
    expect(job.authorization).toEqual({ type: 'Bearer', credentials_file: '/s/prometheus/auth_token' });
    expect(job.http_sd_configs[0].url).toBe('http://10.0.0.1:8265/api/prometheus/sd');
    expect(job.http_sd_configs[0].authorization.credentials_file).toBe('/s/prometheus/auth_token');
  });

  it('leaves the token out for a cluster without one', () => {
    const text = prometheusConfig({ jobApi: 'http://h:1', tokenFile: undefined, scrapeIntervalS: 10 });
    expect(text).not.toContain('authorization');
  });

  it('finds an executable on PATH, not a plain file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-path-'));
    fs.writeFileSync(path.join(dir, 'plain'), '');
    fs.writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findOnPath('tool', `/nonexistent${path.delimiter}${dir}`)).toBe(path.join(dir, 'tool'));
    expect(findOnPath('plain', dir)).toBeUndefined();
    expect(findOnPath('missing', dir)).toBeUndefined();
    fs.rmSync(dir, { recursive: true });
  });
});
