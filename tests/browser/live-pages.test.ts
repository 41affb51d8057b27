import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../server/seed.js';
import { systemViewer } from '../../server/auth/viewer.js';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { createUser } from '../../server/services/staff.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { graphql, mintApiToken, mutate, setStatus, startTestNode, type TestNode } from '../helpers/live.js';

// The built app (web/dist, written by `npm run build:web`, which `npm test` runs first) in a real
// Chromium against an in-process node seeded with the demo data. Skipped where there is no Chromium.
const chromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);

const internalNames = ['Primary database', 'Job queue', 'Infrastructure (internal)'];
// Internal notes of the seeded incidents (server/seed-incidents.ts) and of the one made below.
const internalNotes = ['consumer lag alarm', 'config typo', 'Change #4821', 'Failover runbook step 3'];

const responder = { email: 'responder@example.com', name: 'Robin Responder', password: 'correct-horse-battery' };

let database: TestDatabase;
let node: TestNode;
let browser: Browser;
let admin: string;
let ids: Record<string, string>;
/** Sockets upgraded to WebSocket on the node, so a test can drop them. */
const upgraded = new Set<Socket>();
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  database = await createTestDatabase();
  const { page } = await ensureDefaultPage(database.db);
  await seedDemo(database.db, page);
  admin = await mintApiToken(database.db, page, ['admin']);
  await createUser({ db: database.db, viewer: systemViewer(page, 'test') }, { ...responder, role: 'editor' });
  node = await startTestNode(database);
  node.node.server.on('upgrade', (_request, socket: Socket) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
  });
  const summary = await graphql<{ summary: { groups: { components: { id: string; name: string }[] }[] } }>(
    node.url,
    '{ summary { groups { components { id name } } } }',
    {},
    { token: admin, audience: 'internal' },
  );
  ids = Object.fromEntries(summary.data!.summary.groups.flatMap((g) => g.components.map((c) => [c.name, c.id])));
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close();
  await node?.close();
  await database?.destroy();
});

interface Opened {
  page: Page;
  /** Every HTTP response body and WebSocket frame the page received. */
  received: string[];
  /** WebSocket frames the page sent. */
  sent: string[];
}

async function open(path: string): Promise<Opened> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const received: string[] = [];
  const sent: string[] = [];
  page.on('response', (response) => {
    void response.text().then(
      (body) => received.push(body),
      () => {},
    );
  });
  page.on('websocket', (socket) => {
    socket.on('framereceived', ({ payload }) => received.push(String(payload)));
    socket.on('framesent', ({ payload }) => sent.push(String(payload)));
  });
  await page.goto(`${node.url}${path}`);
  await liveIndicator(page, 'live').waitFor({ timeout: 10_000 });
  return { page, received, sent };
}

const liveIndicator = (page: Page, state: 'live' | 'reconnecting') => page.locator(`.live-indicator[data-state="${state}"]`);

/** A component's row (in the DOM even while its group is collapsed). */
const rowOf = (page: Page, name: string) => page.locator('li', { hasText: name }).first();
/** Wait until the component's row says `label`. */
const showsStatus = (page: Page, name: string, label: string, timeout: number) =>
  page.locator('li', { hasText: name }).filter({ hasText: label }).first().waitFor({ state: 'attached', timeout });

