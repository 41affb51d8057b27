// @vitest-environment jsdom
import { Client, fetchExchange } from '@urql/core';
import { provideClient } from '@urql/vue';
import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, ref, type Component } from 'vue';
import { createMemoryHistory, createRouter } from 'vue-router';
import IncidentUpdateForm from '../../web/src/components/console/IncidentUpdateForm.vue';
import OverdueMarker from '../../web/src/components/console/OverdueMarker.vue';
import { provideConsole } from '../../web/src/composables/useConsole';
import type { ConsoleIncidentDetail } from '../../web/src/graphql/console-incidents';
import DeclareIncident from '../../web/src/views/console/DeclareIncident.vue';

// Real timers for promises (flushPromises uses setImmediate); fake ones for the clock and debounce.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(new Date('2026-03-01T12:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
  document.body.innerHTML = '';
});

describe('OverdueMarker', () => {
  it('appears once the ticking clock passes nextUpdateDueAt, in words with an icon', async () => {
    const wrapper = mount(OverdueMarker, { props: { nextUpdateDueAt: '2026-03-01T12:01:00Z', status: 'investigating' } });
    expect(wrapper.find('[data-overdue]').exists()).toBe(false);

    await vi.advanceTimersByTimeAsync(75_000); // 15 s late: the next tick notices
    expect(wrapper.find('[data-overdue]').exists()).toBe(true);
    expect(wrapper.text()).toContain('Update overdue by less than a minute');
    expect(wrapper.find('svg[aria-hidden="true"]').exists()).toBe(true);

    await vi.advanceTimersByTimeAsync(12 * 60_000);
    expect(wrapper.text()).toContain('Update overdue by 12 min');
  });

  it('stays away for a resolved incident', async () => {
    const wrapper = mount(OverdueMarker, { props: { nextUpdateDueAt: '2026-03-01T11:00:00Z', status: 'resolved' } });
    expect(wrapper.find('[data-overdue]').exists()).toBe(false);
  });
});

// ── the declare form against a fake server ─────────────────────────────────────

interface Sent {
  operationName: string;
  variables: Record<string, unknown>;
}

function fakeServer() {
  const sent: Sent[] = [];
  const answer = (operationName: string, variables: Record<string, unknown>): unknown => {
    switch (operationName) {
      case 'DeclareForm':
        return {
          components: [
            { __typename: 'Component', id: 'c1', name: 'API', status: 'operational', group: { __typename: 'ComponentGroup', id: 'g1', name: 'Core' } },
            { __typename: 'Component', id: 'c2', name: 'Web', status: 'operational', group: { __typename: 'ComponentGroup', id: 'g1', name: 'Core' } },
          ],
          page: { __typename: 'Page', timeZone: 'UTC' },
        };
      case 'IncidentTemplates': {
        const vars = variables.vars as { service?: string };
        const service = vars.service ?? '{service}';
        return {
          templates: [
            { __typename: 'Template', id: 't1', name: 'Investigating', status: 'investigating', impact: 'minor', rendered: { __typename: 'RenderedTemplate', title: `Investigating ${service}`, body: `Looking at ${service}.` } },
            { __typename: 'Template', id: 't2', name: 'Partial outage', status: 'investigating', impact: 'major', rendered: { __typename: 'RenderedTemplate', title: `Partial outage of ${service}`, body: `Some requests to ${service} fail.` } },
          ],
        };
      }
      case 'PreviewIncident':
        return {
          previewIncident: [
            {
              __typename: 'AudiencePreview',
              audience: 'public',
              label: 'Public page',
              sees: true,
              incident: { __typename: 'PreviewIncident', title: 'Partial outage of API', status: 'investigating', impact: 'major', message: 'Some requests to API fail.', internalNote: null, nextUpdateDueAt: null, components: [{ __typename: 'PreviewComponent', name: 'API', status: 'partial_outage' }] },
              status: { __typename: 'PageStatus', indicator: 'major', description: 'Partial System Outage' },
            },
            { __typename: 'AudiencePreview', audience: 'deployment:eu-1', label: 'eu-1 customers', sees: false, incident: null, status: { __typename: 'PageStatus', indicator: 'none', description: 'All Systems Operational' } },
          ],
        };
      case 'CreateIncident':
        return { createIncident: { __typename: 'Incident', id: 'inc-9' } };
      case 'PostIncidentUpdate':
        return { postIncidentUpdate: { __typename: 'Incident', id: variables.id } };
      default:
        throw new Error(`unexpected operation ${operationName}`);
    }
  };
  const fetch = async (_url: RequestInfo | URL, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as { operationName: string; variables?: Record<string, unknown> };
    sent.push({ operationName: body.operationName, variables: body.variables ?? {} });
    return new Response(JSON.stringify({ data: answer(body.operationName, body.variables ?? {}) }), { headers: { 'content-type': 'application/json' } });
  };
  const client = new Client({ url: 'http://hub.test/graphql', exchanges: [fetchExchange], fetch: fetch as typeof globalThis.fetch, preferGetMethod: false });
  return { client, sent };
}

