import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribers } from '../../server/db/tables/index.js';
import { chatSmsChannels } from '../../server/notify/channels/chat-sms.js';
import { createNotifyWorker, type NotifyWorker } from '../../server/notify/worker.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createSubscriberMutation, drain, fakeSmsAccount, runUntil, startFakeSms, startReceiver, testNotifyConfig, type FakeSms, type Receiver } from './helpers.js';

let hub: TestHub;
let chat: Receiver;
let sms: FakeSms;
let admin: string;
let worker: NotifyWorker;
let closeChannels: () => void;

beforeAll(async () => {
  hub = await startTestHub();
  chat = await startReceiver();
  sms = await startFakeSms(fakeSmsAccount.SMS_ACCOUNT_SID, fakeSmsAccount.SMS_AUTH_TOKEN);
  admin = await hub.apiToken(['admin']);
  const config = testNotifyConfig({ SMS_PROVIDER_URL: sms.url, ...fakeSmsAccount });
  const channels = chatSmsChannels(config);
  expect(channels.map((c) => c.kind)).toEqual(['slack', 'teams', 'sms']);
  worker = createNotifyWorker({ db: hub.database.db, config, origin: 'https://status.test', channels });
  closeChannels = () => channels.forEach((c) => c.close());
});
afterAll(async () => {
  await worker.stop();
  closeChannels();
  await chat.close();
  await sms.close();
  await hub.close();
});

async function subscribe(channel: string, target: string, audience = 'public'): Promise<string> {
  const r = await hub.gql(createSubscriberMutation, { input: { audience, channel, target } }, { token: admin });
  expect(r.errors).toBeUndefined();
  expect(r.data.createSubscriber.signingSecret).toBeNull();
  return r.data.createSubscriber.subscriber.id;
}

const json = (path: string) => chat.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body));
const smsTo = (to: string) => sms.messages.filter((m) => m.to === to);
const stateOf = async (id: string) => (await hub.database.db.select().from(subscribers).where(eq(subscribers.id, id)))[0]!;

