import { existsSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { deployments, subscribers } from '../../server/db/tables/index.js';
import { seedDemo } from '../../server/seed.js';
import { setSubscriptionSettings } from '../../server/services/subscriptions.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { graphql, mintApiToken, mintAudienceToken, startTestNode, type TestNode } from '../helpers/live.js';
import { startSmtpSink, type SmtpSink } from '../notify/smtp.js';

// The Subscribe dialog of the built app (web/dist, `npm run build:web`) in a real Chromium, against
// an in-process node seeded with the demo data whose confirmations go to a real local SMTP server.
const chromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);

let database: TestDatabase;
let node: TestNode;
let smtp: SmtpSink;
let browser: Browser;
let admin: string;
/** Component ids by name, as staff see them (every component, every deployment). */
let ids: Record<string, string>;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  database = await createTestDatabase();
  const { page } = await ensureDefaultPage(database.db);
  await seedDemo(database.db, page);
  admin = await mintApiToken(database.db, page, ['admin']);
  smtp = await startSmtpSink();
  node = await startTestNode(database);
  setSubscriptionSettings({ email: { smtpUrl: smtp.url, from: 'Status <status@status.test>', timeoutMs: 5_000 }, origin: node.url });
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
  setSubscriptionSettings(null);
  await node?.close();
  await smtp?.close();
  await database?.destroy();
});

