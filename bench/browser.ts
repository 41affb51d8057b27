import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { captureOutput, Children, fetchWithin, freePort, waitFor } from './lib.js';

/**
 * Shared by `npm run bench:web` (bench/web.ts) and `npm run docs:screenshots`
 * (bench/screenshots.ts): headless Chromium, and the server started the way a user starts it.
 */

export const root = fileURLToPath(new URL('..', import.meta.url));
export const chromiumPath = '/usr/bin/chromium';
export const host = '127.0.0.1';

/** Every child this process starts; ended on any way out (see `onExitStop`). */
export const children = new Children();

/** Exit with a clear message when there is no Chromium to drive. */
export function requireChromium(): void {
  if (existsSync(chromiumPath)) return;
  console.error(`${chromiumPath} is missing: install Chromium (e.g. apt-get install chromium) to run this script.`);
  process.exit(1);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface HubProcess {
  url: string;
  pid: number;
  /** The last output of the server (for errors). */
  output(): string;
  stop(): Promise<void>;
}

export interface HubOptions {
  adminEmail?: string;
  adminPassword?: string;
  timeoutMs?: number;
}

/**
 * `tsx server/main.ts` (as `node --import tsx server/main.ts`, which is what the tsx CLI runs,
 * without its extra parent process) on a free port with the embedded database in memory; the demo
 * data is seeded on start. Resolves once `/graphql` answers a summary query.
 */
export async function startHub(options: HubOptions = {}): Promise<HubProcess> {
  const port = await freePort();
  const url = `http://${host}:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: host,
    DATA_DIR: 'memory://',
    SEED: 'true',
    LOG_LEVEL: 'warn',
    ...(options.adminEmail ? { ADMIN_EMAIL: options.adminEmail } : {}),
    ...(options.adminPassword ? { ADMIN_PASSWORD: options.adminPassword } : {}),
  };
  delete env.DATABASE_URL;
  const child = children.spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = captureOutput(child);
  let stopping = false;
  const stop = () => {
    stopping = true;
    return children.stop(child, 5_000);
  };
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`server/main.ts exited unexpectedly (${code ?? signal}); its last output:\n${output()}`);
  });
  try {
    await waitFor(`${url}/graphql to answer`, options.timeoutMs ?? 120_000, async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited (${child.exitCode ?? child.signalCode})`);
      const response = await fetchWithin(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query: '{ summary { status { indicator } } }' }),
        timeoutMs: 2_000,
      });
      if (!response.ok) return undefined;
      const body = (await response.json()) as { data?: { summary?: { status?: { indicator?: string } } } };
      return body.data?.summary?.status?.indicator ? true : undefined;
    }, 200);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\nserver output:\n${output()}`);
  }
  return { url, pid: child.pid!, output, stop };
}

/**
 * End every child (and the browser) on SIGINT/SIGTERM and, as a last resort, when this process
 * exits; `cleanup` is the orderly path for the normal end and errors.
 */
export function onExitStop(cleanup: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void cleanup().finally(() => process.exit(130));
    });
  }
  process.once('exit', () => children.killAllNow());
}

/** Run `main`, then always `cleanup`; a failure is printed and exits non-zero. */
export async function runMain(main: () => Promise<void>, cleanup: () => Promise<void>): Promise<void> {
  onExitStop(cleanup);
  let failed = false;
  try {
    await main();
  } catch (error) {
    failed = true;
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  } finally {
    await cleanup();
  }
  process.exit(failed ? 1 : 0);
}
