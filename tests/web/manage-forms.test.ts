// @vitest-environment jsdom
import { Client, makeResult, type Exchange, type Operation } from '@urql/core';
import { flushPromises, mount } from '@vue/test-utils';
import { getOperationAST, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { defineComponent, h, ref, type Component } from 'vue';
import { filter, fromPromise, mergeMap, pipe } from 'wonka';
import ApiTokenForm from '../../web/src/components/console/ApiTokenForm.vue';
import IncidentEditForm from '../../web/src/components/console/IncidentEditForm.vue';
import type { ConsoleIncidentDetail } from '../../web/src/graphql/console-incidents';
import { provideConsole } from '../../web/src/composables/useConsole';
import ManageComponents from '../../web/src/views/console/ManageComponents.vue';
import ManageUsers from '../../web/src/views/console/ManageUsers.vue';
import ManageTemplates from '../../web/src/views/console/ManageTemplates.vue';

type Answer = { data?: unknown; errors?: { message: string; extensions: Record<string, unknown> }[] };

/**
 * A real urql client whose only exchange answers from `respond`, so the views go through urql
 * (and the console's error handling) exactly as in the browser, without a server.
 */
function fakeClient(respond: (name: string, variables: Record<string, unknown>) => Answer) {
  const calls: { name: string; variables: Record<string, unknown> }[] = [];
  const exchange: Exchange = () => (ops$) =>
    pipe(
      ops$,
      filter((op: Operation) => op.kind !== 'teardown'),
      mergeMap((op: Operation) => {
        const name = getOperationAST(op.query)?.name?.value ?? print(op.query);
        const variables = (op.variables ?? {}) as Record<string, unknown>;
        calls.push({ name, variables });
        return fromPromise(Promise.resolve(makeResult(op, respond(name, variables) as never)));
      }),
    );
  return { client: new Client({ url: 'http://test/graphql', exchanges: [exchange] }), calls };
}

/** Renders `view` the way ConsoleLayout does: console context plus the client under urql's key. */
function mountInConsole(view: Component, client: Client, permissions: string[], props: () => Record<string, unknown> = () => ({})) {
  const Host = defineComponent({
    setup() {
      provideConsole({ client, revision: ref(0), permissions: ref(permissions) });
      return () => h(view, props());
    },
  });
  return mount(Host, { attachTo: document.body, global: { provide: { $urql: ref(client) } } });
}

describe('create-API-token form', () => {
  it('sends the name and ticked scopes, then shows the secret once', async () => {
    const { client, calls } = fakeClient(() => ({
      data: { createApiToken: { __typename: 'CreatedApiToken', token: 'sh_live_SECRET123', apiToken: { __typename: 'ApiToken', id: 't1', name: 'deploy bot', prefix: 'sh_live_' } } },
    }));
    const wrapper = mountInConsole(ApiTokenForm, client, ['admin']);
    expect(wrapper.find('[data-testid="secret"]').exists()).toBe(false);

    await wrapper.find('input[autocomplete="off"]').setValue('deploy bot');
    await wrapper.find('input[type="checkbox"][value="write_incidents"]').setValue(true);
    await wrapper.find('form').trigger('submit');
    await flushPromises();

    expect(calls).toEqual([{ name: 'CreateApiToken', variables: { input: { name: 'deploy bot', scopes: ['read_internal', 'write_incidents'], expiresAt: null } } }]);
    const secret = wrapper.find<HTMLInputElement>('[data-testid="secret"]');
    expect(secret.element.value).toBe('sh_live_SECRET123');
    expect(secret.attributes('readonly')).toBeDefined();
    expect(wrapper.text()).toContain('This is the only time the secret is shown');
    // The form is reset for the next token.
    expect(wrapper.find<HTMLInputElement>('input[autocomplete="off"]').element.value).toBe('');

    await wrapper.findAll('button').find((b) => b.text() === 'I have saved it')!.trigger('click');
    expect(wrapper.find('[data-testid="secret"]').exists()).toBe(false);
    expect(wrapper.html()).not.toContain('sh_live_SECRET123');
    wrapper.unmount();
  });

  it("shows the server's validation message next to the form and no secret", async () => {
    const { client } = fakeClient(() => ({ errors: [{ message: 'name: must be at most 200 characters', extensions: { code: 'input/invalid' } }] }));
    const wrapper = mountInConsole(ApiTokenForm, client, ['admin']);
    await wrapper.find('input[autocomplete="off"]').setValue('x');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(wrapper.find('[role="alert"]').text()).toBe('name: must be at most 200 characters');
    expect(wrapper.find('[data-testid="secret"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('refuses to send a token without scopes', async () => {
    const { client, calls } = fakeClient(() => ({}));
    const wrapper = mountInConsole(ApiTokenForm, client, ['admin']);
    await wrapper.find('input[autocomplete="off"]').setValue('nothing');
    await wrapper.find('input[type="checkbox"][value="read_internal"]').setValue(false);
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(calls).toEqual([]);
    expect(wrapper.find('[role="alert"]').text()).toMatch(/at least one scope/);
    wrapper.unmount();
  });
});

const components = {
  __typename: 'Query',
  components: [
    {
      __typename: 'Component',
      id: 'c1',
      name: 'Push delivery',
      description: '',
      status: 'operational',
      updatedAt: '2025-01-01T00:00:00Z',
      group: null,
      staff: { __typename: 'ComponentStaffDetails', visibility: 'public', sortOrder: 0, sloTarget: 99.9, errorBudgetRemaining: 62.44 },
    },
  ],
  componentGroups: [],
};

describe('components screen', () => {
  it('changes a status as soon as another one is picked, and shows status as icon and words', async () => {
    const { client, calls } = fakeClient((name) =>
      name === 'SetComponentStatus'
        ? { data: { setComponentStatus: { __typename: 'Component', id: 'c1', status: 'major_outage' } } }
        : { data: components },
    );
    const wrapper = mountInConsole(ManageComponents, client, ['read:internal', 'write:components']);
    await flushPromises();
    const row = wrapper.find('tbody tr');
    // The badge, not the status picker (whose options name every status).
    expect(row.find('.status-badge').text()).toBe('Operational');
    expect(row.find('svg[aria-hidden="true"]').exists()).toBe(true);
    expect(row.text()).toContain('99.9% target');
    expect(row.text()).toContain('62.4% left');

    await row.find('select[aria-label="Change status of Push delivery"]').setValue('major_outage');
    await flushPromises();
    expect(calls.filter((c) => c.name === 'SetComponentStatus')).toEqual([{ name: 'SetComponentStatus', variables: { id: 'c1', status: 'major_outage' } }]);
    expect(wrapper.text()).toContain('Push delivery is now major outage.');
    wrapper.unmount();
  });

  it('offers no write controls without write:components', async () => {
    const { client } = fakeClient(() => ({ data: components }));
    const wrapper = mountInConsole(ManageComponents, client, ['read:internal']);
    await flushPromises();
    expect(wrapper.text()).toContain('Push delivery');
    expect(wrapper.find('select').exists()).toBe(false);
    expect(wrapper.findAll('button').map((b) => b.text())).not.toContain('New component');
    expect(wrapper.text()).toContain('needs the write:components permission');
    wrapper.unmount();
  });
});

describe('staff accounts screen', () => {
  it('tells a non-admin that only admins manage staff, without asking the server', async () => {
    const { client, calls } = fakeClient(() => ({ data: {} }));
    const wrapper = mountInConsole(ManageUsers, client, ['read:internal', 'write:incidents']);
    await flushPromises();
    expect(wrapper.text()).toContain('Only admins manage staff accounts');
    expect(calls).toEqual([]);
    wrapper.unmount();
  });
});

describe('incident edit form', () => {
  const incident = (staff: Partial<NonNullable<ConsoleIncidentDetail['staff']>> = {}): ConsoleIncidentDetail => ({
    id: 'i1',
    title: 'Slow logins',
    status: 'investigating',
    impact: 'minor',
    startedAt: '2026-11-22T10:00:00.000Z',
    resolvedAt: null,
    nextUpdateDueAt: null,
    postmortem: null,
    staff: { severity: 'SEV3', visibility: 'public', pageWide: false, warRoomUrl: null, roles: [{ role: 'incident_commander', assignee: 'Priya' }], ...staff },
    affectedComponents: [],
    updates: [],
  });

  it('sends only what this form changed, never a field someone else changed meanwhile', async () => {
    const { client, calls } = fakeClient(() => ({ data: { updateIncident: { __typename: 'Incident', id: 'i1' } } }));
    const current = ref(incident());
    const wrapper = mountInConsole(IncidentEditForm, client, ['read:internal', 'write:incidents'], () => ({ incident: current.value }));
    // A colleague makes the incident internal; the live refetch hands the open form the new incident.
    current.value = incident({ visibility: 'internal' });
    await flushPromises();
    await wrapper.find('#edit-severity').setValue('SEV1');
    await wrapper.find('#edit-role-scribe').setValue('Tom');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(calls).toEqual([
      {
        name: 'UpdateIncident',
        variables: {
          id: 'i1',
          patch: {
            severity: 'SEV1',
            roles: [
              { role: 'incident_commander', assignee: 'Priya' },
              { role: 'scribe', assignee: 'Tom' },
            ],
          },
        },
      },
    ]);
    // Saving again without changes sends nothing.
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(calls).toHaveLength(1);
    expect(wrapper.text()).toContain('Nothing changed.');
    wrapper.unmount();
  });
});

describe('template form', () => {
  it('previews the draft while it is typed, placeholders filled by the server’s rule', async () => {
    const { client, calls } = fakeClient(() => ({ data: { templates: [] } }));
    const wrapper = mountInConsole(ManageTemplates, client, ['read:internal', 'write:templates']);
    await flushPromises();
    await wrapper.findAll('button').find((b) => b.text() === 'New template')!.trigger('click');
    expect(wrapper.find('[data-testid="draft-preview"]').exists()).toBe(false);
    await wrapper.find('form input[maxlength="300"]').setValue('{service} is down');
    await wrapper.find('form textarea').setValue('Customers see {impact}. {unknown} stays. Next update by {next_update}.');
    const preview = wrapper.find('[data-testid="draft-preview"]');
    expect(preview.find('.rendered-title').text()).toBe('API is down');
    // A placeholder without a value stays visible, so the author sees what is still open.
    expect(preview.find('.rendered-body').text()).toBe('Customers see Some requests fail. {unknown} stays. Next update by {next_update}.');
    // Nothing was sent to render it.
    expect(calls.map((c) => c.name)).toEqual(['ManageTemplates']);
    wrapper.unmount();
  });
});