describe.skipIf(!hasChromium)('live pages in Chromium', () => {
  it('the public page renders the seeded groups and components', async () => {
    const { page } = await open('/');
    const text = await page.locator('main').textContent();
    for (const name of ['Core platform', 'Delivery', 'API', 'Dashboard', 'Authentication', 'Push delivery', 'Email delivery', 'Webhooks']) {
      expect(text).toContain(name);
    }
    // Below the components: the seeded upcoming maintenance and a 90-day uptime row per component.
    await page.getByRole('heading', { name: 'Database upgrade' }).waitFor({ state: 'visible', timeout: 5_000 });
    const bars = page.locator('.uptime-bars').first();
    await bars.waitFor({ state: 'visible', timeout: 5_000 });
    expect(await bars.locator('.uptime-bar').count()).toBe(90);
    expect(await bars.locator('.uptime-bar').last().getAttribute('aria-label')).toMatch(/^\d{4}-\d{2}-\d{2}: (\d+(\.\d+)?% uptime|no data)$/);
  });

  it('a responder declares an incident in the console; the public page open elsewhere shows it within 2 s', async () => {
    const viewer = await open('/');
    const context = await browser.newContext();
    contexts.push(context);
    const staff = await context.newPage();
    await staff.goto(`${node.url}/internal/incidents/new`);
    await staff.getByLabel('Email').fill(responder.email);
    await staff.getByLabel('Password').fill(responder.password);
    await staff.getByRole('button', { name: 'Sign in' }).click();

    await staff.getByLabel('Title').fill('Delayed push notifications');
    await staff.getByLabel('Message', { exact: true }).fill('Push notifications are delayed by up to 10 minutes. We are investigating.');
    await staff.getByLabel('Push delivery', { exact: true }).check();
    // The preview shows what the public will see before anything is saved.
    await staff.getByText('Public page').first().waitFor({ timeout: 5_000 });
    expect(await viewer.page.getByText('Delayed push notifications').count()).toBe(0);

    const started = Date.now();
    await staff.getByRole('button', { name: 'Declare incident' }).click();
    await viewer.page.getByRole('heading', { name: 'Delayed push notifications' }).waitFor({ timeout: 2_000 });
    console.log(`declared incident visible on the public page after ${Date.now() - started} ms`);
    expect(await viewer.page.locator('main').textContent()).toContain('delayed by up to 10 minutes');
    // The console moved on to the incident's own page.
    await staff.waitForURL(/\/internal\/incidents\/[0-9a-f-]{36}$/, { timeout: 5_000 });
  });

  it('the console stays live too: a change made elsewhere shows in the overview without reload', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const staff = await context.newPage();
    await staff.goto(`${node.url}/internal`);
    await staff.getByLabel('Email').fill(responder.email);
    await staff.getByLabel('Password').fill(responder.password);
    await staff.getByRole('button', { name: 'Sign in' }).click();
    // The badge, not the status picker (whose options name every status).
    const badge = staff.locator('li.quick-row', { hasText: 'Job queue' }).locator('.quick-name');
    await badge.filter({ hasText: 'Operational' }).waitFor({ timeout: 5_000 });
    await liveIndicator(staff, 'live').waitFor({ timeout: 5_000 });
    // An internal component: the console sees what the public never does.
    await setStatus(node.url, admin, ids['Job queue']!, 'partial_outage');
    await badge.filter({ hasText: 'Partial outage' }).waitFor({ timeout: 2_000 });
    await setStatus(node.url, admin, ids['Job queue']!, 'operational');
    await badge.filter({ hasText: 'Operational' }).waitFor({ timeout: 2_000 });
  });

  it('a protected deployment asks for its token, or lets staff sign in and come back to it', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${node.url}/d/ap-1`);
    await page.getByRole('heading', { name: 'Access token required' }).waitFor({ timeout: 5_000 });
    expect(await page.locator('main').textContent()).not.toContain('AP-1 API');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Email').fill(responder.email);
    await page.getByLabel('Password').fill(responder.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/d\/ap-1$/, { timeout: 5_000 });
    await page.getByText('AP-1 API').first().waitFor({ state: 'attached', timeout: 5_000 });
  });

  it('is usable from the keyboard: skip link first, groups open and close with Enter', async () => {
    const { page } = await open('/');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Skip to content');
    // Tab on until the first group toggle has focus, then operate it.
    let label = '';
    for (let i = 0; i < 20 && !label.includes('Core platform'); i++) {
      await page.keyboard.press('Tab');
      label = await page.evaluate(() => (document.activeElement?.matches('.component-group-toggle') ? document.activeElement.textContent ?? '' : ''));
    }
    expect(label).toContain('Core platform');
    const toggle = page.locator('.component-group-toggle', { hasText: 'Core platform' });
    const expanded = await toggle.getAttribute('aria-expanded');
    await page.keyboard.press('Enter');
    expect(await toggle.getAttribute('aria-expanded')).toBe(expanded === 'true' ? 'false' : 'true');
    // Focus is visible: the focused control draws an outline.
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
  });

  it('shows a status change made through the API without a reload, within 2 s, from the event alone', async () => {
    const { page } = await open('/');
    expect(await rowOf(page, 'Webhooks').textContent()).toContain('Operational');
    const queries: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/graphql') && request.method() === 'POST') queries.push(request.postData() ?? '');
    });
    // Layout shifts from here on: a live update must not move what the reader is looking at.
    await page.evaluate(() => {
      const w = window as unknown as { shift: number };
      w.shift = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) w.shift += (entry as unknown as { value: number }).value;
      }).observe({ type: 'layout-shift' });
    });
    const started = Date.now();
    await setStatus(node.url, admin, ids.Webhooks!, 'major_outage');
    await showsStatus(page, 'Webhooks', 'Major outage', 2_000);
    console.log(`status change visible on the public page after ${Date.now() - started} ms`);
    await expect.poll(() => page.locator('.status-banner').textContent()).toContain('Major Service Outage');
    await setStatus(node.url, admin, ids.Webhooks!, 'operational');
    await showsStatus(page, 'Webhooks', 'Operational', 2_000);
    // The page patched itself from the pushed payloads: no refetch per change (and per viewer).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(queries).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { shift: number }).shift)).toBeLessThan(0.01);
  });

  it('never shows or receives internal components or internal notes on the public page', async () => {
    const { page, received } = await open('/');
    // Internal changes (and one public change, to know the socket is delivering) while open.
    await setStatus(node.url, admin, ids['Primary database']!, 'major_outage');
    await mutate(
      node.url,
      admin,
      `mutation ($c: ID!) { createIncident(input: { title: "Job queue backlog", message: "Investigating", internalNote: "Failover runbook step 3", visibility: internal, components: [{ componentId: $c, status: degraded_performance }] }) { id } }`,
      { c: ids['Job queue'] },
    );
    await setStatus(node.url, admin, ids.Dashboard!, 'degraded_performance');
    await showsStatus(page, 'Dashboard', 'Degraded', 2_000);
    await setStatus(node.url, admin, ids.Dashboard!, 'operational');
    await showsStatus(page, 'Dashboard', 'Operational', 2_000);
    await page.waitForTimeout(300);

    const dom = await page.content();
    expect(received.length).toBeGreaterThan(2);
    expect(received.some((r) => r.includes('"type":"next"'))).toBe(true);
    for (const secret of [...internalNames, ...internalNotes, 'Job queue backlog']) {
      expect(dom, secret).not.toContain(secret);
      expect(received.filter((r) => r.includes(secret)), secret).toEqual([]);
    }
    await setStatus(node.url, admin, ids['Primary database']!, 'operational');
  });

  it('/d/eu-1 shows the EU-1 components and none of US-1 or AP-1', async () => {
    const { page } = await open('/d/eu-1');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('EU-1 services');
    expect(text).toContain('EU-1 API');
    expect(text).toContain('EU-1 Storage');
    for (const other of ['US-1', 'AP-1']) expect(text).not.toContain(`${other} services`);
    for (const other of ['US-1 API', 'AP-1 API', 'US-1 Storage', 'AP-1 Storage']) expect(text).not.toContain(other);

    // Live too: an EU-1 change shows.
    await setStatus(node.url, admin, ids['EU-1 Storage']!, 'partial_outage');
    await showsStatus(page, 'EU-1 Storage', 'Partial outage', 2_000);
    await setStatus(node.url, admin, ids['EU-1 Storage']!, 'operational');
  });

  it('catches up after the connection drops and comes back', async () => {
    const { page, sent } = await open('/');
    // One live change first, so the resume point moves past the snapshot's cursor.
    await setStatus(node.url, admin, ids['Email delivery']!, 'degraded_performance');
    await showsStatus(page, 'Email delivery', 'Degraded performance', 2_000);
    expect(upgraded.size).toBeGreaterThan(0);
    // Cut every WebSocket on the server side; the next change lands while the tab is disconnected.
    for (const socket of upgraded) socket.destroy();
    await liveIndicator(page, 'reconnecting').waitFor({ timeout: 5_000 });
    await setStatus(node.url, admin, ids['Email delivery']!, 'major_outage');
    await page.waitForTimeout(200);
    expect(await rowOf(page, 'Email delivery').textContent()).toContain('Degraded performance');
    // The resubscription resumes after the last event seen, so the missed change replays.
    await showsStatus(page, 'Email delivery', 'Major outage', 10_000);
    await liveIndicator(page, 'live').waitFor({ timeout: 5_000 });
    const afters = sent.filter((f) => f.includes('"type":"subscribe"')).map((f) => JSON.parse(f).payload.variables.after as number);
    expect(afters).toHaveLength(2);
    expect(afters[1]).toBeGreaterThan(afters[0]!);
    await setStatus(node.url, admin, ids['Email delivery']!, 'operational');
  });

  it('catches up after the browser goes offline and back online', async () => {
    const { page } = await open('/');
    await page.context().setOffline(true);
    await setStatus(node.url, admin, ids.Authentication!, 'partial_outage');
    await page.waitForTimeout(500);
    await page.context().setOffline(false);
    await showsStatus(page, 'Authentication', 'Partial outage', 15_000);
    await setStatus(node.url, admin, ids.Authentication!, 'operational');
  });
});