async function mountInConsole(view: Component, client: Client) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/internal/incidents/new', component: { render: () => null } },
      { path: '/internal/incidents/:id', component: { render: () => null } },
    ],
  });
  await router.push('/internal/incidents/new');
  const Host = defineComponent({
    setup() {
      provideClient(client);
      provideConsole({ client, revision: ref(0), permissions: ref(['read:internal', 'write:incidents']) });
      return () => h(view);
    },
  });
  return { router, wrapper: mount(Host, { global: { plugins: [router] }, attachTo: document.body }) };
}

describe('DeclareIncident', () => {
  it('fills from a template, previews each audience, and declares in a few keystrokes', async () => {
    const { client, sent } = fakeServer();
    const { router, wrapper } = await mountInConsole(DeclareIncident, client);
    await flushPromises();

    // The first field has focus, so a responder can start typing at once.
    expect(document.activeElement?.id).toBe('declare-template');

    await wrapper.get('#declare-template').setValue('t2');
    await flushPromises();
    const title = wrapper.get<HTMLInputElement>('#declare-title');
    expect(title.element.value).toBe('Partial outage of {service}');
    expect(wrapper.get<HTMLSelectElement>('#declare-impact').element.value).toBe('major');

    // Ticking a component (found by its label) gives it the template's default status and fills {service}.
    const labels = wrapper.findAll('label').filter((l) => l.text() === 'API');
    expect(labels).toHaveLength(1);
    await wrapper.get(`#${labels[0]!.attributes('for')}`).setValue(true);
    await flushPromises();
    expect(wrapper.get<HTMLSelectElement>('#declare-s-c1').element.value).toBe('partial_outage');
    expect(title.element.value).toBe('Partial outage of API');
    expect(wrapper.get<HTMLTextAreaElement>('#declare-message').element.value).toBe('Some requests to API fail.');

    // The preview is asked once the form settles, with what would be sent.
    const previewsBefore = sent.filter((s) => s.operationName === 'PreviewIncident').length;
    await vi.advanceTimersByTimeAsync(300);
    await flushPromises();
    const previews = sent.filter((s) => s.operationName === 'PreviewIncident');
    expect(previews.length).toBe(previewsBefore + 1);
    expect(previews.at(-1)!.variables.input).toMatchObject({
      title: 'Partial outage of API',
      impact: 'major',
      components: [{ componentId: 'c1', status: 'partial_outage' }],
      nextUpdateDueAt: '2026-03-01T12:30:00.000Z',
    });
    expect(wrapper.text()).toContain('Not shown to eu-1 customers');
    expect(wrapper.get('[data-audience="public"]').text()).toContain('Partial System Outage');

    // Enter in a text field submits (a real submit event); then the console page of the new incident opens.
    const button = wrapper.findAll('button').find((b) => b.text() === 'Declare incident');
    expect(button?.attributes('type')).toBe('submit');
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    const created = sent.find((s) => s.operationName === 'CreateIncident');
    expect(created?.variables.input).toMatchObject({ title: 'Partial outage of API', status: 'investigating', impact: 'major', visibility: 'public' });
    expect(created?.variables.input).not.toHaveProperty('severity');
    expect(router.currentRoute.value.fullPath).toBe('/internal/incidents/inc-9');
    wrapper.unmount();
  });

  it('does not send a form without a title or message and says why', async () => {
    const { client, sent } = fakeServer();
    const { wrapper } = await mountInConsole(DeclareIncident, client);
    await flushPromises();
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    expect(sent.some((s) => s.operationName === 'CreateIncident')).toBe(false);
    expect(wrapper.get('[role="alert"]').text()).toContain('Give the incident a title.');
    wrapper.unmount();
  });
});

describe('IncidentUpdateForm', () => {
  it('fills the message from a template and posts the update with a cleared promise', async () => {
    const { client, sent } = fakeServer();
    const incident: ConsoleIncidentDetail = {
      id: 'inc-1',
      title: 'API errors',
      status: 'investigating',
      impact: 'major',
      startedAt: '2026-03-01T11:00:00Z',
      resolvedAt: null,
      nextUpdateDueAt: '2026-03-01T11:30:00Z',
      postmortem: null,
      staff: { severity: 'SEV2', visibility: 'public', pageWide: false, warRoomUrl: null, roles: [] },
      affectedComponents: [{ status: 'partial_outage', component: { id: 'c1', name: 'API' } }],
      updates: [],
    };
    const Form = defineComponent({
      setup: () => () => h(IncidentUpdateForm, { incident, components: [], timeZone: 'UTC', now: Date.now() }),
    });
    const { wrapper } = await mountInConsole(Form, client);
    await flushPromises();

    await wrapper.get('#update-template').setValue('t2');
    expect(wrapper.get<HTMLTextAreaElement>('#update-message').element.value).toBe('Some requests to API fail.');
    await wrapper.get('#update-status').setValue('identified');
    await wrapper.get('input[type="radio"][value="none"]').setValue(true);
    await wrapper.get('form').trigger('submit');
    await flushPromises();

    const posted = sent.find((s) => s.operationName === 'PostIncidentUpdate');
    expect(posted?.variables).toEqual({ id: 'inc-1', input: { status: 'identified', message: 'Some requests to API fail.', nextUpdateDueAt: null } });
    expect(wrapper.text()).toContain('Update posted.');
    wrapper.unmount();
  });
});
