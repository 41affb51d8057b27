// @vitest-environment jsdom
import { Client, fetchExchange } from '@urql/core';
import { provideClient } from '@urql/vue';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { parse, print, validate, type DocumentNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineComponent, h, ref } from 'vue';
import { createMemoryHistory, createRouter, RouterView, type Router } from 'vue-router';
import { schema } from '../../schema/index.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { provideConsole } from '../../web/src/composables/useConsole';
import * as customerDocuments from '../../web/src/graphql/manage-customers';
import * as subscriberDocuments from '../../web/src/graphql/manage-subscribers';
import { SubscriberCatalogQuery, SubscriberFollowableQuery } from '../../web/src/graphql/manage-subscribers';
import { audienceOptions, followsLabel, percent } from '../../web/src/subscribers';
import ManageSubscribers from '../../web/src/views/console/ManageSubscribers.vue';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { drain, startReceiver, testWorker, type Receiver } from '../notify/helpers.js';

/**
 * The console's Subscribers screen against a real hub (yoga in process, a real database): the
 * urql client's fetch is the hub's, so every document, refusal and count is the server's own.
 */

const isDocument = (value: unknown): value is DocumentNode => typeof value === 'object' && value !== null && (value as DocumentNode).kind === 'Document';
const errorsOf = (document: DocumentNode) => validate(schema, parse(print(document))).map((e) => e.message);

describe('Subscribers screen documents match the schema', () => {
  const documents = Object.entries({ ...subscriberDocuments, ...customerDocuments }).filter(([, value]) => isDocument(value));
  it.each(documents)('%s is a valid operation', (_name, document) => {
    expect(errorsOf(document as DocumentNode)).toEqual([]);
  });
});

