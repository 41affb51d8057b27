import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationDeliveries, pages, subscribers } from '../../server/db/tables/index.js';
import { emailChannel, renderEmail } from '../../server/notify/channels/email.js';
import { webhookChannel } from '../../server/notify/channels/webhook.js';
import { createNotifyWorker } from '../../server/notify/worker.js';
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

beforeAll(async () => {
  hub = await startTestHub();
  smtp = await startSmtpSink();
  const config = testNotifyConfig();
  email = emailChannel({ smtpUrl: smtp.url, from: 'Status <status@status.test>', timeoutMs: 5_000 });
  webhook = webhookChannel({ timeoutMs: 5_000, allowPrivateTargets: true });
  worker = createNotifyWorker({ db: hub.database.db, config, origin: 'https://status.test', channels: [webhook, email] });
  await hub.database.db.update(pages).set({ name: 'Acme <Status>', branding: { accentColor: '#ff6600' } }).where(eq(pages.id, hub.page.id));
});
afterAll(async () => {
  await worker.stop();
  email.close();
  webhook.close();
  await smtp.close();
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
    expect(listUnsubscribe).toMatch(/^<https:\/\/status\.test\/subscriptions\/unsubscribe\?token=shm_[\w-]+>, <mailto:status@status\.test\?subject=unsubscribe>$/);
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');

    // 421: tried again, the same message (Message-ID from the delivery's idempotency key).
    const [flakyDelivery] = await deliveriesOf(flaky);
    expect(flakyDelivery!.status).toBe('sent');
    expect(flakyDelivery!.attempts).toBe(2);
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
});
