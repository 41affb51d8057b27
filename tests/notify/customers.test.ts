import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, notificationOutbox, subscribers } from '../../server/db/tables/index.js';
import { mayConcernOutsiders } from '../../server/read/event-visibility.js';
import { emailChannel } from '../../server/notify/channels/email.js';
import { createNotifyWorker } from '../../server/notify/worker.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { runUntil, testNotifyConfig } from './helpers.js';
import { startSmtpSink, type SmtpSink } from './smtp.js';

let hub: TestHub;
let smtp: SmtpSink;
let worker: ReturnType<typeof createNotifyWorker>;
let email: ReturnType<typeof emailChannel>;
let admin: string;
const ids: Record<string, string> = {};

const createCustomer = `mutation ($input: CustomerInput!) { createCustomer(input: $input) { id deployment name email createdAt } }`;
const listCustomers = `query ($deployment: String) { customers(deployment: $deployment) { id deployment name email } }`;
const subscribeAll = `mutation ($deployment: String!) { subscribeDeploymentCustomers(deployment: $deployment) { created alreadySubscribed } }`;
const deleteCustomer = `mutation ($id: ID!) { deleteCustomer(id: $id) }`;
const setAuto = `mutation ($id: ID!, $on: Boolean!) { updateDeployment(id: $id, patch: { autoSubscribeCustomers: $on }) { slug autoSubscribeCustomers } }`;

beforeAll(async () => {
  hub = await startTestHub();
  smtp = await startSmtpSink();
  const mailer = { smtpUrl: smtp.url, from: 'Status <status@status.test>', timeoutMs: 5_000 };
  email = emailChannel(mailer);
  worker = createNotifyWorker({ db: hub.database.db, config: testNotifyConfig(), origin: 'https://status.test', channels: [email] });
  admin = await hub.apiToken(['admin']);
  const s = hub.system;
  const eu = await catalog.createDeployment(s, { slug: 'eu-1', name: 'EU 1', access: 'protected' });
  const us = await catalog.createDeployment(s, { slug: 'us-1', name: 'US 1', access: 'protected' });
  const euGroup = await catalog.createGroup(s, { name: 'EU services', deploymentId: eu.id });
  const euInternal = await catalog.createGroup(s, { name: 'EU staff tooling', deploymentId: eu.id, visibility: 'internal' });
  const usGroup = await catalog.createGroup(s, { name: 'US services', deploymentId: us.id });
  const euApi = await catalog.createComponent(s, { name: 'EU API', groupId: euGroup.id });
  const usApi = await catalog.createComponent(s, { name: 'US API', groupId: usGroup.id });
  const web = await catalog.createComponent(s, { name: 'Public web' });
  Object.assign(ids, { eu: eu.id, us: us.id, euGroup: euGroup.id, euInternal: euInternal.id, usGroup: usGroup.id, euApi: euApi.id, usApi: usApi.id, web: web.id });
});
afterAll(async () => {
  await worker.stop();
  email.close();
  await smtp.close();
  await hub.close();
});

async function addCustomer(deployment: string, name: string, address: string) {
  const r = await hub.gql(createCustomer, { input: { deployment, name, email: address } }, { token: admin });
  expect(r.errors).toBeUndefined();
  return r.data.createCustomer as { id: string; deployment: string; name: string; email: string };
}
const subscribersOf = (deploymentId: string) => hub.database.db.select().from(subscribers).where(eq(subscribers.deploymentId, deploymentId));

