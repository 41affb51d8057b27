import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationDeliveries, pages, subscribers } from '../../server/db/tables/index.js';
import { emailChannel, renderEmail } from '../../server/notify/channels/email.js';
import { webhookChannel } from '../../server/notify/channels/webhook.js';
import { createNotifyWorker } from '../../server/notify/worker.js';
import { createHttpServer } from '../../server/http/server.js';
import { subscriptionsHandler } from '../../server/http/subscriptions.js';
import { setSubscriptionSettings } from '../../server/services/subscriptions.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createSubscriberMutation, runUntil, testNotifyConfig } from './helpers.js';
import { startSmtpSink, type SmtpSink } from './smtp.js';

let hub: TestHub;
let smtp: SmtpSink;
let worker: ReturnType<typeof createNotifyWorker>;
let email: ReturnType<typeof emailChannel>;
let webhook: ReturnType<typeof webhookChannel>;
let server: Server;
let origin: string;

beforeAll(async () => {
  hub = await startTestHub();
  smtp = await startSmtpSink();
  server = createHttpServer(hub.yoga, { subscriptions: subscriptionsHandler(hub.database.db) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = testNotifyConfig();
  const mailer = { smtpUrl: smtp.url, from: 'Status <status@status.test>', timeoutMs: 5_000 };
  setSubscriptionSettings({ email: mailer, origin });
  email = emailChannel(mailer);
  webhook = webhookChannel({ timeoutMs: 5_000, allowPrivateTargets: true });
  worker = createNotifyWorker({ db: hub.database.db, config, origin, channels: [webhook, email] });
  await hub.database.db.update(pages).set({ name: 'Acme <Status>', branding: { accentColor: '#ff6600' } }).where(eq(pages.id, hub.page.id));
});
afterAll(async () => {
  await worker.stop();
  email.close();
  webhook.close();
  await smtp.close();
  setSubscriptionSettings(null);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await hub.close();
});

const deliveriesOf = (subscriberId: string) => hub.database.db.select().from(notificationDeliveries).where(eq(notificationDeliveries.subscriberId, subscriberId));

describe('email channel', () => {
  it('renders escaped HTML and plain text from the message', () => {
    const r = renderEmail(
      { incident: { name: '<b>DB</b> & co', status: 'investigating', impact: 'major', shortlink: 'https://s.test/i/1', incident_updates: [{ status: 'investigating', body: 'We <script>x</script> look', created_at: 't' }] } },
      { pageName: 'P"age', accentColor: 'red;background:url(x)', manageUrl: 'https://s.test/m?token=a&b', unsubscribeUrl: 'https://s.test/u' },
    );
    expect(r.subject).toBe('[P"age] Incident: <b>DB</b> & co (investigating)');
    expect(r.html).toContain('&lt;b&gt;DB&lt;/b&gt; &amp; co');
    expect(r.html).toContain('We &lt;script&gt;x&lt;/script&gt; look');
    expect(r.html).not.toContain('<script>');
    expect(r.html).not.toContain('url(x)');
    expect(r.html).toContain('https://s.test/m?token=a&amp;b');
    expect(r.text).toContain('We <script>x</script> look');
  });

  it('sends each audience its slice, with both parts, the page name and one-click unsubscribe; 421 is retried with the same Message-ID; 550 disables', async () => {
    const admin = await hub.apiToken(['admin']);
    const eu = await catalog.createDeployment(hub.system, { slug: 'eu-1', name: 'EU 1', access: 'open' });
    const euGroup = await catalog.createGroup(hub.system, { name: 'EU group', deploymentId: eu.id });
    const api = await catalog.createComponent(hub.system, { name: 'Public API' });
    const euDb = await catalog.createComponent(hub.system, { name: 'EU database', groupId: euGroup.id });
    const subscribe = async (audience: string, target: string) => {
      const r = await hub.gql(createSubscriberMutation, { input: { audience, channel: 'email', target } }, { token: admin });
      expect(r.errors).toBeUndefined();
      return r.data.createSubscriber.subscriber.id as string;
    };
    const pub = await subscribe('public', 'pub@example.test');
    const euSub = await subscribe('deployment:eu-1', 'eu@example.test');
    const flaky = await subscribe('public', 'flaky@example.test');
    const gone = await subscribe('public', 'gone@example.test');
    let flakyRefusals = 1;
    smtp.refuse = (to) => (to === 'gone@example.test' ? 550 : to === 'flaky@example.test' && flakyRefusals-- > 0 ? 421 : null);

    const hidden = await incidents.createIncident(hub.system, { title: 'Queue backlog (staff)', status: 'investigating', impact: 'major', message: 'Staff only.', visibility: 'internal', components: [{ componentId: api.id, status: 'major_outage' }] });
    await incidents.createIncident(hub.system, { title: 'EU database slow', status: 'investigating', impact: 'minor', message: 'EU <only>.', components: [{ componentId: euDb.id, status: 'degraded_performance' }] });
    const mailsTo = (to: string) => smtp.mails.filter((m) => m.to.includes(to));
    await runUntil(worker, () => mailsTo('pub@example.test').length >= 1 && mailsTo('eu@example.test').length >= 2 && mailsTo('flaky@example.test').length >= 1, 15_000);
    await runUntil(worker, () => smtp.refused.some((r) => r.code === 550));
    for (let i = 0; i < 5; i++) await worker.runOnce();

    // Staff see the hidden incident: "not in any mail" means something.
    const staff = await hub.apiToken(['read:internal']);
    const seen = await hub.gql(`query ($id: ID!) { incident(id: $id) { title } }`, { id: hidden.id }, { token: staff });
    expect(seen.data).toEqual({ incident: { title: 'Queue backlog (staff)' } });

    const subjects = (to: string) => mailsTo(to).map((m) => m.mail.subject).sort();
    expect(subjects('pub@example.test')).toEqual(['[Acme <Status>] Public API is major outage']);
    expect(subjects('eu@example.test')).toEqual(['[Acme <Status>] EU database is degraded performance', '[Acme <Status>] Incident: EU database slow (investigating)', '[Acme <Status>] Public API is major outage'].sort());
    for (const m of smtp.mails) {
      for (const text of ['Queue backlog', 'Staff only', hidden.id]) expect(m.raw).not.toContain(text);
      expect(m.mail.html).toBeTruthy();
      expect(m.mail.text).toBeTruthy();
    }
    for (const m of mailsTo('pub@example.test')) for (const text of ['EU database', euDb.id]) expect(m.raw).not.toContain(text);

    const incidentMail = mailsTo('eu@example.test').find((m) => m.mail.subject?.includes('Incident'))!;
    expect(incidentMail.mail.html).toContain('Acme &lt;Status&gt;');
    expect(incidentMail.mail.html).toContain('EU &lt;only&gt;.');
    expect(incidentMail.mail.html).toContain('#ff6600');
    expect(incidentMail.mail.text).toContain('EU <only>.');
    const header = (name: string) => incidentMail.mail.headerLines.find((h) => h.key === name)?.line.replace(/\r?\n\s+/g, ' ').replace(/^[^:]+:\s*/, '');
    const listUnsubscribe = header('list-unsubscribe');
    expect(listUnsubscribe).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/subscriptions\/unsubscribe\?token=shm_[\w-]+>, <mailto:status@status\.test\?subject=unsubscribe>$/);
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');

    // 421: tried again, the same message (Message-ID from the delivery's idempotency key).
    const flakyDeliveries = await deliveriesOf(flaky);
    expect(flakyDeliveries.map((d) => [d.status, d.attempts])).toEqual([['sent', 2]]);
    const flakyDelivery = flakyDeliveries[0];
    expect(smtp.refused.filter((r) => r.to === 'flaky@example.test').map((r) => r.code)).toEqual([421]);
    expect(mailsTo('flaky@example.test')[0]!.mail.messageId).toBe(`<${flakyDelivery!.idempotencyKey}@status.test>`);

    // 550 user unknown: not retried, the subscriber disabled.
    const [goneDelivery] = await deliveriesOf(gone);
    expect(goneDelivery!.status).toBe('dead');
    expect(goneDelivery!.responseCode).toBe(550);
    const [goneRow] = await hub.database.db.select().from(subscribers).where(eq(subscribers.id, gone));
    expect(goneRow!.state).toBe('disabled');
    expect(smtp.refused.filter((r) => r.to === 'gone@example.test')).toHaveLength(1);
    expect(pub && euSub).toBeTruthy();
  }, 30_000);

  it('self-service: subscribe, confirm over HTTP, receive only the audience slice, one-click unsubscribe stops it', async () => {
    const subscribeMutation = `mutation ($input: SubscribeInput!) { subscribe(input: $input) }`;
    const us = await catalog.createDeployment(hub.system, { slug: 'us-2', name: 'US 2', access: 'protected' });
    const usGroup = await catalog.createGroup(hub.system, { name: 'US group', deploymentId: us.id });
    const usDb = await catalog.createComponent(hub.system, { name: 'US database', groupId: usGroup.id });
    const web = await catalog.createComponent(hub.system, { name: 'Public Web' });
    const usToken = await hub.audienceToken(us.id);

    // The same answer for a new and a known address; the second ask sends no second mail.
    for (let i = 0; i < 2; i++) expect((await hub.gql(subscribeMutation, { input: { email: 'Self@Example.test' } })).data).toEqual({ subscribe: true });
    // A protected deployment needs its token.
    const refused = await hub.gql(subscribeMutation, { input: { email: 'us@example.test' } }, { audience: 'deployment:us-2' });
    expect(refused.data?.subscribe).not.toBe(true);
    expect((await hub.gql(subscribeMutation, { input: { email: 'us@example.test' } }, { audience: 'deployment:us-2', token: usToken })).data).toEqual({ subscribe: true });
    // An anonymous caller cannot follow a deployment's component.
    const hiddenFollow = await hub.gql(subscribeMutation, { input: { email: 'x@example.test', components: [usDb.id] } });
    expect(hiddenFollow.errors?.[0]?.extensions?.code).toBe('input/invalid');

    const mailsTo = (to: string) => smtp.mails.filter((m) => m.to.includes(to));
    await smtp.waitFor(() => mailsTo('self@example.test').length === 1 && mailsTo('us@example.test').length === 1);
    const confirmation = mailsTo('self@example.test')[0]!;
    expect(confirmation.mail.subject).toBe('[Acme <Status>] Confirm your subscription');
    const confirmUrl = (m: typeof confirmation) => /(http:\/\/\S+\/subscriptions\/confirm\?token=\S+)/.exec(m.mail.text ?? '')![1]!;

    // Nothing is sent before confirming.
    await incidents.createIncident(hub.system, { title: 'Web slow', status: 'investigating', impact: 'minor', message: 'Looking.', components: [{ componentId: web.id, status: 'degraded_performance' }] });
    for (let i = 0; i < 5; i++) await worker.runOnce();
    expect(mailsTo('self@example.test')).toHaveLength(1);

    for (const m of [confirmation, mailsTo('us@example.test')[0]!]) {
      const r = await fetch(confirmUrl(m));
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('Subscription confirmed');
    }
    expect((await fetch(confirmUrl(confirmation))).status).toBe(404);
    // A confirmation link older than a week confirms nothing.
    expect((await hub.gql(subscribeMutation, { input: { email: 'late@example.test' } })).data).toEqual({ subscribe: true });
    await smtp.waitFor(() => mailsTo('late@example.test').length === 1);
    await hub.database.db.update(subscribers).set({ updatedAt: new Date(Date.now() - 8 * 86_400_000) }).where(eq(subscribers.target, 'late@example.test'));
    expect((await fetch(confirmUrl(mailsTo('late@example.test')[0]!))).status).toBe(404);

    const hidden = await incidents.createIncident(hub.system, { title: 'Secret migration', status: 'investigating', impact: 'major', message: 'Staff only.', visibility: 'internal', components: [] });
    const usIncident = await incidents.createIncident(hub.system, { title: 'US database down', status: 'identified', impact: 'major', message: 'US only.', components: [{ componentId: usDb.id, status: 'major_outage' }] });
    const webIncident = await incidents.createIncident(hub.system, { title: 'Web down', status: 'identified', impact: 'major', message: 'Public.', components: [{ componentId: web.id, status: 'major_outage' }] });
    const staff = await hub.apiToken(['read:internal']);
    expect((await hub.gql(`query ($id: ID!) { incident(id: $id) { title } }`, { id: hidden.id }, { token: staff })).data).toEqual({ incident: { title: 'Secret migration' } });

    const has = (to: string, text: string) => mailsTo(to).some((m) => m.mail.subject?.includes(text));
    await runUntil(worker, () => has('self@example.test', 'Web down') && has('us@example.test', 'US database down') && has('us@example.test', 'Web down'), 15_000);
    for (let i = 0; i < 5; i++) await worker.runOnce();
    expect(has('self@example.test', 'US database')).toBe(false);
    for (const m of [...mailsTo('self@example.test'), ...mailsTo('us@example.test')]) for (const text of ['Secret migration', 'Staff only', hidden.id]) expect(m.raw).not.toContain(text);
    for (const m of mailsTo('self@example.test')) expect(m.raw).not.toContain(usIncident.id);

    const latest = mailsTo('self@example.test').find((m) => m.mail.subject?.includes('Web down'))!;
    expect(latest.mail.html).toContain('Acme &lt;Status&gt;');
    const line = latest.mail.headerLines.find((h) => h.key === 'list-unsubscribe')!.line.replace(/\r?\n\s+/g, ' ');
    const unsubscribeUrl = /<(http:\/\/[^>]+)>/.exec(line)![1]!;
    const manageUrl = /(http:\/\/\S+\/subscriptions\/manage\?token=\S+)/.exec(latest.mail.text ?? '')![1]!;
    const managed = await fetch(manageUrl, { headers: { accept: 'application/json' } });
    expect(await managed.json()).toMatchObject({ email: 'self@example.test', state: 'active', follows: 'everything', audience: 'public' });

    // GET (a link scanner) shows a button and unsubscribes nobody; POST (RFC 8058) does, twice alike.
    const shown = await fetch(unsubscribeUrl);
    expect(shown.status).toBe(200);
    expect(await shown.text()).toContain('<form method="post"');
    expect((await (await fetch(manageUrl, { headers: { accept: 'application/json' } })).json()).state).toBe('active');
    for (let i = 0; i < 2; i++) {
      const r = await fetch(unsubscribeUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
      expect(r.status).toBe(200);
    }
    expect((await fetch(`${origin}/subscriptions/unsubscribe?token=shm_nope`, { method: 'POST' })).status).toBe(404);

    const before = mailsTo('self@example.test').length;
    await incidents.postIncidentUpdate(hub.system, webIncident.id, { status: 'resolved', message: 'Fixed.' });
    await runUntil(worker, () => mailsTo('us@example.test').some((m) => m.mail.subject?.includes('(resolved)')), 15_000);
    for (let i = 0; i < 5; i++) await worker.runOnce();
    expect(mailsTo('self@example.test')).toHaveLength(before);
  }, 30_000);
});
