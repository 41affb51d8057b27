import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { publicAudience } from '../../server/auth/audience.js';
import { audienceViewer } from '../../server/auth/viewer.js';
import { statuspageAnswer } from '../../server/http/statuspage-api.js';
import { subscriberByToken } from '../../server/services/subscriptions.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createSubscriberMutation, drain, startReceiver, testWorker, type Receiver } from './helpers.js';

let hub: TestHub;
let receiver: Receiver;
let admin: string;
let worker: ReturnType<typeof testWorker>;

beforeAll(async () => {
  hub = await startTestHub();
  receiver = await startReceiver();
  admin = await hub.apiToken(['admin']);
  worker = testWorker(hub.database.db);
});
afterAll(async () => {
  await worker.close();
  await receiver.close();
  await hub.close();
});

const headersOf = (r: Receiver['requests'][number]) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

describe('webhook channel, end to end', () => {
  it('signs every request (Standard Webhooks), verifies during a secret rotation, and sends the Statuspage body', async () => {
    const api = await catalog.createComponent(hub.system, { name: 'API' });
    const created = await hub.gql(createSubscriberMutation, { input: { audience: 'public', channel: 'webhook', target: `${receiver.url}/hook` } }, { token: admin });
    expect(created.errors).toBeUndefined();
    const first: string = created.data.createSubscriber.signingSecret;
    expect(first).toMatch(/^whsec_/);
    expect(created.data.createSubscriber.subscriber).toMatchObject({ audience: 'public', channel: 'webhook', state: 'active', signingSecretCount: 1 });
    const subscriberId: string = created.data.createSubscriber.subscriber.id;

    const incident = await incidents.createIncident(hub.system, {
      title: 'Elevated errors',
      status: 'investigating',
      impact: 'minor',
      message: 'We are looking into it.',
      components: [{ componentId: api.id, status: 'partial_outage' }],
    });
    await drain(worker);
    await receiver.waitFor((r) => r.some((x) => JSON.parse(x.body).incident));
    for (const request of receiver.requests) {
      expect(request.path).toBe('/hook');
      expect(request.headers['content-type']).toBe('application/json');
      expect(new Webhook(first).verify(request.body, headersOf(request))).toBeTruthy();
      expect(String(request.headers['webhook-id'])).toMatch(new RegExp(`^msg_\\d+_${subscriberId}$`));
    }
    const incidentMessage = JSON.parse(receiver.requests.find((x) => JSON.parse(x.body).incident)!.body);
    expect(incidentMessage.meta).toEqual({ unsubscribe: expect.stringMatching(/^https:\/\/status\.test\/subscriptions\/unsubscribe\?token=shm_/), documentation: expect.stringMatching(/^https:/) });
    // The link's token names this subscriber (the route is tested end to end in self-service.test.ts).
    const token = new URL(incidentMessage.meta.unsubscribe).searchParams.get('token');
    expect((await subscriberByToken(hub.database.db, token, 'manage'))?.id).toBe(subscriberId);
    expect(incidentMessage.page).toEqual({ id: hub.page.id, name: hub.page.name, url: 'https://status.test/', status_indicator: 'major', status_description: 'Partial System Outage' });
    expect(incidentMessage.incident).toMatchObject({ id: incident.id, name: 'Elevated errors', status: 'investigating', impact: 'minor' });
    expect(incidentMessage.incident.incident_updates).toHaveLength(1);
    expect(incidentMessage.incident.incident_updates[0]).toMatchObject({ body: 'We are looking into it.', deliver_notifications: true });
    expect(incidentMessage.incident.components.map((c: { id: string }) => c.id)).toEqual([api.id]);
    const componentMessage = JSON.parse(receiver.requests.find((x) => JSON.parse(x.body).component_update)!.body);
    expect(componentMessage.component_update).toMatchObject({ component_id: api.id, old_status: 'operational', new_status: 'partial_outage' });
    expect(componentMessage.component).toMatchObject({ id: api.id, name: 'API', status: 'partial_outage' });

    // Rotation: both secrets sign until the old one is dropped.
    const rotated = await hub.gql(
      `mutation ($id: ID!) { rotateSubscriberSigningSecret(id: $id) { signingSecret subscriber { signingSecretCount } } }`,
      { id: subscriberId },
      { token: admin },
    );
    expect(rotated.errors).toBeUndefined();
    const second: string = rotated.data.rotateSubscriberSigningSecret.signingSecret;
    expect(rotated.data.rotateSubscriberSigningSecret.subscriber.signingSecretCount).toBe(2);
    let seen = receiver.requests.length;
    await incidents.postIncidentUpdate(hub.system, incident.id, { status: 'identified', message: 'A bad deploy.' });
    await drain(worker);
    await receiver.waitFor((r) => r.length > seen);
    const during = receiver.requests.at(-1)!;
    expect(new Webhook(first).verify(during.body, headersOf(during))).toBeTruthy();
    expect(new Webhook(second).verify(during.body, headersOf(during))).toBeTruthy();
    expect(JSON.parse(during.body).incident.incident_updates.map((u: { body: string }) => u.body)).toEqual(['A bad deploy.', 'We are looking into it.']);

    await hub.gql(`mutation ($id: ID!) { rotateSubscriberSigningSecret(id: $id, keepPrevious: false) { signingSecret } }`, { id: subscriberId }, { token: admin }).then((r) => {
      expect(r.errors).toBeUndefined();
      return r;
    });
    const third = (await hub.gql(`{ subscribers { id signingSecretCount } }`, {}, { token: admin })).data.subscribers[0];
    expect(third.signingSecretCount).toBe(1);
    seen = receiver.requests.length;
    await incidents.postIncidentUpdate(hub.system, incident.id, { status: 'monitoring', message: 'Rolled back.' });
    await drain(worker);
    await receiver.waitFor((r) => r.length > seen);
    const after = receiver.requests.at(-1)!;
    expect(() => new Webhook(first).verify(after.body, headersOf(after))).toThrow();
    expect(() => new Webhook(second).verify(after.body, headersOf(after))).toThrow();

    // The staff log: every delivery sent, success rate 1.
    const log = await hub.gql(`{ notificationDeliveries { status attempts responseCode idempotencyKey } notificationStats { channel sent dead successRate } }`, {}, { token: admin });
    expect(log.errors).toBeUndefined();
    expect(log.data.notificationDeliveries.every((d: { status: string }) => d.status === 'sent')).toBe(true);
    expect(log.data.notificationStats).toEqual([{ channel: 'webhook', sent: receiver.requests.length, dead: 0, successRate: 1 }]);
  });

  it('an update posted with deliverNotifications: false tells no one', async () => {
    const component = await catalog.createComponent(hub.system, { name: 'Quiet' });
    const incident = await incidents.createIncident(hub.system, { title: 'Quiet one', status: 'investigating', impact: 'minor', message: 'Looking.', components: [{ componentId: component.id, status: 'degraded_performance' }] });
    await drain(worker);
    const seen = receiver.requests.length;
    const result = await hub.gql(
      `mutation ($id: ID!) { postIncidentUpdate(id: $id, input: { status: identified, message: "Silent.", deliverNotifications: false, components: [{ componentId: "${component.id}", status: major_outage }] }) { id } }`,
      { id: incident.id },
      { token: admin },
    );
    expect(result.errors).toBeUndefined();
    await drain(worker);
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.requests.length).toBe(seen);
    // It is still on the page, marked as Statuspage marks it.
    const api = (await statuspageAnswer(hub.database.db, audienceViewer(hub.page, publicAudience), 'https://status.test', 'incidents.json')) as { incidents: { id: string; incident_updates: unknown[] }[] };
    const listed = api.incidents.find((i) => i.id === incident.id)!;
    expect(listed.incident_updates[0]).toMatchObject({ body: 'Silent.', deliver_notifications: false });
  });

  it('gives up an attempt after the timeout, to be retried', async () => {
    const { webhookChannel } = await import('../../server/notify/channels/webhook.js');
    const quick = webhookChannel({ timeoutMs: 200, allowPrivateTargets: true });
    receiver.delayMs = 2000;
    try {
      const started = Date.now();
      const result = await quick.send({ id: 'msg_slow', attempt: 1, subscriberId: 'x', target: `${receiver.url}/slow`, signingSecrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }, {});
      expect(result).toMatchObject({ ok: false, retryable: true, disable: false, error: 'timed out after 200 ms' });
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      receiver.delayMs = 0;
      quick.close();
    }
  });

  it('refuses private targets unless allowed (SSRF)', async () => {
    const { webhookChannel, isPrivateAddress } = await import('../../server/notify/channels/webhook.js');
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1']) expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) expect(isPrivateAddress(a), a).toBe(false);
    const strict = webhookChannel({ timeoutMs: 2000, allowPrivateTargets: false });
    const delivery = { id: 'msg_1', attempt: 1, subscriberId: 'x', signingSecrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] };
    const seen = receiver.requests.length;
    expect(await strict.send({ ...delivery, target: receiver.url }, {})).toMatchObject({ ok: false, retryable: false });
    expect(await strict.send({ ...delivery, target: receiver.url.replace('127.0.0.1', 'localhost') }, {})).toMatchObject({ ok: false, retryable: false });
    expect(receiver.requests.length).toBe(seen);
    strict.close();
  });
});
