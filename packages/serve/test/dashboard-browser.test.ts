// Serve's page of the dashboard in a real browser (Debian's chromium, driven by playwright-core):
// a Serve application on a real cluster (a head and a second node) shows with its deployment and
// its replicas (the ids the replicas answer with, on their nodes), and its request rate is plotted
// once requests come in. Saved as .test-output/dashboard/serve.png. (The other pages:
// packages/core/test/dashboard-browser.test.ts.)
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { init, shutdown } from '@ray-ts/core';
import { Cluster, waitFor } from '@ray-ts/core/testing';
import * as serve from '@ray-ts/serve';
import { chromiumPath, collectPageErrors, launchBrowser, screenshot } from '../../core/test/fixtures/browser.js';
import * as f from './fixtures/apps.js';

const token = crypto.randomBytes(16).toString('hex');
const savedToken = process.env.RAY_TS_AUTH_TOKEN;
let cluster: Cluster | undefined;
let browser: Browser | undefined;
let page: Page;
let pageErrors: string[] = [];
let port = 0;

// .ci/run installs chromium; in CI (CI set) this always runs, and fails if chromium is missing.
// Skip reason: chromium is not installed on this machine and this is not CI.
describe.skipIf(!chromiumPath() && !process.env.CI)("the dashboard's Serve page in a browser", () => {
  beforeAll(async () => {
    process.env.RAY_TS_AUTH_TOKEN = token;
    cluster = await Cluster.start({
      head: { numCpus: 1, env: { RAY_TS_DASHBOARD_SAMPLE_MS: '500' } },
      nodes: [{ numCpus: 1 }],
    });
    await init({ address: cluster.address });
    await serve.start({ http: { host: '127.0.0.1', port: 0 } });
    await serve.run(f.Echo.bind(), { name: 'dashboard-echo', routePrefix: '/echo' });
    const st = await serve.status();
    port = Object.values(st.proxies)[0].httpPort!;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
    pageErrors = collectPageErrors(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await serve.shutdown().catch(() => undefined);
    await shutdown();
    await cluster?.shutdown();
    if (savedToken === undefined) delete process.env.RAY_TS_AUTH_TOKEN;
    else process.env.RAY_TS_AUTH_TOKEN = savedToken;
  });

  it('shows the application, its deployment and both replicas on their nodes, and plots its requests', async () => {
    // The replicas say who they are: those ids must be on the page.
    const replicas = new Set<string>();
    await waitFor(
      async () => {
        const r = (await (await fetch(`http://127.0.0.1:${port}/echo`)).json()) as { replica: string };
        replicas.add(r.replica);
        return replicas.size === 2;
      },
      { what: 'requests to reach both replicas', timeoutMs: 20_000 },
    );
    await page.goto(`${cluster!.nodes[0].jobApiAddress}/#token=${token}`);
    await page.locator('header nav a', { hasText: /^Serve$/ }).click();
    await page.getByText('Application dashboard-echo').waitFor();
    const table = page.locator('[data-testid=replicas]');
    const nodeIds = cluster!.nodes.map((n) => n.nodeId);
    for (const id of replicas) {
      const row = table.locator('tr', { hasText: id });
      await row.getByText('RUNNING').waitFor();
      const text = (await row.textContent()) ?? '';
      expect(nodeIds.some((n) => text.includes(n))).toBe(true);
    }
    // Requests while the page is open: the head's samples turn them into a rate per deployment.
    const plot = page.locator('[data-testid=plot][data-title^="Requests per second"]');
    await waitFor(
      async () => {
        await fetch(`http://127.0.0.1:${port}/echo`);
        return (await plot.count()) > 0 && Number(await plot.getAttribute('data-points')) > 0;
      },
      { what: 'the request rate plot to have points', timeoutMs: 20_000, intervalMs: 100 },
    );
    await screenshot(page, 'serve');
    expect(pageErrors).toEqual([]);
  });
});
