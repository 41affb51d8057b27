import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { children, launchChromium, requireChromium, root, runMain, startHub, type HubProcess } from './browser.js';

/**
 * `npm run docs:screenshots`: PNGs of the built app against `server/main.ts` (embedded database,
 * demo data) in headless Chromium, under docs/screenshots/:
 *
 *   public.png, public-dark.png, public-mobile.png (390×844 @2x), deployment.png (/d/eu-1),
 *   console.png (signed in, overview) and console-declare.png (unless still a placeholder).
 *
 * Desktop pages are 1280 wide; full-page shots are cut at `maxHeight` CSS px and, should a PNG
 * still be over `maxBytes`, cut shorter until it fits.
 */

const outDir = join(root, 'docs', 'screenshots');
const adminEmail = 'screenshots@statushub.local';
const adminPassword = `shots-${Math.random().toString(36).slice(2)}-${Date.now()}`;
const desktop: BrowserContextOptions = { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light' };
const mobile: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'light' };
const maxHeight = 2_000;
const maxBytes = 600 * 1024;

const log = (message: string) => console.error(message);

/** Until the page shows data and is still: live connection up, nothing loading, fonts ready. */
async function settle(page: Page): Promise<void> {
  await page.locator('.live-indicator[data-state="live"]').first().waitFor({ timeout: 20_000 });
  await page.waitForLoadState('networkidle', { timeout: 20_000 });
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  await page.waitForTimeout(400);
}

const written: { file: string; width: number; height: number; kB: number }[] = [];

/** Full page, cut at `maxHeight` and shorter if the PNG would be over `maxBytes`. */
async function shoot(page: Page, name: string): Promise<void> {
  const path = join(outDir, name);
  const { width } = page.viewportSize()!;
  const pageHeight = await page.evaluate(() => Math.ceil(document.documentElement.scrollHeight));
  let height = Math.min(pageHeight, maxHeight);
  for (;;) {
    await page.screenshot({ path, fullPage: true, clip: { x: 0, y: 0, width, height }, animations: 'disabled', caret: 'hide' });
    const bytes = statSync(path).size;
    if (bytes <= maxBytes || height <= 600) {
      written.push({ file: `docs/screenshots/${name}`, width, height, kB: Math.round(bytes / 1024) });
      log(`  ${name}: ${width}×${height} CSS px, ${Math.round(bytes / 1024)} KiB`);
      return;
    }
    height = Math.floor(height * 0.8);
  }
}

async function withPage(browser: Browser, options: BrowserContextOptions, run: (page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext(options);
  try {
    await run(await context.newPage());
  } finally {
    await context.close();
  }
}

let hub: HubProcess | undefined;
let browser: Browser | undefined;

async function main(): Promise<void> {
  requireChromium();
  mkdirSync(outDir, { recursive: true });
  log('starting server/main.ts (DATA_DIR=memory://, demo data)');
  hub = await startHub({ adminEmail, adminPassword });
  browser = await launchChromium();
  const url = hub.url;
  log(`server on ${url}; Chromium ${browser.version()}; writing docs/screenshots/`);

  const publicPage = async (page: Page) => {
    await page.goto(`${url}/`);
    await page.locator('.uptime-bars').first().waitFor({ timeout: 20_000 });
    await settle(page);
  };
  await withPage(browser, desktop, async (page) => {
    await publicPage(page);
    await shoot(page, 'public.png');
  });
  await withPage(browser, { ...desktop, colorScheme: 'dark' }, async (page) => {
    await publicPage(page);
    await shoot(page, 'public-dark.png');
  });
  await withPage(browser, mobile, async (page) => {
    await publicPage(page);
    await shoot(page, 'public-mobile.png');
  });
  await withPage(browser, desktop, async (page) => {
    await page.goto(`${url}/d/eu-1`);
    await settle(page);
    await shoot(page, 'deployment.png');
  });
  await withPage(browser, desktop, async (page) => {
    await page.goto(`${url}/internal`);
    await page.getByLabel('Email').fill(adminEmail);
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Console sections' }).waitFor({ timeout: 20_000 });
    await settle(page);
    await shoot(page, 'console.png');

    await page.goto(`${url}/internal/incidents/new`);
    await page.getByRole('navigation', { name: 'Console sections' }).waitFor({ timeout: 20_000 });
    await settle(page);
    const body = (await page.locator('.console-body').textContent()) ?? '';
    if (/coming soon/i.test(body)) log('  console-declare.png: skipped, /internal/incidents/new is still a placeholder');
    else await shoot(page, 'console-declare.png');
  });

  console.log(written.map((w) => `${w.file}  ${w.width}×${w.height}  ${w.kB} KiB`).join('\n'));
}

await runMain(main, async () => {
  await browser?.close().catch(() => {});
  await hub?.stop();
  await children.stopAll();
});
