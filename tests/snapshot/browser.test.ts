import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import sirv from 'sirv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { statuspageEndpoints } from '../../server/http/statuspage-api.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { writeSnapshot } from '../../server/snapshot/write.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestNode, systemContext, type TestNode } from '../helpers/live.js';

/**
 * A hub-down day: the snapshot is written, the hub and its database are stopped, a plain static
 * file server (sirv) serves the directory, and Chromium reads the page. It must show the status,
 * a component, the incident and when it was last updated, ask nothing of anyone but the static
 * server, and serve the same /api/v2 JSON the hub answered before it stopped.
 */

const chromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);

let database: TestDatabase | undefined;
let node: TestNode | undefined;
let work: string;
let dir: string;
let staticServer: Server;
let staticUrl: string;
let browser: Browser;
/** The hub's answers, taken before it stopped: path → body. */
const hubAnswers = new Map<string, string>();

beforeAll(async () => {
  if (!hasChromium) return;
  work = mkdtempSync(join(tmpdir(), 'statushub-snapshot-browser-'));
  dir = join(work, 'site');
  database = await createTestDatabase();
  const { page } = await ensureDefaultPage(database.db);
  node = await startTestNode(database);
  const s = systemContext(database, page, node.node.onCommit);
  const api = await catalog.createComponent(s, { name: 'Browser API' });
  await catalog.createComponent(s, { name: 'Browser web', sortOrder: 1 });
  await catalog.createComponent(s, { name: 'HIDE-browser-internal', visibility: 'internal' });
  const open = await catalog.createDeployment(s, { slug: 'open-1', name: 'Open One', access: 'open' });
  const group = await catalog.createGroup(s, { name: 'Open One services', deploymentId: open.id });
  const openComponent = await catalog.createComponent(s, { name: 'Open One API', groupId: group.id });
  await incidents.createIncident(s, {
    title: 'Browser incident title',
    message: 'We are looking into slow API responses.',
    internalNote: 'HIDE-browser-note',
    components: [
      { componentId: api.id, status: 'partial_outage' },
      { componentId: openComponent.id, status: 'degraded_performance' },
    ],
  });

  for (const prefix of ['', '/d/open-1']) {
    for (const endpoint of statuspageEndpoints) {
      const response = await fetch(`${node.url}${prefix}/api/v2/${endpoint}`);
      expect(response.status).toBe(200);
      hubAnswers.set(`${prefix}/api/v2/${endpoint}`, await response.text());
    }
  }
  // The hub's own origin, so the JSON is byte for byte what the hub answered.
  const result = await writeSnapshot(database.db, dir, { origin: node.url });
  expect(result.audiences).toHaveLength(2);

  // The hub and its database go away.
  await node.close();
  node = undefined;
  await database.destroy();
  database = undefined;

  const serve = sirv(dir, { dev: true, etag: true });
  staticServer = createServer((req, res) => serve(req, res, () => void res.writeHead(404).end('not found')));
  await new Promise<void>((resolve) => staticServer.listen(0, '127.0.0.1', resolve));
  staticUrl = `http://127.0.0.1:${(staticServer.address() as AddressInfo).port}`;

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  if (staticServer) await new Promise<void>((resolve) => staticServer.close(() => resolve()));
  await node?.close();
  await database?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Open `url` in a fresh context; every request, failure and console error is recorded. */
async function open(url: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests: string[] = [];
  const failed: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('requestfailed', (request) => failed.push(`${request.url()}: ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${response.url()}: ${response.status()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  const response = await page.goto(url, { waitUntil: 'load' });
  return { context, page, response, requests, failed, errors };
}

describe.skipIf(!hasChromium)('the snapshot on a hub-down day', () => {
  it('the hub is really gone', async () => {
    expect(node).toBeUndefined();
    expect(database).toBeUndefined();
  });

  it('Chromium shows the status, a component, the incident and when it was last updated, asking only the static server', async () => {
    const { context, page, response, requests, failed, errors } = await open(`${staticUrl}/`);
    try {
      expect(response?.status()).toBe(200);
      await expect.poll(() => page.locator('#overall-status').textContent()).toBe('Partial system outage');
      expect(await page.getByText('Browser API', { exact: true }).isVisible()).toBe(true);
      expect(await page.getByRole('heading', { name: 'Browser incident title' }).isVisible()).toBe(true);
      expect(await page.getByText('We are looking into slow API responses.').first().isVisible()).toBe(true);
      const updated = page.locator('.last-updated');
      expect(await updated.isVisible()).toBe(true);
      expect(await updated.textContent()).toMatch(/^Last updated \d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC \(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\) \((just now|\d+ \w+ ago)\)$/);
      expect(await page.title()).toContain('status');
      const text = await page.locator('body').textContent();
      expect(text).not.toContain('HIDE-');
      expect(text).not.toContain('Open One');
      expect(requests.length).toBeGreaterThan(0);
      for (const url of requests) expect(url.startsWith(`${staticUrl}/`), url).toBe(true);
      expect(failed).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("the open deployment's page is served at /d/<slug> with its own components", async () => {
    for (const path of ['/d/open-1/', '/d/open-1']) {
      const { context, page, response, requests, failed, errors } = await open(`${staticUrl}${path}`);
      try {
        expect(response?.status(), path).toBe(200);
        expect(await page.locator('.subtitle').textContent()).toBe('Deployment Open One');
        // Its group is degraded, so it is open, as on the live page.
        expect(await page.getByText('Open One API', { exact: true }).isVisible()).toBe(true);
        expect(await page.getByText('Browser API', { exact: true }).isVisible()).toBe(true);
        for (const url of requests) expect(url.startsWith(`${staticUrl}/`), url).toBe(true);
        expect(failed).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    }
  });

  it('works from file:// too, with no request beyond the file', async () => {
    const { context, page, requests, failed, errors } = await open(`file://${join(dir, 'index.html')}`);
    try {
      expect(await page.locator('#overall-status').textContent()).toBe('Partial system outage');
      expect(await page.getByRole('heading', { name: 'Browser incident title' }).isVisible()).toBe(true);
      expect(requests).toEqual([`file://${join(dir, 'index.html')}`]);
      expect(failed).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('serves the same /api/v2 JSON the hub answered before it stopped', async () => {
    const summary = await fetch(`${staticUrl}/api/v2/summary.json`);
    expect(summary.status).toBe(200);
    expect(summary.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await summary.text();
    const parsed = JSON.parse(body);
    expect(parsed.status.indicator).toBe('major');
    expect(parsed.incidents.map((i: { name: string }) => i.name)).toEqual(['Browser incident title']);
    expect(body).toBe(hubAnswers.get('/api/v2/summary.json'));
    for (const [path, hubBody] of hubAnswers) {
      const response = await fetch(`${staticUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(await response.text(), path).toBe(hubBody);
    }
  });
});