async function open(path: string): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${node.url}${path}`);
  await page.locator('.live-indicator[data-state="live"]').waitFor({ timeout: 10_000 });
  return page;
}

const subscribeButton = (page: Page) => page.getByRole('button', { name: 'Subscribe to updates' });
const dialogOf = (page: Page) => page.getByRole('dialog', { name: 'Subscribe to updates' });
const focusIsInDialog = (page: Page) => page.evaluate(() => Boolean(document.activeElement?.closest('dialog[open]')));
const subscriberOf = async (target: string) => (await database.db.select().from(subscribers).where(eq(subscribers.target, target)))[0];
const confirmUrlOf = (text: string | undefined) => /(http:\/\/\S+\/subscriptions\/confirm\?token=\S+)/.exec(text ?? '')?.[1];

describe.skipIf(!hasChromium)('the Subscribe dialog in Chromium', () => {
  it('public page: email, one component; the hub mails a confirmation whose link activates exactly that', async () => {
    const page = await open('/');
    // Top right: the button sits to the right of the page title.
    const [title, button] = await Promise.all([page.locator('header h1').boundingBox(), subscribeButton(page).boundingBox()]);
    expect(button!.x).toBeGreaterThan(title!.x + title!.width);

    await subscribeButton(page).click();
    const dialog = dialogOf(page);
    await dialog.waitFor({ state: 'visible', timeout: 5_000 });
    expect(await focusIsInDialog(page)).toBe(true);
    // The demo hub has SMTP set here and no SMS provider.
    const channels = await dialog.getByRole('group', { name: 'Send updates by' }).locator('label').allTextContents();
    expect(channels.map((s) => s.trim())).toEqual(['Email', 'Webhook', 'Slack', 'Microsoft Teams']);

    await dialog.getByLabel('Email', { exact: true }).check();
    await dialog.getByLabel('Email address').fill('ana@example.test');
    await dialog.getByLabel('Only the components I choose').check();
    // The public audience's components, by group; nothing internal or of a deployment.
    const checklist = await dialog.locator('.subscribe-checklist').textContent();
    for (const name of ['Core platform', 'API', 'Delivery', 'Push delivery', 'Webhooks']) expect(checklist).toContain(name);
    for (const name of ['Primary database', 'Infrastructure (internal)', 'EU-1 API', 'US-1 API', 'AP-1 API']) expect(checklist).not.toContain(name);
    await dialog.getByLabel('Push delivery', { exact: true }).check();
    await dialog.getByRole('button', { name: 'Subscribe', exact: true }).click();

    await dialog.getByText('Check ana@example.test to confirm: nothing is sent until you follow the confirmation link.').waitFor({ timeout: 5_000 });
    await smtp.waitFor((mails) => mails.some((m) => m.to.includes('ana@example.test')));
    const mail = smtp.mails.find((m) => m.to.includes('ana@example.test'))!;
    expect(mail.mail.subject).toMatch(/Confirm your subscription$/);

    const pending = await subscriberOf('ana@example.test');
    expect(pending).toMatchObject({ channel: 'email', audienceKind: 'public', deploymentId: null, state: 'pending', componentIds: [ids['Push delivery']], groupIds: [] });
    const confirmed = await fetch(confirmUrlOf(mail.mail.text)!);
    expect(confirmed.status).toBe(200);
    expect((await subscriberOf('ana@example.test'))?.state).toBe('active');
  });

  it('a refused target is shown next to its field and nothing is saved', async () => {
    const page = await open('/');
    await subscribeButton(page).click();
    const dialog = dialogOf(page);
    await dialog.getByLabel('Webhook', { exact: true }).check();
    const url = dialog.getByLabel('Webhook URL');
    await url.fill('not a url');
    const before = (await database.db.select().from(subscribers)).length;
    await dialog.getByRole('button', { name: 'Subscribe', exact: true }).click();
    const error = dialog.getByRole('alert');
    await error.waitFor({ timeout: 5_000 });
    expect(await error.textContent()).toMatch(/^Webhook URL: /);
    expect(await url.getAttribute('aria-invalid')).toBe('true');
    expect(await url.getAttribute('aria-describedby')).toContain((await error.getAttribute('id'))!);
    expect(await database.db.select().from(subscribers)).toHaveLength(before);
  });

  it('works from the keyboard: Enter opens it with focus inside, Tab stays inside, Esc closes it and focus returns', async () => {
    const page = await open('/');
    await subscribeButton(page).focus();
    await page.keyboard.press('Enter');
    await dialogOf(page).waitFor({ state: 'visible', timeout: 5_000 });
    expect(await focusIsInDialog(page)).toBe(true);
    await dialogOf(page).getByLabel('Email address').waitFor({ timeout: 5_000 });
    // Modal: Tab cycles through the dialog's controls, never the page behind it.
    for (let i = 0; i < 15; i++) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => Boolean(document.activeElement?.closest('dialog[open]')) || document.activeElement === document.body)).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialogOf(page).waitFor({ state: 'hidden', timeout: 5_000 });
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Subscribe to updates');
  });

  it('a protected deployment page lists its own components, not another deployment’s, and subscribes as that deployment', async () => {
    // Staff see the other deployments' components: they exist, the checklist must leave them out.
    for (const name of ['EU-1 API', 'US-1 API', 'AP-1 API']) expect(ids[name]).toBeDefined();
    const [ap] = await database.db.select().from(deployments).where(eq(deployments.slug, 'ap-1'));
    const token = await mintAudienceToken(database.db, (await ensureDefaultPage(database.db)).page, ap!.id);

    const page = await open(`/d/ap-1?access_token=${encodeURIComponent(token)}`);
    await subscribeButton(page).click();
    const dialog = dialogOf(page);
    await dialog.getByLabel('Only the components I choose').check();
    const checklist = await dialog.locator('.subscribe-checklist').textContent();
    for (const name of ['AP-1 services', 'AP-1 API', 'AP-1 Storage', 'Core platform', 'Push delivery']) expect(checklist).toContain(name);
    for (const name of ['EU-1 API', 'EU-1 Storage', 'US-1 API', 'EU-1 services', 'Primary database']) expect(checklist).not.toContain(name);

    await dialog.getByLabel('Email address').fill('ap-customer@example.test');
    await dialog.getByLabel('AP-1 API', { exact: true }).check();
    await dialog.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await dialog.getByText('Check ap-customer@example.test to confirm').waitFor({ timeout: 5_000 });
    // The request carried the deployment's token: the subscriber belongs to ap-1.
    expect(await subscriberOf('ap-customer@example.test')).toMatchObject({ audienceKind: 'deployment', deploymentId: ap!.id, componentIds: [ids['AP-1 API']] });
    await smtp.waitFor((mails) => mails.some((m) => m.to.includes('ap-customer@example.test')));
  });
});