describe('what an audience may follow', () => {
  it('the server reads it as that audience: public sees no internal or deployment component, a deployment adds its own, never another’s; admins only', async () => {
    const followable = async (audience: string) => {
      const r = await client.query(SubscriberFollowableQuery, { audience }).toPromise();
      expect(r.error).toBeUndefined();
      const f = r.data!.subscriberFollowable;
      return { groups: f.groups.map((g) => g.name).sort(), components: f.components.map((c) => c.name).sort() };
    };
    // Staff see all four components (the hidden ones exist).
    const all = await client.query(SubscriberCatalogQuery, {}).toPromise();
    expect(all.data!.components.map((c) => c.name).sort()).toEqual(['API', 'Billing DB', 'EU workers', 'US workers']);
    expect(await followable('public')).toEqual({ groups: ['Core'], components: ['API'] });
    expect(await followable('deployment:eu-1')).toEqual({ groups: ['Core', 'EU cluster'], components: ['API', 'EU workers'] });
    const unknown = await client.query(SubscriberFollowableQuery, { audience: 'deployment:nope' }).toPromise();
    expect(unknown.error?.graphQLErrors[0]?.extensions).toMatchObject({ code: 'input/invalid', field: 'audience' });
    const reader = await hub.apiToken(['read:internal']);
    const refused = await hub.gql(`query { subscriberFollowable(audience: "public") { components { id } } }`, {}, { token: reader });
    expect(refused.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
  });

  it('audiences: public first, then deployments by name; follows and rates in words', () => {
    const options = audienceOptions([
      { id: '2', name: 'Zeta', slug: 'z', access: 'open' },
      { id: '1', name: 'Acme', slug: 'a', access: 'protected' },
    ]);
    expect(options.map((o) => o.value)).toEqual(['public', 'deployment:a', 'deployment:z']);
    const names = new Map([['api', 'API'], ['g', 'Core']]);
    expect(followsLabel({ componentIds: [], groupIds: [] }, names)).toBe('Everything');
    expect(followsLabel({ componentIds: ['api', 'gone'], groupIds: ['g'] }, names)).toBe('Core (group), API, a deleted item');
    expect([percent(null), percent(1), percent(0.9996), percent(0.5)]).toEqual(['—', '100 %', '99.9 %', '50.0 %']);
  });
});

// ── against a real hub ──────────────────────────────────────────────────────────

let hub: TestHub;
let receiver: Receiver;
let worker: ReturnType<typeof testWorker>;
let client: Client;
const seeded = { api: '', eu: '', us: '', internal: '' };

beforeAll(async () => {
  hub = await startTestHub();
  receiver = await startReceiver();
  worker = testWorker(hub.database.db);
  const admin = await hub.apiToken(['admin']);
  client = new Client({
    url: 'http://hub.test/graphql',
    exchanges: [fetchExchange],
    preferGetMethod: false,
    fetch: ((url: RequestInfo | URL, init?: RequestInit) => hub.yoga.fetch(String(url), init as never)) as typeof fetch,
    fetchOptions: { headers: { authorization: `Bearer ${admin}`, 'x-statushub-audience': 'internal' } },
  });
  const eu = await catalog.createDeployment(hub.system, { slug: 'eu-1', name: 'Acme EU', access: 'protected' });
  const us = await catalog.createDeployment(hub.system, { slug: 'us-2', name: 'Beta US' });
  const core = await catalog.createGroup(hub.system, { name: 'Core' });
  const euGroup = await catalog.createGroup(hub.system, { name: 'EU cluster', deploymentId: eu.id });
  const usGroup = await catalog.createGroup(hub.system, { name: 'US cluster', deploymentId: us.id });
  seeded.api = (await catalog.createComponent(hub.system, { name: 'API', groupId: core.id })).id;
  seeded.internal = (await catalog.createComponent(hub.system, { name: 'Billing DB', groupId: core.id, visibility: 'internal' })).id;
  seeded.eu = (await catalog.createComponent(hub.system, { name: 'EU workers', groupId: euGroup.id })).id;
  seeded.us = (await catalog.createComponent(hub.system, { name: 'US workers', groupId: usGroup.id })).id;
});
afterAll(async () => {
  await worker?.close();
  await receiver?.close();
  await hub?.close();
});

/** Waits (really: the hub answers over a database) until the screen shows what `ready` looks for. */
async function until(ready: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    await flushPromises();
    if (ready()) return;
    if (Date.now() > end) throw new Error(`screen never showed ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function mountScreen(permissions = ['admin']): Promise<{ wrapper: VueWrapper; router: Router }> {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/internal/subscribers', component: ManageSubscribers }] });
  await router.push('/internal/subscribers');
  const Host = defineComponent({
    setup() {
      provideClient(client);
      provideConsole({ client, revision: ref(0), permissions: ref(permissions) });
      return () => h(RouterView);
    },
  });
  const wrapper = mount(Host, { global: { plugins: [router] }, attachTo: document.body });
  return { wrapper, router };
}

const buttonNamed = (wrapper: VueWrapper, text: string) => {
  const found = wrapper.findAll('button').find((b) => b.text() === text);
  if (!found) throw new Error(`no button “${text}”`);
  return found;
};
const rowOf = (wrapper: VueWrapper, target: string) => wrapper.get(`[data-subscriber="${target}"]`);
const wholeGroup = '(whole group, and what is added to it later)';
const followOptions = (wrapper: VueWrapper) => wrapper.get('[data-testid="subscriber-form"]').findAll('label.check').map((l) => l.text());

describe('Subscribers screen', () => {
  it('is not mounted for anyone but admins', async () => {
    const { wrapper } = await mountScreen(['read:internal', 'write:incidents']);
    await flushPromises();
    expect(wrapper.text()).toContain('Only admins manage subscribers');
    expect(wrapper.find('[data-testid="subscriber-table"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('adds a webhook subscriber to the public audience, shows its secret once, disables, enables and rotates', async () => {
    const { wrapper } = await mountScreen();
    await until(() => wrapper.text().includes('No subscribers in this audience yet.'), 'the empty public list');

    // Only what the public sees is offered: the shared group and its public component.
    expect(followOptions(wrapper)).toEqual([`Core ${wholeGroup}`, 'API']);

    const form = wrapper.get('[data-testid="subscriber-form"]');
    await form.get('select').setValue('webhook');
    await form.get('input[type="url"]').setValue(`${receiver.url}/public-hook`);
    await form.get(`input[type="checkbox"][value="${seeded.api}"]`).setValue(true);
    await form.trigger('submit');
    await until(() => wrapper.find('[data-testid="secret"]').exists(), 'the signing secret');

    const secrets = wrapper.findAll<HTMLInputElement>('[data-testid="secret"]').map((s) => s.element.value);
    expect(secrets[0]).toMatch(/^whsec_/);
    expect(wrapper.get<HTMLInputElement>('[data-testid="secret-link"]').element.value).toMatch(/\/subscriptions\/manage\?token=/);
    await until(() => wrapper.find(`[data-subscriber="${receiver.url}/public-hook"]`).exists(), 'the new row');
    const row = rowOf(wrapper, `${receiver.url}/public-hook`);
    expect(row.text()).toContain('Webhook');
    expect(row.text()).toContain('Active');
    expect(row.text()).toContain('API');

    // Both boxes dismissed: the secret is gone from the page for good.
    for (const done of wrapper.findAll('button').filter((b) => b.text() === 'I have saved it')) await done.trigger('click');
    await flushPromises();
    expect(wrapper.html()).not.toContain(secrets[0]);

    // Disable (asked twice), then enable.
    await until(() => wrapper.find(`[data-subscriber="${receiver.url}/public-hook"]`).exists(), 'the public list');
    await rowOf(wrapper, `${receiver.url}/public-hook`).findAll('button').find((b) => b.text() === 'Disable')!.trigger('click');
    await buttonNamed(wrapper, 'Yes, disable').trigger('click');
    await until(() => rowOf(wrapper, `${receiver.url}/public-hook`).text().includes('Disabled'), 'the disabled state');
    expect(rowOf(wrapper, `${receiver.url}/public-hook`).text()).toContain('disabled by staff');
    await buttonNamed(wrapper, 'Enable').trigger('click');
    await until(() => rowOf(wrapper, `${receiver.url}/public-hook`).text().includes('Active'), 'the active state again');

    // Rotating shows the new secret once.
    await buttonNamed(wrapper, 'Rotate secret').trigger('click');
    await buttonNamed(wrapper, 'Yes, rotate secret').trigger('click');
    await until(() => wrapper.find('[data-testid="secret"]').exists(), 'the rotated secret');
    const rotated = wrapper.get<HTMLInputElement>('[data-testid="secret"]').element.value;
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secrets[0]);
    wrapper.unmount();
  });

  it('lists by audience, offers a deployment only what it sees, and shows the server’s refusal', async () => {
    const { wrapper, router } = await mountScreen();
    await until(() => wrapper.find('[data-subscriber]').exists(), 'the public list');
    // This hub has no SMTP_URL nor SMS provider: the screen says their subscribers get nothing.
    expect(wrapper.get('[data-testid="unsendable"]').text()).toMatch(/email \(SMTP_URL\) or SMS/);

    await wrapper.get('.manage-toolbar select').setValue('deployment:eu-1');
    await until(() => router.currentRoute.value.query.audience === 'deployment:eu-1' && wrapper.text().includes('No subscribers in this audience yet.'), 'the EU list');
    expect(wrapper.text()).toContain('Subscribers · Acme EU (0)');
    // What EU may follow is the server's own read as that audience: a query of its own.
    await until(() => followOptions(wrapper).length === 4, 'the EU follow options');
    expect(followOptions(wrapper)).toEqual([`Core ${wholeGroup}`, 'API', `EU cluster ${wholeGroup}`, 'EU workers']);

    const form = wrapper.get('[data-testid="subscriber-form"]');
    await form.get('input[type="email"]').setValue('not-an-address');
    await form.trigger('submit');
    await until(() => form.find('[role="alert"]').exists(), 'the refusal');
    expect(form.get('[role="alert"]').text()).toMatch(/target.*email address/);

    await form.get('input[type="email"]').setValue('ops@acme.example');
    await form.trigger('submit');
    await until(() => wrapper.find('[data-subscriber="ops@acme.example"]').exists(), 'the EU subscriber');
    expect(rowOf(wrapper, 'ops@acme.example').text()).toContain('Everything');
    // Email has no signing secret: only the manage token is shown.
    expect(wrapper.findAll('[data-testid="secret"]')).toHaveLength(1);

    // A ticked group covers its components: they cannot be ticked beside it, and only the group is sent.
    await form.get('input[type="email"]').setValue('noc@acme.example');
    await form.get(`input[type="checkbox"][value="${seeded.eu}"]`).setValue(true);
    const euGroupBox = form.findAll<HTMLInputElement>('input[type="checkbox"]').find((box) => box.element.closest('label')!.textContent!.startsWith('EU cluster'))!;
    await euGroupBox.setValue(true);
    expect(form.get<HTMLInputElement>(`input[type="checkbox"][value="${seeded.eu}"]`).element.disabled).toBe(true);
    await form.trigger('submit');
    await until(() => wrapper.find('[data-subscriber="noc@acme.example"]').exists(), 'the group subscriber');
    expect(rowOf(wrapper, 'noc@acme.example').findAll('td')[2]!.text()).toBe('EU cluster (group)');

    // The public subscriber is not in this audience's list.
    expect(wrapper.find('[data-subscriber$="/public-hook"]').exists()).toBe(false);
    wrapper.unmount();
  });

  // Follows the public webhook subscriber added above (tests in a file run in order).
  it('shows delivery health per channel and the latest deliveries', async () => {
    await incidents.createIncident(hub.system, {
      title: 'Elevated errors',
      status: 'investigating',
      impact: 'minor',
      message: 'Looking into it.',
      components: [{ componentId: seeded.api, status: 'partial_outage' }],
    });
    await drain(worker);
    await receiver.waitFor((r) => r.some((x) => x.path === '/public-hook'));

    const { wrapper } = await mountScreen();
    await until(() => wrapper.find('[data-testid="delivery-stats"] [data-channel="webhook"]').exists(), 'the webhook figures');
    const webhook = wrapper.get('[data-testid="delivery-stats"] [data-channel="webhook"]');
    expect(webhook.text()).toMatch(/^Webhook\s*[1-9]/);
    expect(webhook.get('[data-rate]').text()).toBe('100 %');
    expect(wrapper.get('[data-testid="delivery-log"]').text()).toContain(`incident:`);
    expect(wrapper.get('[data-testid="delivery-log"]').text()).toContain('Sent');

    // One subscriber's deliveries, from its row; then only what was given up (this worker has no email channel).
    const logRows = () => wrapper.get('[data-testid="delivery-log"] tbody').findAll('tr').map((tr) => tr.text());
    await until(() => wrapper.find(`[data-subscriber="${receiver.url}/public-hook"]`).exists(), 'the public list');
    await rowOf(wrapper, `${receiver.url}/public-hook`).findAll('button').find((b) => b.text() === 'Deliveries')!.trigger('click');
    await until(() => wrapper.find('[data-testid="delivery-subscriber"]').exists() && logRows().every((r) => r.includes('Webhook')), 'the hook’s deliveries');
    expect(document.activeElement?.id).toBe('delivery-health-heading');
    expect(logRows().every((r) => r.includes('Sent'))).toBe(true);
    await wrapper.get('[data-testid="delivery-subscriber"] button').trigger('click');
    const statusSelect = wrapper.findAll('select').find((s) => s.findAll('option').some((o) => o.text() === 'given up'))!;
    await statusSelect.setValue('dead');
    await until(() => logRows().length > 0 && logRows().every((r) => r.includes('Given up')), 'the given-up deliveries');
    expect(logRows().every((r) => r.includes('Email'))).toBe(true);
    wrapper.unmount();
  });

  it('imports a CSV: a check lists the problems by line and writes nothing, then the fixed file is imported', async () => {
    const { wrapper } = await mountScreen();
    await until(() => wrapper.find('[data-subscriber]').exists(), 'the public list');
    const form = wrapper.get('[data-testid="subscriber-import"]');
    const textarea = form.get('textarea');

    await textarea.setValue(['channel,target,components,groups', 'email,alice@example.com,API,', 'sms,12345,,', 'email,bob@example.com,Billing DB,'].join('\n'));
    await buttonNamed(wrapper, 'Check').trigger('click');
    await until(() => form.find('[data-testid="import-result"]').exists(), 'the check');
    const result = form.get('[data-testid="import-result"]');
    expect(result.text()).toContain('2 problems; nothing would be imported.');
    const lines = result.findAll('[data-line]').map((li) => [li.attributes('data-line'), li.text()]);
    expect(lines).toEqual([
      ['3', expect.stringMatching(/^Line 3, target: .*E\.164/)],
      ['4', expect.stringMatching(/^Line 4, components: no component "Billing DB" that this audience can see/)],
    ]);
    expect(wrapper.text()).not.toMatch(/^Import \d/m);
    expect(wrapper.find('[data-subscriber="alice@example.com"]').exists()).toBe(false);

    // The fixed file, read from a file input; the webhook added earlier is already subscribed.
    const fixed = ['channel,target,components,groups', 'email,alice@example.com,API,', 'sms,+15551234567,,Core', `webhook,${receiver.url}/public-hook,,`].join('\n');
    // jsdom's File has no text() (browsers' has): give this one the browser's.
    const file = Object.assign(new File([fixed], 'subscribers.csv', { type: 'text/csv' }), { text: async () => fixed });
    const input = form.get<HTMLInputElement>('input[type="file"]');
    Object.defineProperty(input.element, 'files', { value: [file] });
    await input.trigger('change');
    await until(() => textarea.element.value.includes('+15551234567'), 'the file read into the box');
    expect(form.find('[data-testid="import-result"]').exists()).toBe(false); // an edit asks for a new check
    await buttonNamed(wrapper, 'Check').trigger('click');
    await until(() => form.text().includes('Ready:'), 'a clean check');
    expect(form.get('[data-testid="import-result"]').text()).toContain('2 to add, 1 skipped');
    expect(wrapper.find('[data-subscriber="alice@example.com"]').exists()).toBe(false); // a check writes nothing

    await buttonNamed(wrapper, 'Import 2 subscribers').trigger('click');
    await until(() => form.text().includes('Imported:'), 'the import');
    expect(form.get('[data-testid="import-result"]').text()).toContain('2 added, 1 skipped');
    await until(() => wrapper.find('[data-subscriber="+15551234567"]').exists(), 'the imported rows');
    expect(rowOf(wrapper, 'alice@example.com').text()).toContain('API');
    expect(rowOf(wrapper, '+15551234567').text()).toContain('Core (group)');
    wrapper.unmount();
  });

  it('manages a deployment’s customers, subscribes all of them at once, and new ones automatically', async () => {
    const { wrapper } = await mountScreen();
    await until(() => wrapper.find('[data-subscriber]').exists(), 'the public list');
    expect(wrapper.find('[data-testid="deployment-customers"]').exists()).toBe(false); // the public has no customers
    await wrapper.get('.manage-toolbar select').setValue('deployment:eu-1');
    await until(() => wrapper.find('[data-subscriber="ops@acme.example"]').exists() && wrapper.text().includes('No customers recorded for Acme EU.'), 'the EU customers');

    const customers = wrapper.get('[data-testid="deployment-customers"]');
    const addCustomer = async (name: string, email: string) => {
      const form = customers.get('[data-testid="customer-form"]');
      await form.get('input:not([type="email"])').setValue(name);
      await form.get('input[type="email"]').setValue(email);
      await form.trigger('submit');
      // Stored lower-cased.
      await until(() => customers.get('[data-testid="customer-table"]').text().includes(email.toLowerCase()), `customer ${email}`);
    };
    await addCustomer('Ann', 'ann@acme.example');
    await addCustomer('Ops desk', 'OPS@acme.example'); // already an EU subscriber, whatever the case
    expect(wrapper.find('[data-subscriber="ann@acme.example"]').exists()).toBe(false);

    await buttonNamed(wrapper, 'Subscribe all 2 customers to Acme EU').trigger('click');
    await until(() => customers.get('[data-testid="customers-note"]').text() !== '', 'the counts');
    expect(customers.get('[data-testid="customers-note"]').text()).toBe('Subscribed 1 customer; 1 already subscribed.');
    await until(() => wrapper.find('[data-subscriber="ann@acme.example"]').exists(), 'Ann’s subscription');
    expect(rowOf(wrapper, 'ann@acme.example').text()).toContain('Active');

    // From now on a new customer is subscribed on creation.
    const toggle = customers.get<HTMLInputElement>('input[type="checkbox"]');
    expect(toggle.element.checked).toBe(false);
    await toggle.setValue(true);
    await until(() => customers.text().includes('subscribed automatically'), 'the toggle saved');
    await addCustomer('Cy', 'cy@acme.example');
    await until(() => wrapper.find('[data-subscriber="cy@acme.example"]').exists(), 'Cy subscribed automatically');
    expect(customers.get<HTMLInputElement>('input[type="checkbox"]').element.checked).toBe(true);

    // Removing a customer disables their subscription.
    const cyRow = customers.get('[data-testid="customer-table"]').findAll('tr').find((tr) => tr.text().includes('cy@acme.example'))!;
    await cyRow.get('button').trigger('click');
    await buttonNamed(wrapper, 'Yes, remove').trigger('click');
    await until(() => !customers.get('[data-testid="customer-table"]').text().includes('cy@acme.example'), 'Cy removed');
    await until(() => rowOf(wrapper, 'cy@acme.example').text().includes('Disabled'), 'Cy’s subscription disabled');
    wrapper.unmount();
  });

  it('finds a subscriber among many and draws a hundred at a time', async () => {
    const admin = await hub.apiToken(['admin']);
    const csv = ['target', ...Array.from({ length: 105 }, (_, i) => `user${String(i).padStart(3, '0')}@beta.example`)].join('\n');
    const imported = await hub.gql(`mutation ($csv: String!) { importSubscribers(audience: "deployment:us-2", csv: $csv) { created errors { message } } }`, { csv }, { token: admin });
    expect(imported.data.importSubscribers).toEqual({ created: 105, errors: [] });

    const { wrapper, router } = await mountScreen();
    await router.replace({ query: { audience: 'deployment:us-2' } });
    await until(() => wrapper.findAll('[data-subscriber]').length === 100, 'the first hundred');
    expect(wrapper.text()).toContain('Subscribers · Beta US (105)');
    await buttonNamed(wrapper, 'Show 5 more of 5').trigger('click');
    expect(wrapper.findAll('[data-subscriber]')).toHaveLength(105);

    await wrapper.get('input[type="search"]').setValue('USER10');
    expect(wrapper.findAll('[data-subscriber]').map((r) => r.attributes('data-subscriber')).sort()).toEqual([
      'user100@beta.example', 'user101@beta.example', 'user102@beta.example', 'user103@beta.example', 'user104@beta.example',
    ]);
    expect(wrapper.text()).toContain('5 of 105');
    await wrapper.get('input[type="search"]').setValue('nobody');
    expect(wrapper.text()).toContain("No subscriber's target contains “nobody”.");
    wrapper.unmount();
  });
});
