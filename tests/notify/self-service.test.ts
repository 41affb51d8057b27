import { and, eq } from 'drizzle-orm';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, subscribers } from '../../server/db/tables/index.js';
import { chatSmsChannels } from '../../server/notify/channels/chat-sms.js';
import { webhookChannel } from '../../server/notify/channels/webhook.js';
import { createNotifyWorker } from '../../server/notify/worker.js';
import { createHttpServer } from '../../server/http/server.js';
import { subscriptionsHandler } from '../../server/http/subscriptions.js';
import { setSubscriptionSettings } from '../../server/services/subscriptions.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { runUntil, startReceiver, testNotifyConfig, type Receiver } from './helpers.js';

/**
 * Self-service subscriptions through every channel (docs/API.md, *Subscribing*): each is double
 * opt-in through the channel itself, nothing is sent before the confirm link is followed, a
 * webhook's confirmation carries the secret its messages are then signed with, its messages carry
 * a working unsubscribe link, and every step is in the audit log as the self-service actor.
 */

let hub: TestHub;
let server: Server;
let origin: string;
let hooks: Receiver;
let sms: Receiver;
let worker: ReturnType<typeof createNotifyWorker>;
const closers: (() => void)[] = [];

const subscribeMutation = /* GraphQL */ `
  mutation ($input: SubscribeInput!) {
    subscribe(input: $input)
  }
`;

