import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { systemViewer } from '../server/auth/viewer.js';
import { ensureDefaultPage } from '../server/bootstrap.js';
import { subscribers } from '../server/db/tables/index.js';
import { webhookChannel } from '../server/notify/channels/webhook.js';
import { notifyConfigFromEnv } from '../server/notify/config.js';
import { createNotifyWorker } from '../server/notify/worker.js';
import * as catalog from '../server/services/catalog.js';
import type { ServiceContext } from '../server/services/context.js';
import * as incidents from '../server/services/incidents.js';
import { createTestDatabase } from '../tests/helpers/database.js';

/**
 * `npm run bench:notify`: one incident update to N webhook subscribers (BENCH_WEBHOOKS, 1,000) on
 * a local sink → time until the last delivery and deliveries per second; and the write's latency
 * (postIncidentUpdate, median of BENCH_WRITES, 20) with 0 and with N subscribers, which must not
 * grow: the write adds one outbox row whatever the number of subscribers. A fresh database on
 * DATABASE_URL's server (dropped afterwards), in-memory PGlite without it. The worker runs in this
 * process with NOTIFY_* from the environment over bench defaults (no consolidation wait).
 * The email channel does not exist yet: its 10,000-subscriber run is for later.
 */

const webhooks = Number(process.env.BENCH_WEBHOOKS ?? 1000);
const writes = Number(process.env.BENCH_WRITES ?? 20);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const database = await createTestDatabase();
let received = 0;
let firstAt = 0;
let lastAt = 0;
const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    lastAt = performance.now();
    if (!firstAt) firstAt = lastAt;
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

try {
  const { page } = await ensureDefaultPage(database.db);
  const ctx: ServiceContext = { db: database.db, viewer: systemViewer(page, 'bench') };
  const component = await catalog.createComponent(ctx, { name: 'API' });
  const incident = await incidents.createIncident(ctx, {
    title: 'Elevated error rates',
    status: 'investigating',
    impact: 'minor',
    message: 'We are investigating.',
    components: [{ componentId: component.id, status: 'degraded_performance' }],
  });

  async function writeLatencies(label: string): Promise<{ medianMs: number; statements: number }> {
    const times: number[] = [];
    let statements = 0;
    for (let i = 0; i < writes; i++) {
      const before = database.queries.count;
      const t0 = performance.now();
      await incidents.postIncidentUpdate(ctx, incident.id, { status: 'identified', message: `${label} ${i}` });
      times.push(performance.now() - t0);
      statements = database.queries.count - before;
    }
    // Not sent: these updates only measure the write.
    await database.db.execute(sql`update notification_outbox set processed_at = now() where processed_at is null`);
    return { medianMs: median(times), statements };
  }

  const without = await writeLatencies('without subscribers');
  await database.db.insert(subscribers).values(
    Array.from({ length: webhooks }, (_, i) => ({
      pageId: page.id,
      audienceKind: 'public' as const,
      channel: 'webhook' as const,
      target: `${sinkUrl}/hook/${i}`,
      state: 'active' as const,
      signingSecrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    })),
  );
  const withSubscribers = await writeLatencies(`with ${webhooks} subscribers`);

  const config = notifyConfigFromEnv({ NOTIFY_ALLOW_PRIVATE_TARGETS: 'true', NOTIFY_CONSOLIDATE_MS: '0', NOTIFY_POLL_MS: '10', NOTIFY_CONCURRENCY: '64', NOTIFY_MAX_PER_HOUR: '1000000', ...process.env });
  const channel = webhookChannel({ timeoutMs: config.timeoutMs, allowPrivateTargets: true });
  const worker = createNotifyWorker({ db: database.db, config, origin: 'http://localhost:3000', channels: [channel] });
  worker.start();
  const t0 = performance.now();
  await incidents.postIncidentUpdate(ctx, incident.id, { status: 'monitoring', message: 'A fix is rolling out.' });
  const committed = performance.now();
  worker.wake();
  const deadline = Date.now() + 120_000;
  while (received < webhooks && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await worker.stop();
  channel.close();

  const result = {
    at: new Date().toISOString(),
    database: database.kind,
    webhooks,
    received,
    writeMs: { withoutSubscribers: +without.medianMs.toFixed(2), withSubscribers: +withSubscribers.medianMs.toFixed(2) },
    writeStatements: { withoutSubscribers: without.statements, withSubscribers: withSubscribers.statements },
    commitMs: +(committed - t0).toFixed(1),
    firstDeliveryMs: +(firstAt - t0).toFixed(1),
    lastDeliveryMs: +(lastAt - t0).toFixed(1),
    deliveriesPerSecond: Math.round(received / ((lastAt - committed) / 1000)),
    email: 'not measured: the email channel does not exist yet (10,000 email subscribers is for later)',
  };
  console.log(`notify bench (${database.kind}), ${webhooks} webhook subscribers on a local sink:`);
  console.log(`  write (postIncidentUpdate), median of ${writes}: ${result.writeMs.withoutSubscribers} ms with 0 subscribers, ${result.writeMs.withSubscribers} ms with ${webhooks}` + ` (statements ${without.statements} vs ${withSubscribers.statements})`);
  console.log(`  one update → ${received}/${webhooks} delivered; first after ${result.firstDeliveryMs} ms, last after ${result.lastDeliveryMs} ms; ${result.deliveriesPerSecond} deliveries/s`);
  console.log(`  email: ${result.email}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/notify-${result.at.replace(/[:.]/g, '-')}.json`, JSON.stringify(result, null, 2) + '\n');
  if (received < webhooks) process.exitCode = 1;
} finally {
  sink.closeAllConnections();
  sink.close();
  await database.destroy();
}
