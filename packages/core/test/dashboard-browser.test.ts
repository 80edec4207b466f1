// The dashboard in a real browser (Debian's chromium, driven by playwright-core) on a real cluster
// (a head and a second node, real processes on 127.0.0.1): each page shows what runs there, the
// nodes, a submitted job whose log grows while the page is open, an actor and its node, a failed
// task with its error, a placement group, the objects, a Tune experiment's metric curves (files
// Tune wrote: fixtures/dashboard/tune-run, made by make-tune-run.mjs), the timeline, and the logs
// (the cluster writes log files): the actor's stdout and stderr from its row, the second node's
// worker files, one of them followed while the actor prints, and the failed task's own lines. Each
// page is saved as .test-output/dashboard/<page>.png. (Serve's page: packages/serve/test/dashboard-browser.test.ts.)
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { actorIdOf, get, init, placementGroup, shutdown, type ActorHandle } from '@ray-ts/core';
import { Cluster, clusterAuthHeaders, waitFor } from '@ray-ts/core/testing';
import { chromiumPath, collectPageErrors, launchBrowser, screenshot } from './fixtures/browser.js';
import {
  DashboardCounter,
  DashboardCounterClass,
  dashboardFailingTask,
  dashboardOkTask,
  FAILING_TASK_LINE,
  KNOWN_FAILURE,
} from './fixtures/dashboard.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-browser-'));
const runsDir = path.join(tmp, 'runs');
const gate = path.join(tmp, 'job-gate');
const token = crypto.randomBytes(16).toString('hex');
const savedToken = process.env.RAY_TS_AUTH_TOKEN;

let cluster: Cluster | undefined;
let browser: Browser | undefined;
let page: Page;
let pageErrors: string[] = [];
let base = '';
const submissionId = `dashboard-job-${crypto.randomUUID().slice(0, 8)}`;
const actorLine = `dashboard actor line ${crypto.randomUUID().slice(0, 8)}`;
let counter: ActorHandle<DashboardCounter>;
let actorId = '';

const worker = () => cluster!.nodes[1];

/** What the test reads in the page (this file is type-checked without the DOM's types). */
interface BrowserGlobals {
  sessionStorage: { length: number };
  mark: number;
}
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

/** The text of the element `selector` (waiting for it to be there). */
const textOf = async (selector: string) => (await page.locator(selector).first().textContent()) ?? '';

/** A log through the head's API, as a script reads it ('' while it is not there). */
async function readLog(query: string): Promise<string> {
  const res = await fetch(`${base}/api/v0/logs/file?${query}`, { headers: clusterAuthHeaders() });
  return res.ok ? res.text() : '';
}

/** Goes to a page through its link in the header, as a user would (no reload). */
async function navigate(title: string): Promise<void> {
  await page.locator('header nav a', { hasText: new RegExp(`^${title}$`) }).click();
}

