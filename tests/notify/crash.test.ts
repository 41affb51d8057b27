import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../server/db/client.js';
import { subscribers } from '../../server/db/tables/index.js';
import { newLinkToken } from '../../server/notify/links.js';
import * as catalog from '../../server/services/catalog.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { startReceiver, type Receiver } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let hub: TestHub;
let receiver: Receiver;
const children: ChildProcess[] = [];

/** `npm run worker` (server/notify/worker-main.ts) as a child process on the test's database. */
function spawnWorker(url: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/notify/worker-main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: url,
      LOG_LEVEL: 'warn',
      NOTIFY_ALLOW_PRIVATE_TARGETS: 'true',
      NOTIFY_CONSOLIDATE_MS: '0',
      NOTIFY_LEASE_MS: '1500',
      NOTIFY_POLL_MS: '50',
      NOTIFY_TIMEOUT_MS: '1000',
      NOTIFY_CONCURRENCY: '16',
      NOTIFY_MAX_PER_HOUR: '100',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

beforeAll(async () => {
  hub = await startTestHub();
  receiver = await startReceiver();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await receiver.close();
  await hub.close();
});

describe('crash', () => {
  it.skipIf(!process.env.DATABASE_URL)('a worker killed with SIGKILL mid-batch loses nothing: every notification arrives, duplicates carry the same webhook-id', async () => {
    const n = 500;
    const component = await catalog.createComponent(hub.system, { name: 'Crash' });
    await hub.database.db.insert(subscribers).values(
      Array.from({ length: n }, (_, i) => ({
        pageId: hub.page.id,
        audienceKind: 'public' as const,
        channel: 'webhook' as const,
        target: `${receiver.url}/crash/${i}`,
        state: 'active' as const,
        signingSecrets: [secret],
        // As every creation path stores one: the message links are derived from it (server/notify/links.ts).
        manageTokenHash: newLinkToken('manage').hash,
      })),
    );
    // A slow receiver: the batch takes a few seconds, so the kill lands in the middle of it.
    receiver.delayMs = 40;
    await catalog.setComponentStatus(hub.system, component.id, 'major_outage');

    const first = spawnWorker(hub.database.url!);
    await receiver.waitFor((r) => r.length >= 120, 30_000);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const beforeRestart = new Set(receiver.requests.map((r) => String(r.headers['webhook-id']))).size;
    expect(beforeRestart).toBeLessThan(n);
    const [{ sending }] = (await queryRows<{ sending: number }>(hub.database.db, sql`select count(*)::int as sending from notification_deliveries where status = 'sending'`)) as [{ sending: number }];
    expect(sending).toBeGreaterThan(0);

    receiver.delayMs = 0;
    const second = spawnWorker(hub.database.url!);
    await receiver.waitFor((r) => new Set(r.map((x) => String(x.headers['webhook-id']))).size >= n, 45_000);
    const settled = async () =>
      (await queryRows<{ n: number }>(hub.database.db, sql`select count(*)::int as n from notification_deliveries where status = 'sent'`))[0]!.n;
    const until = Date.now() + 15_000;
    while ((await settled()) < n && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(await settled()).toBe(n);
    second.kill('SIGTERM');

    // Every subscriber got it; a duplicate is the same message: same id, same subscriber, same body, valid signature.
    const byId = new Map<string, Receiver['requests']>();
    for (const r of receiver.requests) {
      const id = String(r.headers['webhook-id']);
      byId.set(id, [...(byId.get(id) ?? []), r]);
    }
    expect(byId.size).toBe(n);
    expect(new Set(receiver.requests.map((r) => r.path)).size).toBe(n);
    for (const [id, copies] of byId) {
      expect(new Set(copies.map((c) => c.path)).size, id).toBe(1);
      expect(new Set(copies.map((c) => c.body)).size, id).toBe(1);
      for (const c of copies) {
        new Webhook(secret).verify(c.body, { 'webhook-id': id, 'webhook-timestamp': String(c.headers['webhook-timestamp']), 'webhook-signature': String(c.headers['webhook-signature']) });
      }
    }
    console.log(`crash test: ${receiver.requests.length} requests for ${n} notifications (${receiver.requests.length - n} duplicates after the SIGKILL)`);
  }, 120_000);
});