beforeAll(async () => {
  hub = await startTestHub();
  hooks = await startReceiver();
  sms = await startReceiver();
  server = createHttpServer(hub.yoga, { subscriptions: subscriptionsHandler(hub.database.db) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const smsSettings = { baseUrl: sms.url, accountSid: 'AC1', authToken: 'secret', from: '+15550000000' };
  const config = { ...testNotifyConfig(), sms: smsSettings };
  // No SMTP here: email is not offered.
  setSubscriptionSettings({ email: null, origin, sms: smsSettings, timeoutMs: 5_000, allowPrivateTargets: true });
  const webhook = webhookChannel({ timeoutMs: 5_000, allowPrivateTargets: true });
  const chat = chatSmsChannels(config);
  closers.push(() => webhook.close(), ...chat.map((c) => () => c.close()));
  worker = createNotifyWorker({ db: hub.database.db, config, origin, channels: [webhook, ...chat] });
});
afterAll(async () => {
  await worker.stop();
  for (const close of closers) close();
  setSubscriptionSettings(null);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await hooks.close();
  await sms.close();
  await hub.close();
});

const at = (path: string) => (r: { path: string }) => r.path === path;
const json = (body: string) => JSON.parse(body) as Record<string, any>;

describe('self-service subscriptions through every channel', () => {
  it('offers only the configured channels; an unoffered or malformed one is a typed error that writes nothing', async () => {
    const offered = await hub.gql(`{ page { subscriptionChannels } }`);
    expect(offered.data).toEqual({ page: { subscriptionChannels: ['sms', 'webhook', 'slack', 'teams'] } });
    const before = await hub.snapshotCounts();
    for (const [input, field] of [
      [{ email: 'a@example.test' }, 'channel'],
      [{ channel: 'sms', target: '555-1234' }, 'target'],
      [{ channel: 'slack', target: 'http://hooks.example.test/x' }, 'target'],
      [{ channel: 'webhook', target: 'not a url' }, 'target'],
      [{ channel: 'webhook' }, 'target'],
    ] as const) {
      const r = await hub.gql(subscribeMutation, { input });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', field });
    }
    expect(await hub.snapshotCounts()).toEqual(before);
  });

  it('a webhook: signed confirmation with its secret, nothing before confirming, then signed messages with a working unsubscribe link', async () => {
    const web = await catalog.createComponent(hub.system, { name: 'Web' });
    const target = `${hooks.url}/ops-hook`;
    expect((await hub.gql(subscribeMutation, { input: { channel: 'webhook', target } })).data).toEqual({ subscribe: true });
    await hooks.waitFor((rs) => rs.some(at('/ops-hook')));
    const confirmation = hooks.requests.find(at('/ops-hook'))!;
    const body = json(confirmation.body);
    expect(body.meta.type).toBe('subscription_confirmation');
    expect(body.subscription.audience).toBe('public');
    const secret = body.subscription.signing_secret as string;
    expect(secret).toMatch(/^whsec_/);
    // Signed with the secret it carries (Standard Webhooks).
    expect(() => new Webhook(secret).verify(confirmation.body, confirmation.headers as Record<string, string>)).not.toThrow();
    const [row] = await hub.database.db.select().from(subscribers).where(eq(subscribers.target, target));
    expect(row!.state).toBe('pending');

    // Nothing but the confirmation before the link is followed.
    await incidents.createIncident(hub.system, { title: 'Web slow', status: 'investigating', impact: 'minor', message: 'Looking.', components: [{ componentId: web.id, status: 'degraded_performance' }] });
    for (let i = 0; i < 5; i++) await worker.runOnce();
    expect(hooks.requests.filter(at('/ops-hook'))).toHaveLength(1);

    // Asking again while pending (within a minute) sends nothing more: no message-bombing.
    expect((await hub.gql(subscribeMutation, { input: { channel: 'webhook', target } })).data).toEqual({ subscribe: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(hooks.requests.filter(at('/ops-hook'))).toHaveLength(1);

    const confirmed = await fetch(body.subscription.confirm_url);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).not.toContain('/ops-hook');

    await incidents.createIncident(hub.system, { title: 'Web down', status: 'identified', impact: 'major', message: 'Public.', components: [{ componentId: web.id, status: 'major_outage' }] });
    await runUntil(worker, () => hooks.requests.filter(at('/ops-hook')).some((r) => r.body.includes('Web down')));
    const message = hooks.requests.filter(at('/ops-hook')).find((r) => r.body.includes('Web down'))!;
    expect(() => new Webhook(secret).verify(message.body, message.headers as Record<string, string>)).not.toThrow();
    const unsubscribeUrl = json(message.body).meta.unsubscribe as string;
    expect(unsubscribeUrl).toMatch(new RegExp(`^${origin}/subscriptions/unsubscribe\\?token=shm_`));

    // A subscriber already active asks again: same answer, no new confirmation (no enumeration).
    const count = hooks.requests.filter(at('/ops-hook')).length;
    expect((await hub.gql(subscribeMutation, { input: { channel: 'webhook', target } })).data).toEqual({ subscribe: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(hooks.requests.filter(at('/ops-hook'))).toHaveLength(count);

    // The manage link shows the URL only by its origin (a hook URL is a secret; links get forwarded).
    const managed = await fetch(unsubscribeUrl.replace('/unsubscribe?', '/manage?'), { headers: { accept: 'application/json' } });
    expect(await managed.json()).toMatchObject({ channel: 'webhook', target: `${hooks.url}/…`, state: 'active' });

    expect((await fetch(unsubscribeUrl, { method: 'POST' })).status).toBe(200);
    await incidents.createIncident(hub.system, { title: 'Web again', status: 'identified', impact: 'minor', message: 'Again.', components: [{ componentId: web.id, status: 'partial_outage' }] });
    for (let i = 0; i < 5; i++) await worker.runOnce();
    expect(hooks.requests.filter(at('/ops-hook')).some((r) => r.body.includes('Web again'))).toBe(false);

    // Each step is in the audit log, as the self-service actor.
    const logged = await hub.database.db
      .select({ action: events.action, actorType: events.actorType, actorName: events.actorName, after: events.after })
      .from(events)
      .where(and(eq(events.entityType, 'subscriber'), eq(events.entityId, row!.id)))
      .orderBy(events.seq);
    expect(logged.map((e) => [e.action, e.actorType, e.actorName, (e.after as { state: string }).state])).toEqual([
      ['subscriber.created', 'system', 'self-service', 'pending'],
      ['subscriber.updated', 'system', 'self-service', 'active'],
      ['subscriber.updated', 'system', 'self-service', 'unsubscribed'],
    ]);
    // Neither the secret nor a token hash is in the log.
    for (const e of logged) expect(JSON.stringify(e.after)).not.toMatch(/whsec_|TokenHash/);
  });

  it('Slack, Teams and SMS: the confirmation goes through the channel; a deployment customer follows only what their audience sees', async () => {
    const deployment = await catalog.createDeployment(hub.system, { slug: 'eu-9', name: 'EU-9', access: 'protected' });
    const other = await catalog.createDeployment(hub.system, { slug: 'us-9', name: 'US-9', access: 'protected' });
    const euGroup = await catalog.createGroup(hub.system, { name: 'EU-9 services', deploymentId: deployment.id });
    const usGroup = await catalog.createGroup(hub.system, { name: 'US-9 services', deploymentId: other.id });
    const euApi = await catalog.createComponent(hub.system, { name: 'EU-9 API', groupId: euGroup.id });
    const usApi = await catalog.createComponent(hub.system, { name: 'US-9 API', groupId: usGroup.id });
    const token = await hub.audienceToken(deployment.id);
    // The other deployment's component exists (staff see it), yet EU-9's customers cannot follow it.
    const staff = await hub.apiToken(['read:internal']);
    expect((await hub.gql(`query ($id: ID!) { component(id: $id) { name } }`, { id: usApi.id }, { token: staff })).data).toEqual({ component: { name: 'US-9 API' } });
    const refused = await hub.gql(subscribeMutation, { input: { channel: 'slack', target: `${hooks.url}/slack`, components: [usApi.id] } }, { token });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', field: 'componentIds' });

    for (const [channel, target] of [
      ['slack', `${hooks.url}/slack`],
      ['teams', `${hooks.url}/teams`],
      ['sms', '+15551234567'],
    ] as const) {
      expect((await hub.gql(subscribeMutation, { input: { channel, target, components: [euApi.id] } }, { token })).data).toEqual({ subscribe: true });
    }
    await hooks.waitFor((rs) => rs.some(at('/slack')) && rs.some(at('/teams')));
    await sms.waitFor((rs) => rs.length >= 1);
    const slack = json(hooks.requests.find(at('/slack'))!.body);
    const teams = json(hooks.requests.find(at('/teams'))!.body);
    const text = new URLSearchParams(sms.requests[0]!.body);
    const confirmLink = /(http:\/\/\S+\/subscriptions\/confirm\?token=shc_[\w-]+)/;
    expect(JSON.stringify(slack.blocks)).toMatch(confirmLink);
    expect(teams.attachments[0].content.actions[0]).toMatchObject({ type: 'Action.OpenUrl', title: 'Confirm' });
    expect(text.get('To')).toBe('+15551234567');
    expect(text.get('Body')).toMatch(confirmLink);
    const rows = await hub.database.db.select().from(subscribers).where(eq(subscribers.deploymentId, deployment.id));
    expect(rows.map((r) => [r.channel, r.state, r.componentIds]).sort()).toEqual([
      ['slack', 'pending', [euApi.id]],
      ['sms', 'pending', [euApi.id]],
      ['teams', 'pending', [euApi.id]],
    ]);

    // Confirm all three; a change of the other deployment reaches none of them, EU-9's reaches each.
    for (const url of [JSON.stringify(slack.blocks).match(confirmLink)![1]!, teams.attachments[0].content.actions[0].url as string, text.get('Body')!.match(confirmLink)![1]!]) {
      expect((await fetch(url)).status).toBe(200);
    }
    await catalog.setComponentStatus(hub.system, usApi.id, 'major_outage');
    await catalog.setComponentStatus(hub.system, euApi.id, 'partial_outage');
    await runUntil(worker, () => hooks.requests.filter(at('/slack')).length === 2 && hooks.requests.filter(at('/teams')).length === 2 && sms.requests.length === 2);
    for (let i = 0; i < 5; i++) await worker.runOnce();
    const sent = [...hooks.requests.filter((r) => r.path === '/slack' || r.path === '/teams').map((r) => r.body), ...sms.requests.map((r) => new URLSearchParams(r.body).get('Body') ?? '')];
    expect(sent.filter((b) => b.includes('EU-9 API'))).toHaveLength(3);
    for (const b of sent) expect(b).not.toContain('US-9');
  });

  it('the manage link changes what is followed, offering and accepting only what the audience sees; audited; bad choices change nothing', async () => {
    const shown = await catalog.createComponent(hub.system, { name: 'Checkout' });
    const hidden = await catalog.createComponent(hub.system, { name: 'Ledger DB', visibility: 'internal' });
    const staff = await hub.apiToken(['read:internal']);
    expect((await hub.gql(`query ($id: ID!) { component(id: $id) { name } }`, { id: hidden.id }, { token: staff })).data).toEqual({ component: { name: 'Ledger DB' } });
    const target = `${hooks.url}/prefs-hook`;
    await hub.gql(subscribeMutation, { input: { channel: 'webhook', target } });
    await hooks.waitFor((rs) => rs.some(at('/prefs-hook')));
    const manageUrl = json(hooks.requests.find(at('/prefs-hook'))!.body).meta.manage as string;
    const [row] = await hub.database.db.select().from(subscribers).where(eq(subscribers.target, target));

    const form = await (await fetch(manageUrl)).text();
    expect(form).toContain(`name="component" value="${shown.id}"`);
    expect(form).not.toContain(hidden.id);
    expect(form).not.toContain('Ledger DB');

    const post = (body: string, type = 'application/x-www-form-urlencoded') => fetch(manageUrl, { method: 'POST', headers: { 'content-type': type }, body });
    const saved = await post(`follow=some&component=${shown.id}`);
    expect(saved.status).toBe(200);
    expect(await saved.text()).toContain('Saved.');
    const followed = async () => (await hub.database.db.select().from(subscribers).where(eq(subscribers.id, row!.id)))[0]!;
    expect((await followed()).componentIds).toEqual([shown.id]);

    // A hidden component, nothing ticked, junk JSON, an oversized body: refused, nothing changes.
    for (const [body, type] of [
      [`follow=some&component=${hidden.id}`, undefined],
      ['follow=some', undefined],
      ['{"componentIds": "x"}', 'application/json'],
      ['not json', 'application/json'],
      [`follow=some&component=${'x'.repeat(70_000)}`, undefined],
    ] as const) {
      expect((await post(body, type)).status, body.slice(0, 40)).toBeGreaterThanOrEqual(400);
    }
    expect((await followed()).componentIds).toEqual([shown.id]);

    const everything = await fetch(manageUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{"componentIds": []}' });
    expect(await everything.json()).toMatchObject({ follows: 'everything', state: 'pending' });
    expect((await followed()).componentIds).toEqual([]);
    const logged = await hub.database.db.select({ after: events.after, actorName: events.actorName }).from(events).where(and(eq(events.entityType, 'subscriber'), eq(events.entityId, row!.id))).orderBy(events.seq);
    expect(logged.map((e) => [e.actorName, (e.after as { componentIds: string[] }).componentIds])).toEqual([
      ['self-service', []],
      ['self-service', [shown.id]],
      ['self-service', []],
    ]);
  });
});
