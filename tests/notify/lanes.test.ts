import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { queryRows } from '../../server/db/client.js';
import { subscribers } from '../../server/db/tables/index.js';
import { slackChannel } from '../../server/notify/channels/slack.js';
import { webhookChannel } from '../../server/notify/channels/webhook.js';
import { newLinkToken } from '../../server/notify/links.js';
import { createNotifyWorker } from '../../server/notify/worker.js';
import * as catalog from '../../server/services/catalog.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { startReceiver, testNotifyConfig, type Receiver } from './helpers.js';

/**
 * Each channel has a lane of its own in the worker: a slow channel (a Slack hook that takes 300 ms
 * an answer here; an SMTP relay in life) never holds up a fast one. Before, both shared one queue
 * in order, and 1,000 webhooks waited behind 10,000 emails (`npm run bench:notify`).
 */

let hub: TestHub;
let slow: Receiver;
let fast: Receiver;

beforeAll(async () => {
  hub = await startTestHub();
  slow = await startReceiver();
  fast = await startReceiver();
  slow.delayMs = 300;
});
afterAll(async () => {
  await slow.close();
  await fast.close();
  await hub.close();
});

it('webhooks are not held up behind a slow channel', async () => {
  const n = 40;
  const row = (channel: 'slack' | 'webhook', target: string) => ({
    pageId: hub.page.id,
    audienceKind: 'public' as const,
    channel,
    target,
    state: 'active' as const,
    manageTokenHash: newLinkToken('manage').hash,
    signingSecrets: channel === 'webhook' ? ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] : [],
  });
  // The slow channel's subscribers first: one queue in order would send all of them before any webhook.
  await hub.database.db.insert(subscribers).values(Array.from({ length: n }, (_, i) => row('slack', `${slow.url}/slack/${i}`)));
  await hub.database.db.insert(subscribers).values(Array.from({ length: n }, (_, i) => row('webhook', `${fast.url}/hook/${i}`)));
  // A channel this worker lacks: its lane gives the message up at once rather than leave it waiting.
  const [texted] = await hub.database.db.insert(subscribers).values({ ...row('webhook', '+15551234567'), channel: 'sms' }).returning();
  const config = testNotifyConfig({ NOTIFY_CONCURRENCY: '4' });
  const http = { timeoutMs: 5_000, allowPrivateTargets: true };
  const slack = slackChannel(http);
  const webhook = webhookChannel(http);
  const worker = createNotifyWorker({ db: hub.database.db, config, origin: 'https://status.test', channels: [slack, webhook] });
  try {
    const component = await catalog.createComponent(hub.system, { name: 'API' });
    await catalog.setComponentStatus(hub.system, component.id, 'major_outage');
    worker.start();
    worker.wake();
    // 40 Slack messages, 4 at a time, 300 ms each: at least 3 s. The webhooks are all in well before.
    await fast.waitFor((rs) => rs.filter((r) => r.body.includes('major_outage')).length === n, 10_000);
    expect(slow.requests.length).toBeLessThan(n / 2);
    await slow.waitFor((rs) => rs.length === n, 20_000);
    const [given] = await queryRows<{ status: string; last_error: string }>(hub.database.db, sql`select status, last_error from notification_deliveries where subscriber_id = ${texted!.id}`);
    expect(given).toEqual({ status: 'dead', last_error: 'no sms channel' });
  } finally {
    await worker.stop();
    slack.close();
    webhook.close();
  }
}, 30_000);