// .ci/run installs chromium; in CI (CI set) this always runs, and fails if chromium is missing.
// Skip reason: chromium is not installed on this machine and this is not CI.
describe.skipIf(!chromiumPath() && !process.env.CI)('the dashboard in a browser', () => {
  beforeAll(async () => {
    process.env.RAY_TS_AUTH_TOKEN = token;
    fs.cpSync(path.join(here, 'fixtures', 'dashboard', 'tune-run'), runsDir, { recursive: true });
    cluster = await Cluster.start({
      head: {
        numCpus: 1,
        env: { RAY_TS_DASHBOARD_RUNS_PATHS: runsDir, RAY_TS_DASHBOARD_SAMPLE_MS: '500' },
      },
      nodes: [{ numCpus: 2, resources: { dashboardNode: 4 } }],
      logDir: path.join(tmp, 'logs'),
    });
    base = cluster.nodes[0].jobApiAddress!;
    // The workers' lines are read from their files (the Logs page), not printed here too.
    await init({ address: cluster.address, logToDriver: false });

    // What the pages must show: an actor on the second node, a failed task, a placement group, a job.
    counter = DashboardCounterClass.options({ resources: { dashboardNode: 1 } }).remote();
    actorId = actorIdOf(counter);
    expect(await get(counter.incr.remote())).toBe(1);
    expect(await get(counter.say.remote(actorLine))).toBe(actorLine);
    await expect(get(dashboardFailingTask.remote())).rejects.toThrow(KNOWN_FAILURE);
    expect(await get([1, 2, 3].map((x) => dashboardOkTask.remote(x)))).toEqual([2, 4, 6]);
    const pg = placementGroup([{ CPU: 1 }], { name: 'dashboard-pg', strategy: 'PACK' });
    await pg.ready();
    const job = path.join(here, 'fixtures', 'dashboard', 'job.mjs');
    const res = await fetch(`${base}/api/jobs/`, {
      method: 'POST',
      headers: { ...clusterAuthHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify({ entrypoint: `node ${job} ${gate}`, submission_id: submissionId }),
    });
    expect(res.status).toBe(200);

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
    pageErrors = collectPageErrors(page);
    // The node writes lines after its event loop's turn: the logs the pages open exist first (a
    // log not written yet is a 404 the page waits out, which chromium reports as a console error).
    for (const which of [`actor_id=${actorId}`, `actor_id=${actorId}&suffix=err`])
      await waitFor(async () => (await readLog(which)).includes(actorLine), { what: `the actor's log (${which})` });
  }, 120_000);

  afterAll(async () => {
    fs.writeFileSync(gate, ''); // lets the job end, if a test failed before it did
    await browser?.close();
    await shutdown();
    await cluster?.shutdown();
    if (savedToken === undefined) delete process.env.RAY_TS_AUTH_TOKEN;
    else process.env.RAY_TS_AUTH_TOKEN = savedToken;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('takes the token from the URL fragment, cleans the URL, and shows both nodes on the overview', async () => {
    await page.goto(`${base}/#token=${token}`);
    await page.locator('[data-testid=nodes]').getByText(worker().nodeId).waitFor();
    await page.locator('[data-testid=nodes]').getByText(cluster!.nodes[0].nodeId).waitFor();
    expect(page.url()).not.toContain(token);
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).sessionStorage.length)).toBe(1);
    // The head samples every 500 ms here: the CPU plot gets points while the page is open.
    await waitFor(async () => Number(await page.locator('[data-title^="CPU use"]').getAttribute('data-points')) > 2, {
      what: 'the CPU plot to have samples',
      timeoutMs: 20_000,
    });
    expect(await textOf('[data-testid=resources]')).toContain('dashboardNode');
    await screenshot(page, 'overview');
  });

  it("lists the submitted job, and its page appends the job's log as it is written", async () => {
    await navigate('Jobs');
    await page.locator('[data-testid=submitted-jobs]').getByText(submissionId).click();
    const log = page.locator('[data-testid=job-log]');
    await log.getByText('dashboard job line 3').waitFor();
    expect(await log.textContent()).not.toContain('dashboard job line 4');
    // The same page, not reloaded: a mark set now must still be there when the new lines show.
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).mark = 42));
    fs.writeFileSync(gate, '');
    await log.getByText('dashboard job line 5').waitFor();
    await log.getByText('dashboard job done').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).mark)).toBe(42);
    const text = (await log.textContent()) ?? '';
    // Appended once each, in order.
    const lines = text.split('\n').filter((l) => l.startsWith('dashboard job'));
    expect(lines).toEqual([1, 2, 3, 4, 5, 6].map((i) => `dashboard job line ${i}`).concat('dashboard job done'));
    await page.getByText('SUCCEEDED').first().waitFor();
    await screenshot(page, 'job');
    await navigate('Jobs');
    await page.locator('[data-testid=submitted-jobs]').getByText(submissionId).waitFor();
    await screenshot(page, 'jobs');
  });

  it('shows the actor, alive, on the node it runs on', async () => {
    await navigate('Actors');
    const row = page.locator('[data-testid=actors] tr', { hasText: 'DashboardCounter' });
    await row.getByText('ALIVE').waitFor();
    expect(await row.textContent()).toContain(worker().nodeId);
    await screenshot(page, 'actors');
  });

  it("opens the actor's log, stdout and stderr, from its row", async () => {
    await navigate('Actors');
    await page.locator('[data-testid=actors] tr', { hasText: actorId }).getByRole('link', { name: 'logs' }).click();
    await page.locator('[data-testid=log-out]').getByText(actorLine).waitFor();
    await page.locator('[data-testid=log-err]').getByText(`err ${actorLine}`).waitFor();
    expect(await textOf('[data-testid=log-out]')).not.toContain(`err ${actorLine}`);
    // Read on the actor's node, from its worker's file.
    expect(await textOf('main')).toContain(worker().nodeId);
    await screenshot(page, 'actor-log');
  });

  it("shows the failed task with its error's text", async () => {
    await navigate('Tasks');
    const row = page.locator('[data-testid=failed-tasks] tr', { hasText: 'dashboardFailingTask' });
    await row.getByText(KNOWN_FAILURE).waitFor();
    expect(await textOf('[data-testid=task-names]')).toContain('dashboardOkTask');
    await screenshot(page, 'tasks');
  });

  it("opens the failed task's own lines from its row", async () => {
    await navigate('Tasks');
    const row = page.locator('[data-testid=failed-tasks] tr', { hasText: 'dashboardFailingTask' });
    const taskId = (await row.locator('td').first().textContent()) ?? '';
    await waitFor(async () => (await readLog(`task_id=${taskId}&suffix=err`)).includes(FAILING_TASK_LINE), {
      what: "the task's lines to be written",
    });
    await row.getByRole('link', { name: 'logs' }).click();
    await page.locator('[data-testid=log-out]').getByText(FAILING_TASK_LINE).waitFor();
    await page.locator('[data-testid=log-err]').getByText(`warning: ${FAILING_TASK_LINE}`).waitFor();
    await screenshot(page, 'task-log');
    // A task that printed nothing: the page says so (the API's 404), as a fact, not as a failure.
    await navigate('Tasks');
    await page
      .locator('[data-testid=tasks] tr', { hasText: 'dashboardOkTask' })
      .first()
      .getByRole('link', { name: 'logs' })
      .click();
    await page.locator('[data-testid=log-out-missing]').getByText('wrote no log lines').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('shows the placement group, created, with its bundle on a node', async () => {
    await navigate('Placement groups');
    const row = page.locator('[data-testid=placement-groups] tr', { hasText: 'dashboard-pg' });
    await row.getByText('CREATED').waitFor();
    expect(await row.textContent()).toMatch(/CPU 1 → node_/);
    await screenshot(page, 'placement-groups');
  });

  it('shows the memory summary', async () => {
    await navigate('Objects');
    await page.locator('[data-testid=objects-total]').waitFor();
    expect(await textOf('[data-testid=objects-total]')).toMatch(/\d+ objects/);
    await screenshot(page, 'objects');
  });

  it("lists the Tune experiment and plots its trials' metric over the iterations", async () => {
    await navigate('Runs');
    await page.locator('[data-testid=runs]').getByRole('link', { name: 'dashboard_fixture' }).click();
    await page.locator('[data-testid=trials]').getByText('TERMINATED').first().waitFor();
    const plot = page.locator('[data-testid=plot][data-title=loss]');
    await plot.locator('canvas').waitFor();
    expect(Number(await plot.getAttribute('data-points'))).toBe(3 * 8); // 3 trials, 8 iterations
    // The canvas has curves drawn on it: pixels of the first series' colour.
    const drawn = await plot.locator('canvas').evaluate((c: Canvas) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] === 0x2f && d[i + 1] === 0x6f && d[i + 2] === 0xdf) n++;
      return n;
    });
    expect(drawn).toBeGreaterThan(50);
    expect(await textOf('[data-testid=best-trial]')).toContain('min loss');
    await screenshot(page, 'runs');
  });

  it('downloads the timeline as a Chrome trace', async () => {
    await navigate('Timeline');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the timeline' }).click(),
    ]);
    const file = await download.path();
    const events = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string }[];
    expect(events.some((e) => e.name === 'dashboardOkTask')).toBe(true);
    await screenshot(page, 'timeline');
  });

  it("lists the second node's worker files, opens the actor's, and follows it as the actor prints", async () => {
    const res = await fetch(`${base}/api/v0/logs/file?actor_id=${actorId}&lines=1`, { headers: clusterAuthHeaders() });
    const actorFile = res.headers.get('x-ray-ts-log-file')!;
    await res.body?.cancel();
    expect(actorFile).toMatch(/^worker-.+\.out$/);
    await navigate('Logs');
    for (const n of cluster!.nodes) await page.locator('[data-testid=log-nodes]').getByText(n.nodeId).waitFor();
    await page.getByRole('link', { name: worker().nodeId }).click();
    const outFiles = page.locator('[data-testid=log-files-worker_out]');
    await outFiles.getByRole('link', { name: actorFile }).waitFor();
    expect(await page.locator('[data-testid=log-files-worker_err]').textContent()).toContain(
      actorFile.replace(/\.out$/, '.err'),
    );
    await screenshot(page, 'log-files');
    await outFiles.getByRole('link', { name: actorFile }).click();
    const log = page.locator('[data-testid=log-file]');
    await log.getByText(actorLine).waitFor();
    expect(await page.getByTestId('log-follow').isChecked()).toBe(true);
    // The same page, not reloaded: a mark set now must still be there when the new line shows.
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).mark = 7));
    const later = `${actorLine} (later)`;
    expect(await get(counter.say.remote(later))).toBe(later);
    await log.getByText(later).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).mark)).toBe(7);
    // Each line once: the follow appends, it does not read the file again.
    expect(((await log.textContent()) ?? '').split(later).length).toBe(2);
    await screenshot(page, 'logs');
    // Follow off: the request is closed, the text stays.
    await page.getByTestId('log-follow').uncheck();
    await page.getByText('the last 1,000 lines', { exact: true }).waitFor();
    expect(await log.textContent()).toContain(later);
  });

  it('asks for the token when the page has none, and shows the cluster once it is given', async () => {
    const other = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await other.goto(`${base}/`);
      await other.getByLabel('token').fill(token);
      await other.getByRole('button', { name: 'Use it' }).click();
      await other.locator('[data-testid=nodes]').getByText(worker().nodeId).waitFor();
    } finally {
      await other.close();
    }
  });

  it('met no script error and no Content-Security-Policy violation on any page', () => {
    // A log not written yet is a 404 by the logs API's contract (the page shows it as such), and
    // chromium reports every 404 it loads as a console error: neither a script error nor a CSP one.
    expect(pageErrors.filter((e) => !e.includes('the server responded with a status of 404'))).toEqual([]);
  });
});
