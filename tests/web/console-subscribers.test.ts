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
import * as subscriberDocuments from '../../web/src/graphql/manage-subscribers';
import { audienceOptions, followsLabel, percent, visibleCatalog } from '../../web/src/subscribers';
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
  const documents = Object.entries(subscriberDocuments).filter(([, value]) => isDocument(value));
  it.each(documents)('%s is a valid operation', (_name, document) => {
    expect(errorsOf(document as DocumentNode)).toEqual([]);
  });
});

describe('what an audience may follow', () => {
  const groups = [
    { id: 'g-shared', name: 'Core', deployment: null, staff: { visibility: 'public' as const } },
    { id: 'g-eu', name: 'EU', deployment: { id: 'd-eu' }, staff: { visibility: 'public' as const } },
    { id: 'g-us', name: 'US', deployment: { id: 'd-us' }, staff: { visibility: 'public' as const } },
    { id: 'g-hidden', name: 'Ops', deployment: null, staff: { visibility: 'internal' as const } },
  ];
  const components = [
    { id: 'api', name: 'API', group: { id: 'g-shared' }, staff: { visibility: 'public' as const } },
    { id: 'db', name: 'Database', group: { id: 'g-shared' }, staff: { visibility: 'internal' as const } },
    { id: 'eu', name: 'EU workers', group: { id: 'g-eu' }, staff: { visibility: 'public' as const } },
    { id: 'us', name: 'US workers', group: { id: 'g-us' }, staff: { visibility: 'public' as const } },
    { id: 'ops', name: 'Pager', group: { id: 'g-hidden' }, staff: { visibility: 'public' as const } },
    { id: 'cdn', name: 'CDN', group: null, staff: { visibility: 'public' as const } },
  ];
  const ids = (xs: { id: string }[]) => xs.map((x) => x.id);

  it('public sees public components of shared groups; a deployment adds its own, never another’s', () => {
    expect(ids(visibleCatalog(null, components, groups).components)).toEqual(['api', 'cdn']);
    expect(ids(visibleCatalog(null, components, groups).groups)).toEqual(['g-shared']);
    expect(ids(visibleCatalog('d-eu', components, groups).components)).toEqual(['api', 'eu', 'cdn']);
    expect(ids(visibleCatalog('d-eu', components, groups).groups)).toEqual(['g-shared', 'g-eu']);
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
    expect(followOptions(wrapper)).toEqual(['Core (whole group)', 'API · Core']);

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
    await rowOf(wrapper, `${receiver.url}/public-hook`).findAll('button').find((b) => b.text() === 'Disable')!.trigger('click');
    await buttonNamed(wrapper, 'Yes, disable').trigger('click');
    await until(() => rowOf(wrapper, `${receiver.url}/public-hook`).text().includes('Disabled'), 'the disabled state');
    expect(rowOf(wrapper, `${receiver.url}/public-hook`).text()).toContain('disabled by staff');
    await buttonNamed(wrapper, 'Enable').trigger('click');
    await until(() => rowOf(wrapper, `${receiver.url}/public-hook`).text().includes('Active'), 'the active state again');

    // Rotating shows the new secret once.
    await buttonNamed(wrapper, 'Rotate signing secret').trigger('click');
    await buttonNamed(wrapper, 'Yes, rotate signing secret').trigger('click');
    await until(() => wrapper.find('[data-testid="secret"]').exists(), 'the rotated secret');
    const rotated = wrapper.get<HTMLInputElement>('[data-testid="secret"]').element.value;
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secrets[0]);
    wrapper.unmount();
  });

  it('lists by audience, offers a deployment only what it sees, and shows the server’s refusal', async () => {
    const { wrapper, router } = await mountScreen();
    await until(() => wrapper.find('[data-subscriber]').exists(), 'the public list');

    await wrapper.get('.manage-toolbar select').setValue('deployment:eu-1');
    await until(() => router.currentRoute.value.query.audience === 'deployment:eu-1' && wrapper.text().includes('No subscribers in this audience yet.'), 'the EU list');
    expect(wrapper.text()).toContain('Subscribers · Acme EU (0)');
    expect(followOptions(wrapper)).toEqual(['Core (whole group)', 'EU cluster (whole group)', 'API · Core', 'EU workers · EU cluster']);

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
    wrapper.unmount();
  });
});
