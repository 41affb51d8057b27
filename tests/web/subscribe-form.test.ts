// @vitest-environment jsdom
import { Client, CombinedError, fetchExchange } from '@urql/core';
import { provideClient } from '@urql/vue';
import { flushPromises, mount } from '@vue/test-utils';
import { parse, print, validate, type DocumentNode } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { defineComponent, h, ref } from 'vue';
import { createMemoryHistory, createRouter } from 'vue-router';
import { schema } from '../../schema/index.js';
import SubscribeButton from '../../web/src/components/SubscribeButton.vue';
import type { ComponentItem } from '../../web/src/graphql/summary';
import { SubscribeMutation, SubscriptionChannelsQuery } from '../../web/src/graphql/subscribe';
import { acceptedMessage, offeredChannels, refusalOf, subscribeInputOf, type ChecklistGroup } from '../../web/src/subscribe';

afterEach(() => {
  document.body.innerHTML = '';
});

const c = (id: string, name: string): ComponentItem => ({ id, name, status: 'operational' });
const groups: ChecklistGroup[] = [
  { id: 'g-core', name: 'Core platform', components: [c('c-api', 'API'), c('c-dash', 'Dashboard')] },
  { id: 'g-delivery', name: 'Delivery', components: [c('c-push', 'Push delivery'), c('c-mail', 'Email delivery')] },
  // Nothing this audience sees in it: not offered.
  { id: 'g-empty', name: 'Empty group', components: [] },
];
const ungrouped = [c('c-status', 'Status API')];

describe('subscribe documents match the schema', () => {
  // The channel, target and subscriptionChannels fields land with the server's part of issue 11 §2.
  const ready = Boolean((schema.getType('Page') as { getFields?: () => Record<string, unknown> })?.getFields?.().subscriptionChannels);
  it.skipIf(!ready).each([
    ['SubscriptionChannels', SubscriptionChannelsQuery],
    ['Subscribe', SubscribeMutation],
  ])('%s is a valid operation', (_name, document) => {
    expect(validate(schema, parse(print(document as DocumentNode))).map((e) => e.message)).toEqual([]);
  });
});