describe('Slack, Teams and SMS channels', () => {
  it('refuses bad targets with typed errors', async () => {
    for (const [channel, target] of [
      ['slack', 'not a url'],
      ['teams', 'ftp://example.com/hook'],
      ['slack', 'http://hooks.slack.com/services/T0/B0/x'],
      ['teams', 'http://example.webhook.office.com/x'],
      ['sms', '5551234'],
      ['sms', '+0123456'],
    ] as const) {
      const r = await hub.gql(createSubscriberMutation, { input: { audience: 'public', channel, target } }, { token: admin });
      expect(r.errors?.[0]?.extensions?.code, `${channel} ${target}`).toBe('input/invalid');
    }
  });

  it('sends a Block Kit message, an Adaptive Card and an SMS for a component change and an incident update', async () => {
    await subscribe('slack', `${chat.url}/slack`);
    await subscribe('teams', `${chat.url}/teams`);
    await subscribe('sms', '+15551230001');
    const web = await catalog.createComponent(hub.system, { name: 'Web' });
    const api = await catalog.createComponent(hub.system, { name: 'API' });
    await catalog.setComponentStatus(hub.system, web.id, 'major_outage');
    const incident = await incidents.createIncident(hub.system, {
      title: 'Elevated errors',
      status: 'investigating',
      impact: 'minor',
      message: 'We are looking into it.',
      components: [{ componentId: api.id, status: 'partial_outage' }],
    });
    await incidents.postIncidentUpdate(hub.system, incident.id, { status: 'identified', message: 'A bad deploy; rolling back.' });
    await runUntil(worker, () => json('/slack').some((m) => m.text.includes('rolling back')) && json('/teams').some((m) => JSON.stringify(m).includes('rolling back')) && smsTo('+15551230001').some((m) => m.body.includes('rolling back')));
    await drain(worker);
    const page = hub.page.name;

    // Slack: Block Kit with a fallback text.
    const slackComponent = json('/slack').find((m) => m.text.includes('Web: Operational → Major outage'))!;
    expect(slackComponent).toBeDefined();
    expect(slackComponent.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'context', 'section', 'context', 'actions']);
    expect(slackComponent.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: expect.stringContaining(page) } });
    expect(slackComponent.blocks[1].elements[0].text).toMatch(/^:(red_circle|large_orange_circle|large_yellow_circle):/);
    expect(slackComponent.blocks[2].text.text).toBe('*Web*: Operational → Major outage');
    expect(slackComponent.blocks[3].elements[0].text).toMatch(/^<!date\^\d+\^/);
    expect(slackComponent.blocks[4].elements[0]).toMatchObject({ type: 'button', url: 'https://status.test/' });
    const slackIncident = json('/slack').find((m) => m.text.includes('rolling back'))!;
    expect(slackIncident.text).toContain('Elevated errors: Identified');
    expect(slackIncident.blocks.find((b: { type: string }) => b.type === 'section').text.text).toBe('*Elevated errors* — Identified\nA bad deploy; rolling back.');
    expect(slackIncident.blocks.find((b: { fields?: unknown }) => b.fields).fields[0].text).toBe('*API*\nPartial outage');
    expect(slackIncident.blocks.at(-1).elements[0].url).toBe(`https://status.test/incidents/${incident.id}`);
    for (const r of chat.requests.filter((x) => x.path === '/slack')) expect(String(r.headers['idempotency-key'])).toMatch(/^msg_\d+_/);

    // Teams: one Adaptive Card 1.4 with an Action.OpenUrl.
    const cards = json('/teams');
    for (const m of cards) {
      expect(m.type).toBe('message');
      expect(m.attachments).toHaveLength(1);
      expect(m.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
      expect(m.attachments[0].content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    }
    const cardText = (m: { attachments: { content: { body: { text?: string }[] } }[] }) => m.attachments[0]!.content.body.map((b) => b.text ?? '').join('\n');
    const teamsComponent = cards.find((m) => cardText(m).includes('Web: Operational → Major outage'))!;
    expect(teamsComponent.attachments[0].content.body[0]).toMatchObject({ type: 'TextBlock', text: page, weight: 'Bolder' });
    expect(teamsComponent.attachments[0].content.body[1].color).toMatch(/^(Attention|Warning)$/);
    expect(teamsComponent.attachments[0].content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'View status page', url: 'https://status.test/' }]);
    const teamsIncident = cards.find((m) => cardText(m).includes('rolling back'))!;
    expect(cardText(teamsIncident)).toContain('Elevated errors — Identified');
    expect(teamsIncident.attachments[0].content.body.find((b: { type: string }) => b.type === 'FactSet').facts).toEqual([{ title: 'API', value: 'Partial outage' }]);
    expect(teamsIncident.attachments[0].content.actions[0].url).toBe(`https://status.test/incidents/${incident.id}`);

    // SMS: short, with the page, what changed and the link, from the configured number.
    expect(sms.refused).toEqual([]);
    for (const m of smsTo('+15551230001')) {
      expect(m.from).toBe(fakeSmsAccount.SMS_FROM);
      expect(m.body.length).toBeLessThanOrEqual(320);
      expect(m.key).toMatch(/^msg_\d+_/);
    }
    expect(smsTo('+15551230001').map((m) => m.body)).toContain(`${page}: Web: Operational → Major outage https://status.test/`);
    expect(smsTo('+15551230001').map((m) => m.body)).toContain(`${page}: Elevated errors — Identified: A bad deploy; rolling back. https://status.test/incidents/${incident.id}`);
  });

  it('disables on a gone hook or an invalid number, and retries 429 and 503 with the same idempotency key', async () => {
    chat.respond = ({ path }) => {
      const seen = chat.requests.filter((r) => r.path === path).length;
      if (path === '/slack-gone') return 410;
      if (path === '/teams-gone') return 404;
      if (path === '/slack-busy') return seen === 0 ? 429 : 200;
      if (path === '/teams-busy') return seen === 0 ? 503 : 202;
      return 200;
    };
    sms.respond = (to, attempt) => {
      if (to === '+15550000911') return { status: 400, body: { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 } };
      if (to === '+15550000429') return attempt === 1 ? { status: 429, body: { code: 20429, message: 'Too Many Requests' }, headers: { 'retry-after': '1' } } : { status: 201 };
      return { status: 201 };
    };
    const gone = [await subscribe('slack', `${chat.url}/slack-gone`), await subscribe('teams', `${chat.url}/teams-gone`), await subscribe('sms', '+15550000911')];
    const busy = [await subscribe('slack', `${chat.url}/slack-busy`), await subscribe('teams', `${chat.url}/teams-busy`), await subscribe('sms', '+15550000429')];
    const db = await catalog.createComponent(hub.system, { name: 'Database' });
    await catalog.setComponentStatus(hub.system, db.id, 'degraded_performance');
    const deliveredTwice = (list: { key: string }[]) => list.length === 2;
    const keysOf = (path: string) => chat.requests.filter((r) => r.path === path).map((r) => ({ key: String(r.headers['idempotency-key']) }));
    await runUntil(worker, () => deliveredTwice(keysOf('/slack-busy')) && deliveredTwice(keysOf('/teams-busy')) && deliveredTwice(smsTo('+15550000429')));
    await drain(worker);
    for (const list of [keysOf('/slack-busy'), keysOf('/teams-busy'), smsTo('+15550000429')]) {
      expect(list).toHaveLength(2);
      expect(list[0]!.key).toMatch(/^msg_\d+_/);
      expect(list[1]!.key).toBe(list[0]!.key);
    }
    // The provider's Retry-After (1 s) was honoured over the 20 ms test backoff.
    const [first, second] = smsTo('+15550000429');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    for (const id of busy) expect((await stateOf(id)).state).toBe('active');
    for (const id of gone) expect((await stateOf(id)).state).toBe('disabled');
    expect((await stateOf(gone[2]!)).disabledReason).toContain('21211');
    // Disabled: told once, never again.
    expect(keysOf('/slack-gone')).toHaveLength(1);
    expect(smsTo('+15550000911')).toHaveLength(1);
    chat.respond = () => 200;
    sms.respond = () => ({ status: 201 });
  });

  it('each channel tells a deployment subscriber its deployment change, not a public one, and nobody an internal change', async () => {
    const eu = await catalog.createDeployment(hub.system, { slug: 'eu-1', name: 'EU 1', access: 'open' });
    const group = await catalog.createGroup(hub.system, { name: 'EU group', deploymentId: eu.id });
    const euDb = await catalog.createComponent(hub.system, { name: 'EU database', groupId: group.id });
    const secret = await catalog.createComponent(hub.system, { name: 'Internal queue', visibility: 'internal' });
    await subscribe('slack', `${chat.url}/slack-eu`, 'deployment:eu-1');
    await subscribe('teams', `${chat.url}/teams-eu`, 'deployment:eu-1');
    await subscribe('sms', '+15551110001', 'deployment:eu-1');
    await subscribe('slack', `${chat.url}/slack-public`);
    await subscribe('teams', `${chat.url}/teams-public`);
    await subscribe('sms', '+15551110002');
    await catalog.setComponentStatus(hub.system, secret.id, 'major_outage');
    await catalog.setComponentStatus(hub.system, euDb.id, 'partial_outage');
    await runUntil(worker, () => json('/slack-eu').length > 0 && json('/teams-eu').length > 0 && smsTo('+15551110001').length > 0);
    await drain(worker);

    // Staff see the hidden change: "not received" means something.
    const staff = await hub.apiToken(['read:internal']);
    const seen = await hub.gql(`{ component(id: "${secret.id}") { name status } }`, {}, { token: staff });
    expect(seen.data).toEqual({ component: { name: 'Internal queue', status: 'major_outage' } });

    const slackEu = json('/slack-eu');
    expect(slackEu).toHaveLength(1);
    expect(slackEu[0].text).toContain('EU database: Operational → Partial outage');
    expect(slackEu[0].blocks.at(-1).elements[0].url).toBe('https://status.test/d/eu-1');
    const teamsEu = json('/teams-eu');
    expect(teamsEu).toHaveLength(1);
    expect(JSON.stringify(teamsEu[0])).toContain('EU database: Operational → Partial outage');
    expect(teamsEu[0].attachments[0].content.actions[0].url).toBe('https://status.test/d/eu-1');
    expect(smsTo('+15551110001').map((m) => m.body)).toEqual([`${hub.page.name}: EU database: Operational → Partial outage https://status.test/d/eu-1`]);
    expect(json('/slack-public')).toEqual([]);
    expect(json('/teams-public')).toEqual([]);
    expect(smsTo('+15551110002')).toEqual([]);
    const everything = [...chat.requests.map((r) => r.body), ...sms.messages.map((m) => m.body)].join('\n');
    expect(everything).not.toContain('Internal queue');
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates', async () => {
    const { retryAfterMs } = await import('../../server/notify/channels/http.js');
    expect(retryAfterMs('120')).toBe(120_000);
    expect(retryAfterMs(new Date(Date.UTC(2026, 0, 1, 0, 1)).toUTCString(), Date.UTC(2026, 0, 1))).toBe(60_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
