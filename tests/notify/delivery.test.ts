import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../server/db/client.js';
import { subscribers } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createSubscriberMutation, drain, runUntil, startReceiver, testNotifyConfig, testWorker, type Receiver } from './helpers.js';

let hub: TestHub;
let receiver: Receiver;
let admin: string;

beforeAll(async () => {
  hub = await startTestHub();
  receiver = await startReceiver();
  admin = await hub.apiToken(['admin']);
});
afterAll(async () => {
  await receiver.close();
  await hub.close();
});

async function subscribe(path: string, componentIds: string[] = []): Promise<string> {
  const r = await hub.gql(createSubscriberMutation, { input: { audience: 'public', channel: 'webhook', target: `${receiver.url}${path}`, componentIds } }, { token: admin });
  expect(r.errors).toBeUndefined();
  return r.data.createSubscriber.subscriber.id;
}

const deliveriesOf = (subscriberId: string) =>
  queryRows<{ status: string; attempts: number; response_code: number | null; idempotency_key: string }>(
    hub.database.db,
    sql`select status, attempts, response_code, idempotency_key from notification_deliveries where subscriber_id = ${subscriberId} order by id`,
  );

describe('delivery', () => {
  it('retries a failing receiver with the same webhook-id until it accepts; a 410 disables the subscriber', async () => {
    const worker = testWorker(hub.database.db);
    try {
      const component = await catalog.createComponent(hub.system, { name: 'Retry target' });
      const flaky = await subscribe('/flaky', [component.id]);
      const gone = await subscribe('/gone', [component.id]);
      let failures = 0;
      receiver.respond = ({ path }) => (path === '/gone' ? 410 : path === '/flaky' && failures++ < 2 ? 500 : 200);
      await catalog.setComponentStatus(hub.system, component.id, 'major_outage');
      await runUntil(worker, () => receiver.requests.some((r) => r.path === '/flaky' && r.status === 200));
      const attempts = receiver.requests.filter((r) => r.path === '/flaky');
      expect(attempts.map((r) => r.status)).toEqual([500, 500, 200]);
      expect(new Set(attempts.map((r) => r.headers['webhook-id'])).size).toBe(1);
      expect(await deliveriesOf(flaky)).toEqual([{ status: 'sent', attempts: 3, response_code: 200, idempotency_key: attempts[0]!.headers['webhook-id'] }]);

      await drain(worker);
      expect(receiver.requests.filter((r) => r.path === '/gone').map((r) => r.status)).toEqual([410]);
      expect(await deliveriesOf(gone)).toMatchObject([{ status: 'dead', attempts: 1, response_code: 410 }]);
      const [state] = await hub.database.db.select({ state: subscribers.state, reason: subscribers.disabledReason }).from(subscribers).where(sql`${subscribers.id} = ${gone}`);
      expect(state).toEqual({ state: 'disabled', reason: 'HTTP 410 Gone' });

      // Disabled: the next change reaches the flaky one only.
      await catalog.setComponentStatus(hub.system, component.id, 'operational');
      await runUntil(worker, () => receiver.requests.filter((r) => r.path === '/flaky').length === 4);
      await drain(worker);
      expect(receiver.requests.filter((r) => r.path === '/gone')).toHaveLength(1);
      const stats = await hub.gql(`{ notificationStats { channel sent dead retrying successRate } }`, {}, { token: admin });
      expect(stats.data.notificationStats).toEqual([{ channel: 'webhook', sent: 2, dead: 1, retrying: 0, successRate: 2 / 3 }]);
      // Staff can disable and enable again.
      const enabled = await hub.gql(`mutation ($id: ID!) { enableSubscriber(id: $id) { state consecutiveFailures } }`, { id: gone }, { token: admin });
      expect(enabled.data.enableSubscriber).toEqual({ state: 'active', consecutiveFailures: 0 });
      await hub.gql(`mutation ($id: ID!) { disableSubscriber(id: $id) { state } }`, { id: gone }, { token: admin });
      await hub.gql(`mutation ($id: ID!) { disableSubscriber(id: $id) { state } }`, { id: flaky }, { token: admin });
    } finally {
      receiver.respond = () => 200;
      await worker.close();
    }
  });

  it('consolidates rapid updates to one incident into one message, and caps messages per subscriber per hour', async () => {
    const worker = testWorker(hub.database.db, testNotifyConfig({ NOTIFY_CONSOLIDATE_MS: '1500', NOTIFY_MAX_PER_HOUR: '2' }));
    try {
      const component = await catalog.createComponent(hub.system, { name: 'Storm' });
      const storm = await subscribe('/storm', [component.id]);
      const incident = await incidents.createIncident(hub.system, { title: 'Storm', status: 'investigating', impact: 'minor', message: 'One.', components: [{ componentId: component.id, status: 'degraded_performance' }] });
      await incidents.postIncidentUpdate(hub.system, incident.id, { status: 'identified', message: 'Two.' });
      await incidents.postIncidentUpdate(hub.system, incident.id, { status: 'monitoring', message: 'Three.' });
      // The component status change is sent at once; the incident's three events wait 1.5 s and become one.
      await runUntil(worker, () => receiver.requests.filter((r) => r.path === '/storm' && JSON.parse(r.body).incident).length === 1);
      await new Promise((r) => setTimeout(r, 300));
      await drain(worker);
      const incidentMessages = receiver.requests.filter((r) => r.path === '/storm').map((r) => JSON.parse(r.body)).filter((m) => m.incident);
      expect(incidentMessages).toHaveLength(1);
      expect(incidentMessages[0].incident.incident_updates.map((u: { body: string }) => u.body)).toEqual(['Three.', 'Two.', 'One.']);
      const rows = await queryRows<{ status: string }>(hub.database.db, sql`select status from notification_deliveries where subscriber_id = ${storm} and topic = ${`incident:${incident.id}`} order by id`);
      expect(rows.map((r) => r.status)).toEqual(['superseded', 'superseded', 'sent']);

      // Two sent this hour (the cap): the next one waits.
      await catalog.setComponentStatus(hub.system, component.id, 'major_outage');
      await drain(worker);
      await new Promise((r) => setTimeout(r, 100));
      await drain(worker);
      expect(receiver.requests.filter((r) => r.path === '/storm')).toHaveLength(2);
      const waiting = await queryRows<{ status: string; later: boolean }>(
        hub.database.db,
        sql`select status, next_attempt_at > now() + interval '1 minute' as later from notification_deliveries where subscriber_id = ${storm} and status = 'pending'`,
      );
      expect(waiting).toEqual([{ status: 'pending', later: true }]);
      await hub.gql(`mutation ($id: ID!) { disableSubscriber(id: $id) { state } }`, { id: storm }, { token: admin });
    } finally {
      await worker.close();
    }
  });

  it('two workers at once never send the same (event, subscriber) twice', async () => {
    const component = await catalog.createComponent(hub.system, { name: 'Shared' });
    const n = 150;
    await hub.database.db.insert(subscribers).values(
      Array.from({ length: n }, (_, i) => ({
        pageId: hub.page.id,
        audienceKind: 'public' as const,
        channel: 'webhook' as const,
        target: `${receiver.url}/pair/${i}`,
        componentIds: [component.id],
        state: 'active' as const,
        signingSecrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      })),
    );
    const config = testNotifyConfig({ NOTIFY_CONCURRENCY: '8' });
    const a = testWorker(hub.database.db, config);
    const b = testWorker(hub.database.db, config);
    try {
      await catalog.setComponentStatus(hub.system, component.id, 'partial_outage');
      await catalog.setComponentStatus(hub.system, component.id, 'operational');
      a.start();
      b.start();
      const pair = () => receiver.requests.filter((r) => r.path.startsWith('/pair/'));
      await receiver.waitFor(() => pair().length >= 2 * n, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      const ids = pair().map((r) => String(r.headers['webhook-id']));
      expect(ids).toHaveLength(2 * n);
      expect(new Set(ids).size).toBe(2 * n);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("the write's statements do not grow with subscribers: one outbox row per event", async () => {
    const component = await catalog.createComponent(hub.system, { name: 'Counted' });
    const incident = await incidents.createIncident(hub.system, { title: 'Counted', status: 'investigating', impact: 'minor', message: 'Start.', components: [{ componentId: component.id, status: 'degraded_performance' }] });
    const statements = async (message: string) => {
      const before = hub.database.queries.count;
      await incidents.postIncidentUpdate(hub.system, incident.id, { status: 'identified', message });
      return hub.database.queries.count - before;
    };
    await hub.database.db.execute(sql`update subscribers set state = 'disabled'`);
    const [{ active: none }] = (await queryRows<{ active: number }>(hub.database.db, sql`select count(*)::int as active from subscribers where state = 'active'`)) as [{ active: number }];
    expect(none).toBe(0);
    const without = await statements('Without subscribers.');
    await hub.database.db.insert(subscribers).values(
      Array.from({ length: 1000 }, (_, i) => ({ pageId: hub.page.id, audienceKind: 'public' as const, channel: 'webhook' as const, target: `https://example.com/${i}`, state: 'active' as const })),
    );
    const withThousand = await statements('With a thousand.');
    expect(withThousand).toBe(without);
    const outbox = await queryRows<{ n: number }>(hub.database.db, sql`select count(*)::int as n from notification_outbox o join events e on e.seq = o.event_seq where e.action = 'incident.update_posted' and e.entity_id = ${incident.id}`);
    expect(outbox[0]!.n).toBe(2);
  });
});