describe('what the form sends and says', () => {
  it('lists the offered channels in a fixed order and drops kinds it does not know', () => {
    expect(offeredChannels(['webhook', 'teams', 'email', 'pigeon', 'slack', 'sms']).map((s) => s.label)).toEqual(['Email', 'SMS', 'Webhook', 'Slack', 'Microsoft Teams']);
    expect(offeredChannels(['teams', 'webhook', 'slack']).map((s) => s.kind)).toEqual(['webhook', 'slack', 'teams']);
  });

  it('sends no scope for Everything; a ticked group covers its own components', () => {
    const none = { groups: new Set<string>(), components: new Set<string>() };
    expect(subscribeInputOf('email', '  a@example.test ', { mode: 'everything', ...none }, groups)).toEqual({ channel: 'email', target: 'a@example.test' });
    // Ticks kept from "some" do not leak into "everything".
    expect(subscribeInputOf('sms', '+15551234567', { mode: 'everything', groups: new Set(['g-core']), components: new Set(['c-push']) }, groups)).toEqual({
      channel: 'sms',
      target: '+15551234567',
    });
    expect(subscribeInputOf('webhook', 'https://h.test/x', { mode: 'some', groups: new Set(['g-core']), components: new Set(['c-api', 'c-push']) }, groups)).toEqual({
      channel: 'webhook',
      target: 'https://h.test/x',
      groups: ['g-core'],
      components: ['c-push'],
    });
    expect(subscribeInputOf('email', 'a@example.test', { mode: 'some', groups: new Set(), components: new Set(['c-status']) }, groups)).toEqual({
      channel: 'email',
      target: 'a@example.test',
      components: ['c-status'],
    });
  });

  it('says where the confirmation went, per channel', () => {
    expect(acceptedMessage('email', ' a@example.test ')).toBe('Check a@example.test to confirm: nothing is sent until you follow the confirmation link.');
    expect(acceptedMessage('sms', '+15551234567')).toBe('Check +15551234567 to confirm: nothing is sent until you follow the confirmation link.');
    expect(acceptedMessage('webhook', 'https://h.test')).toMatch(/^We POSTed a confirmation to your URL with your signing secret and a confirm link/);
  });

  it('puts a typed refusal beside its field, whatever the server calls it, and anything else above the button', () => {
    const invalid = (field: string, message: string) =>
      new CombinedError({ graphQLErrors: [{ message: `Invalid value for ${field}: ${message}`, extensions: { code: 'input/invalid', field, issues: [{ field, message }] } }] });
    expect(refusalOf(invalid('target', 'must be in E.164 form'), 'sms')).toEqual({ field: 'target', message: 'Phone number: must be in E.164 form.' });
    expect(refusalOf(invalid('email', 'must be an email address'), 'email')).toEqual({ field: 'target', message: 'Email address: must be an email address.' });
    expect(refusalOf(invalid('componentIds', 'names a component this audience cannot see'), 'email').field).toBe('components');
    expect(refusalOf(invalid('channel', 'is not offered on this hub'), 'sms')).toEqual({ field: 'channel', message: 'Channel: is not offered on this hub.' });
    const limited = new CombinedError({ graphQLErrors: [{ message: 'Too many requests, try again in a minute', extensions: { code: 'rate/limited' } }] });
    expect(refusalOf(limited, 'email')).toEqual({ field: 'form', message: 'Too many requests, try again in a minute' });
    // Masked internals are not shown.
    const masked = new CombinedError({ graphQLErrors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    expect(refusalOf(masked, 'email')).toEqual({ field: 'form', message: 'The subscription could not be sent. Please try again.' });
  });
});

// ── the dialog against a fake server ──────────────────────────────────────────

interface Answer {
  data?: unknown;
  errors?: unknown[];
}

function fakeServer(channels: string[], subscribe: (input: Record<string, unknown>) => Answer | Promise<Answer> = () => ({ data: { subscribe: true } })) {
  const sent: { operationName: string; variables: Record<string, unknown> }[] = [];
  const fetch = async (_url: RequestInfo | URL, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as { operationName: string; variables?: Record<string, unknown> };
    sent.push({ operationName: body.operationName, variables: body.variables ?? {} });
    const answer =
      body.operationName === 'SubscriptionChannels'
        ? { data: { page: { __typename: 'Page', subscriptionChannels: channels } } }
        : await subscribe(body.variables?.input as Record<string, unknown>);
    return new Response(JSON.stringify(answer), { headers: { 'content-type': 'application/json' } });
  };
  const client = new Client({ url: 'http://hub.test/graphql', exchanges: [fetchExchange], fetch: fetch as typeof globalThis.fetch, preferGetMethod: false });
  return { client, sent, subscriptions: () => sent.filter((s) => s.operationName === 'Subscribe') };
}

async function mountButton(client: Client, shown = ref(groups)) {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:any(.*)*', component: { render: () => null } }] });
  await router.push('/');
  const Host = defineComponent({
    setup() {
      provideClient(client);
      return () => h(SubscribeButton, { groups: shown.value, ungrouped });
    },
  });
  const wrapper = mount(Host, { global: { plugins: [router] }, attachTo: document.body });
  const open = async () => {
    await wrapper.get('button.subscribe-open').trigger('click');
    await flushPromises();
  };
  const dialog = () => wrapper.get<HTMLDialogElement>('dialog');
  /** An input found by its label's text, as a person (or a screen reader) finds it. */
  const byLabel = (label: string) => {
    const found = wrapper.findAll('label').find((l) => l.text() === label);
    if (!found) throw new Error(`no label "${label}"`);
    return found.attributes('for') ? wrapper.get<HTMLInputElement>(`[id="${found.attributes('for')}"]`) : found.get<HTMLInputElement>('input');
  };
  return { wrapper, open, dialog, byLabel };
}

describe('SubscribeButton', () => {
  it('opens a labelled dialog with focus inside; Esc closes it and focus goes back to the button', async () => {
    const { client, sent } = fakeServer(['email', 'webhook', 'slack', 'teams']);
    const { wrapper, open, dialog } = await mountButton(client);
    // Nothing is asked before the dialog opens.
    expect(dialog().attributes('open')).toBeUndefined();
    expect(sent).toHaveLength(0);
    expect(wrapper.get('button.subscribe-open').text()).toBe('Subscribe to updates');

    await open();
    expect(dialog().attributes('open')).toBeDefined();
    const labelledBy = dialog().attributes('aria-labelledby')!;
    expect(wrapper.get(`[id="${labelledBy}"]`).text()).toBe('Subscribe to updates');
    expect(dialog().element.contains(document.activeElement)).toBe(true);

    await dialog().trigger('keydown', { key: 'Escape' });
    await flushPromises();
    expect(dialog().attributes('open')).toBeUndefined();
    expect(document.activeElement).toBe(wrapper.get('button.subscribe-open').element);
    // The feed panel stays one link away.
    expect(wrapper.get('dialog a').attributes('href')).toBe('/history#subscribe');
    wrapper.unmount();
  });

  it('offers only the hub’s channels; the target field follows the channel', async () => {
    const { client } = fakeServer(['webhook', 'sms', 'teams', 'slack']);
    const { wrapper, open, byLabel } = await mountButton(client);
    await open();
    const channels = wrapper.findAll('input[name="subscribe-channel"]');
    expect(channels.map((r) => r.element.closest('label')!.textContent!.trim())).toEqual(['SMS', 'Webhook', 'Slack', 'Microsoft Teams']);
    // Without SMTP there is no Email; the first channel offered is chosen.
    expect(byLabel('SMS').element.checked).toBe(true);
    const phone = byLabel('Phone number');
    expect(phone.attributes()).toMatchObject({ type: 'tel', placeholder: '+15551234567', autocomplete: 'tel' });

    await byLabel('Slack').setValue(true);
    const slack = byLabel('Slack incoming-webhook URL');
    expect(slack.attributes()).toMatchObject({ type: 'url', placeholder: 'https://hooks.slack.com/services/T000/B000/XXXX' });
    await byLabel('Microsoft Teams').setValue(true);
    expect(byLabel('Teams incoming-webhook URL').attributes('type')).toBe('url');
    await byLabel('Webhook').setValue(true);
    expect(byLabel('Webhook URL').attributes('type')).toBe('url');
    wrapper.unmount();
  });

  it('subscribes by email to one component: the button is disabled while sending, then says where to confirm', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { client, subscriptions } = fakeServer(['email', 'webhook', 'slack', 'teams'], async () => {
      await held;
      return { data: { subscribe: true } };
    });
    const { wrapper, open, byLabel } = await mountButton(client);
    await open();
    expect(byLabel('Email').element.checked).toBe(true);
    expect(byLabel('Email address').attributes()).toMatchObject({ type: 'email', placeholder: 'you@example.com' });
    await byLabel('Email address').setValue('ana@example.test');

    // Everything by default; the checklist appears on asking, grouped, without the empty group.
    expect(byLabel('Everything').element.checked).toBe(true);
    expect(wrapper.find('.subscribe-checklist').exists()).toBe(false);
    await byLabel('Only the components I choose').setValue(true);
    expect(wrapper.findAll('.subscribe-group legend').map((l) => l.text())).toEqual(['Core platform', 'Delivery']);
    expect(wrapper.text()).not.toContain('Empty group');
    await byLabel('Push delivery').setValue(true);

    await wrapper.get('form').trigger('submit');
    await flushPromises();
    const submit = wrapper.get<HTMLButtonElement>('button[type="submit"]');
    expect(submit.element.disabled).toBe(true);
    expect(submit.text()).toBe('Sending…');
    // A second submit while sending sends nothing more.
    await wrapper.get('form').trigger('submit');
    release();
    await flushPromises();

    expect(subscriptions()).toHaveLength(1);
    expect(subscriptions()[0]!.variables.input).toEqual({ channel: 'email', target: 'ana@example.test', components: ['c-push'] });
    const note = wrapper.get('[role="status"].subscribe-accepted-note');
    expect(note.text()).toBe('Check ana@example.test to confirm: nothing is sent until you follow the confirmation link.');
    expect(document.activeElement).toBe(note.element);

    // Another address: the form is back, empty, with focus in its field.
    await wrapper.findAll('button').find((b) => b.text() === 'Subscribe another address')!.trigger('click');
    await flushPromises();
    expect(document.activeElement).toBe(byLabel('Email address').element);
    expect(byLabel('Email address').element.value).toBe('');
    wrapper.unmount();
  });

  it('a whole group is followed as the group', async () => {
    const { client, subscriptions } = fakeServer(['webhook']);
    const { wrapper, open, byLabel } = await mountButton(client);
    await open();
    await byLabel('Webhook URL').setValue('https://hooks.example.test/status');
    await byLabel('Only the components I choose').setValue(true);
    await byLabel('All of Delivery, including components added later').setValue(true);
    // Its components show as included and cannot be unticked one by one.
    expect(byLabel('Push delivery').element).toMatchObject({ checked: true, disabled: true });
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    expect(subscriptions()[0]!.variables.input).toEqual({ channel: 'webhook', target: 'https://hooks.example.test/status', groups: ['g-delivery'] });
    expect(wrapper.get('.subscribe-accepted-note').text()).toMatch(/^We POSTed a confirmation to your URL with your signing secret and a confirm link/);
    wrapper.unmount();
  });

  it('does not send a component that a live update took off the page after it was ticked', async () => {
    const { client, subscriptions } = fakeServer(['email']);
    const shown = ref(groups);
    const { wrapper, open, byLabel } = await mountButton(client, shown);
    await open();
    await byLabel('Email address').setValue('ana@example.test');
    await byLabel('Only the components I choose').setValue(true);
    await byLabel('API').setValue(true);
    await byLabel('Push delivery').setValue(true);
    shown.value = groups.map((g) => (g.id === 'g-delivery' ? { ...g, components: g.components.filter((x) => x.id !== 'c-push') } : g));
    await flushPromises();
    expect(wrapper.text()).not.toContain('Push delivery');
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    expect(subscriptions()[0]!.variables.input).toEqual({ channel: 'email', target: 'ana@example.test', components: ['c-api'] });
    wrapper.unmount();
  });

  it('shows a typed refusal next to the field it names, and keeps what was typed', async () => {
    const { client, subscriptions } = fakeServer(['email', 'sms', 'webhook'], (input) => ({
      errors: [
        {
          message: 'Invalid value for target: must be a phone number in E.164 form',
          extensions: { code: 'input/invalid', field: 'target', issues: [{ field: 'target', message: 'must be a phone number in E.164 form' }] },
        },
      ],
      data: input.channel === 'sms' ? null : { subscribe: true },
    }));
    const { wrapper, open, byLabel } = await mountButton(client);
    await open();
    await byLabel('SMS').setValue(true);
    await byLabel('Phone number').setValue('555 1234');
    await wrapper.get('form').trigger('submit');
    await flushPromises();

    expect(subscriptions()).toHaveLength(1);
    const phone = byLabel('Phone number');
    expect(phone.attributes('aria-invalid')).toBe('true');
    const error = wrapper.get('[role="alert"]');
    expect(error.text()).toBe('Phone number: must be a phone number in E.164 form.');
    expect(phone.attributes('aria-describedby')!.split(' ')).toContain(error.attributes('id'));
    expect(document.activeElement).toBe(phone.element);
    expect(phone.element.value).toBe('555 1234');
    expect(wrapper.find('.subscribe-accepted-note').exists()).toBe(false);
    expect(wrapper.get<HTMLButtonElement>('button[type="submit"]').element.disabled).toBe(false);
    wrapper.unmount();
  });

  it('sends nothing without a target, or with "only some" and nothing ticked, and says why', async () => {
    const { client, subscriptions } = fakeServer(['email', 'webhook']);
    const { wrapper, open, byLabel } = await mountButton(client);
    await open();
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    expect(wrapper.get('[role="alert"]').text()).toBe('Enter your email address.');
    expect(document.activeElement).toBe(byLabel('Email address').element);

    await byLabel('Email address').setValue('ana@example.test');
    await byLabel('Only the components I choose').setValue(true);
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    expect(wrapper.get('[role="alert"]').text()).toBe('Tick at least one component, or choose Everything.');
    expect(document.activeElement).toBe(byLabel('Status API').element);
    expect(subscriptions()).toHaveLength(0);
    wrapper.unmount();
  });
});