describe('customers of a deployment', () => {
  it('staff create, list and delete customers; bad input gets a typed error and writes nothing', async () => {
    const ann = await addCustomer('eu-1', 'Ann (Acme)', '  Ann@Acme.TEST ');
    expect(ann).toMatchObject({ deployment: 'eu-1', name: 'Ann (Acme)', email: 'ann@acme.test' });
    await addCustomer('us-1', 'Uma (Umbrella)', 'uma@umbrella.test');
    const listed = await hub.gql(listCustomers, { deployment: 'eu-1' }, { token: admin });
    expect(listed.data.customers.map((c: { email: string }) => c.email)).toEqual(['ann@acme.test']);
    expect((await hub.gql(listCustomers, {}, { token: admin })).data.customers).toHaveLength(2);
    expect((await hub.gql(listCustomers, { deployment: 'Not a slug!' }, { token: admin })).data.customers).toEqual([]);
    expect((await hub.gql(listCustomers, { deployment: 'nope\u0000' }, { token: admin })).errors?.[0]?.extensions?.code).toBe('input/invalid');

    const before = await hub.snapshotCounts();
    const bad = [
      [{ deployment: 'eu-1', name: 'X', email: 'not-an-address' }, 'input/invalid', 'email'],
      [{ deployment: 'eu-1', name: '', email: 'x@acme.test' }, 'input/invalid', 'name'],
      [{ deployment: 'nowhere', name: 'X', email: 'x@acme.test' }, 'input/invalid', 'deployment'],
      [{ deployment: 'eu-1', name: 'Ann again', email: 'ANN@acme.test' }, 'customer/email_taken', 'email'],
      [{ deployment: 'eu-1', name: 'N\u0000ul', email: 'n@acme.test' }, 'input/invalid', 'input.name'],
    ] as const;
    for (const [input, code, field] of bad) {
      const r = await hub.gql(createCustomer, { input }, { token: admin });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code, field });
    }
    expect((await hub.gql(deleteCustomer, { id: '00000000-0000-4000-8000-000000000000' }, { token: admin })).errors?.[0]?.extensions?.code).toBe('customer/not_found');
    expect((await hub.gql(deleteCustomer, { id: 'junk' }, { token: admin })).errors?.[0]?.extensions?.code).toBe('customer/not_found');
    expect((await hub.gql(subscribeAll, { deployment: 'nowhere' }, { token: admin })).errors?.[0]?.extensions?.code).toBe('deployment/not_found');
    expect(await hub.snapshotCounts()).toEqual(before);

    const temp = await addCustomer('eu-1', 'Temp', 'temp@acme.test');
    expect((await hub.gql(deleteCustomer, { id: temp.id }, { token: admin })).data).toEqual({ deleteCustomer: temp.id });
    expect((await hub.gql(listCustomers, { deployment: 'eu-1' }, { token: admin })).data.customers).toHaveLength(1);
    // Every write is in the audit log, and none is news for anyone outside staff.
    const logged = await hub.database.db.select().from(events).where(eq(events.entityType, 'customer'));
    expect(logged.map((e) => e.action).sort()).toEqual(['customer.created', 'customer.created', 'customer.created', 'customer.deleted']);
    for (const e of logged) expect(mayConcernOutsiders({ entityType: e.entityType as 'customer', beforeVisibility: null, afterVisibility: null })).toBe(false);
    expect(await hub.database.db.select().from(notificationOutbox)).toEqual([]);
  });

  it('subscribe-all subscribes each customer of that deployment once, following its groups its audience sees, and no one of another deployment', async () => {
    await addCustomer('eu-1', 'Bob (Bobco)', 'bob@bobco.test');
    const first = await hub.gql(subscribeAll, { deployment: 'eu-1' }, { token: admin });
    expect(first.data).toEqual({ subscribeDeploymentCustomers: { created: 2, alreadySubscribed: 0 } });
    const second = await hub.gql(subscribeAll, { deployment: 'eu-1' }, { token: admin });
    expect(second.data).toEqual({ subscribeDeploymentCustomers: { created: 0, alreadySubscribed: 2 } });

    const eu = await subscribersOf(ids.eu!);
    expect(eu.map((s) => s.target).sort()).toEqual(['ann@acme.test', 'bob@bobco.test']);
    for (const s of eu) {
      expect(s).toMatchObject({ audienceKind: 'deployment', channel: 'email', state: 'active', componentIds: [] });
      // Its own group, not the deployment's internal one (no customer may follow what staff hide).
      expect(s.groupIds).toEqual([ids.euGroup]);
    }
    // us-1's customer was not subscribed, to us-1 nor to eu-1.
    expect(await subscribersOf(ids.us!)).toEqual([]);
    expect(eu.some((s) => s.target === 'uma@umbrella.test')).toBe(false);
    const listed = await hub.gql(`{ subscribers(audience: "deployment:eu-1") { target groupIds state } }`, {}, { token: admin });
    expect(listed.data.subscribers).toHaveLength(2);
  });

  it('auto-subscribe: a customer added to a deployment that has it is subscribed in the same write; only admins switch it on', async () => {
    const editor = await hub.apiToken(['write:components', 'read:internal']);
    const refused = await hub.gql(setAuto, { id: ids.us, on: true }, { token: editor });
    expect(refused.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const on = await hub.gql(setAuto, { id: ids.us, on: true }, { token: admin });
    expect(on.data).toEqual({ updateDeployment: { slug: 'us-1', autoSubscribeCustomers: true } });
    // Customers from before are left to subscribe-all.
    expect(await subscribersOf(ids.us!)).toEqual([]);

    const vic = await addCustomer('us-1', 'Vic (Vandelay)', 'vic@vandelay.test');
    const us = await subscribersOf(ids.us!);
    expect(us.map((s) => [s.target, s.state, s.groupIds])).toEqual([['vic@vandelay.test', 'active', [ids.usGroup]]]);
    const created = await hub.database.db.select().from(events).where(eq(events.entityId, us[0]!.id));
    const customerEvent = await hub.database.db.select().from(events).where(eq(events.entityId, vic.id));
    expect(created.map((e) => e.action)).toEqual(['subscriber.created']);
    // One write: the subscriber's event follows the customer's directly.
    expect(created[0]!.seq).toBe(customerEvent[0]!.seq + 1);

    // Removing the customer stops its mail; adding it back resumes the same subscriber.
    await hub.gql(deleteCustomer, { id: vic.id }, { token: admin });
    expect((await subscribersOf(ids.us!)).map((s) => [s.state, s.disabledReason])).toEqual([['disabled', 'customer removed']]);
    await addCustomer('us-1', 'Vic (Vandelay)', 'vic@vandelay.test');
    expect((await subscribersOf(ids.us!)).map((s) => [s.id, s.state])).toEqual([[us[0]!.id, 'active']]);
    const all = await hub.gql(subscribeAll, { deployment: 'us-1' }, { token: admin });
    expect(all.data).toEqual({ subscribeDeploymentCustomers: { created: 1, alreadySubscribed: 1 } });
  });

  it('a subscribed customer is mailed about its deployment (a component added to its group later too), never about another deployment or staff-only trouble', async () => {
    const later = await catalog.createComponent(hub.system, { name: 'EU queue', groupId: ids.euGroup });
    const hidden = await incidents.createIncident(hub.system, { title: 'EU staff tooling broke', status: 'investigating', impact: 'major', message: 'Staff only.', visibility: 'internal', components: [{ componentId: ids.euApi!, status: 'major_outage' }] });
    await incidents.createIncident(hub.system, { title: 'US API down', status: 'identified', impact: 'major', message: 'US only.', components: [{ componentId: ids.usApi!, status: 'major_outage' }] });
    await incidents.createIncident(hub.system, { title: 'EU queue slow', status: 'investigating', impact: 'minor', message: 'Looking at the EU queue.', components: [{ componentId: later.id, status: 'degraded_performance' }] });
    const mailsTo = (to: string) => smtp.mails.filter((m) => m.to.includes(to));
    const has = (to: string, text: string) => mailsTo(to).some((m) => m.mail.subject?.includes(text));
    await runUntil(worker, () => has('ann@acme.test', 'EU queue slow') && has('bob@bobco.test', 'EU queue slow') && has('vic@vandelay.test', 'US API down'), 20_000);
    for (let i = 0; i < 5; i++) await worker.runOnce();

    // Staff see the hidden incident: "not in any mail" means something.
    const seen = await hub.gql(`query ($id: ID!) { incident(id: $id) { title } }`, { id: hidden.id }, { token: admin });
    expect(seen.data).toEqual({ incident: { title: 'EU staff tooling broke' } });
    for (const to of ['ann@acme.test', 'bob@bobco.test']) {
      for (const m of mailsTo(to)) for (const text of ['US API', 'EU staff tooling', 'Staff only', hidden.id]) expect(m.raw).not.toContain(text);
    }
    for (const m of mailsTo('vic@vandelay.test')) for (const text of ['EU queue', 'EU API']) expect(m.raw).not.toContain(text);
    expect(mailsTo('uma@umbrella.test').length).toBeGreaterThan(0);
  }, 40_000);

  it('no one outside staff reads customers or autoSubscribeCustomers, while staff do', async () => {
    const usToken = await hub.audienceToken(ids.us!);
    const euToken = await hub.audienceToken(ids.eu!);
    const staff = await hub.gql(`{ customers { name email } deployments { slug autoSubscribeCustomers } }`, {}, { token: admin });
    expect(staff.errors).toBeUndefined();
    expect(JSON.stringify(staff.data)).toContain('ann@acme.test');
    expect(staff.data.deployments).toEqual([
      { slug: 'eu-1', autoSubscribeCustomers: false },
      { slug: 'us-1', autoSubscribeCustomers: true },
    ]);
    const readOnlyStaff = await hub.apiToken(['read:internal']);
    for (const options of [{}, { token: usToken }, { token: euToken }, { token: readOnlyStaff }]) {
      const r = await hub.gql(listCustomers, { deployment: 'eu-1' }, options);
      expect(r.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
      expect(JSON.stringify(r)).not.toMatch(/acme|bobco|vandelay|umbrella/i);
    }
    for (const options of [{ token: usToken }, { token: euToken }]) {
      const r = await hub.gql(`{ deployments { slug autoSubscribeCustomers } }`, {}, options);
      expect(r.data.deployments.map((d: { autoSubscribeCustomers: unknown }) => d.autoSubscribeCustomers)).toEqual([null]);
      expect(r.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    }
    // Writes too: a deployment's audience cannot add or subscribe customers.
    for (const [doc, vars] of [
      [createCustomer, { input: { deployment: 'us-1', name: 'Eve', email: 'eve@evil.test' } }],
      [subscribeAll, { deployment: 'us-1' }],
    ] as const) {
      expect((await hub.gql(doc, vars, { token: usToken })).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    }
    const eve = await hub.gql(listCustomers, {}, { token: admin });
    expect(JSON.stringify(eve.data)).not.toContain('eve@evil.test');
  });
});
