// @vitest-environment jsdom
import { Client, makeResult, type Exchange, type Operation } from '@urql/core';
import { flushPromises, mount } from '@vue/test-utils';
import { getOperationAST, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { defineComponent, h, ref, type Component } from 'vue';
import { filter, fromPromise, mergeMap, pipe } from 'wonka';
import { provideConsole } from '../../web/src/composables/useConsole';
import ManageTemplates from '../../web/src/views/console/ManageTemplates.vue';

// The console's side of the publication guard: the warning beside the field as the editor types
// (Query.checkPublication, debounced), and "Save anyway" after the server refused, which resends
// with allowLeakOverride.

type Answer = { data?: unknown; errors?: { message: string; extensions: Record<string, unknown> }[] };

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

function mountInConsole(view: Component, client: Client, permissions: string[]) {
  const Host = defineComponent({
    setup() {
      provideConsole({ client, revision: ref(0), permissions: ref(permissions) });
      return () => h(view);
    },
  });
  return mount(Host, { attachTo: document.body, global: { provide: { $urql: ref(client) } } });
}

const key = 'AKIAIOSFODNN7EXAMPLE';
const finding = { __typename: 'PublicationFinding', kind: 'api_key', match: 'AKIAIO…', index: 8 };
const refusal = { message: 'This would publish what looks like a secret or an internal detail: body: an API key (AKIAIO…).', extensions: { code: 'publication/leak_suspected' } };

describe('publication warning in the template form', () => {
  it('warns beside the field while typing, and offers to save anyway after the server refused', async () => {
    const { client, calls } = fakeClient((name, variables) => {
      if (name === 'CheckPublication') return { data: { checkPublication: String(variables.text).includes(key) ? [finding] : [] } };
      if (name === 'CreateTemplate') return variables.allowLeakOverride ? { data: { createTemplate: { __typename: 'Template', id: 't1' } } } : { errors: [refusal] };
      return { data: { templates: [] } };
    });
    const wrapper = mountInConsole(ManageTemplates, client, ['read:internal', 'write:templates']);
    await flushPromises();
    await wrapper.findAll('button').find((b) => b.text() === 'New template')!.trigger('click');
    await wrapper.find('form input[maxlength="200"]').setValue('Rotation');
    await wrapper.find('form input[maxlength="300"]').setValue('Keys rotated');
    await wrapper.find('form textarea').setValue(`Old key ${key} is revoked.`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await flushPromises();

    expect(calls.filter((c) => c.name === 'CheckPublication').map((c) => c.variables.text)).toEqual(['Keys rotated', `Old key ${key} is revoked.`]);
    expect(wrapper.find('.publication-warning').text()).toContain('an API key (AKIAIO…)');
    expect(wrapper.html()).not.toContain(`(${key})`);

    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(wrapper.text()).toContain('body: an API key (AKIAIO…)');
    const anyway = wrapper.findAll('button').find((b) => b.text() === 'Save anyway');
    expect(anyway).toBeDefined();
    await anyway!.trigger('click');
    await flushPromises();
    const sent = calls.filter((c) => c.name === 'CreateTemplate').map((c) => c.variables.allowLeakOverride);
    expect(sent).toEqual([undefined, true]);
    expect(wrapper.text()).toContain('Created template Rotation.');
    wrapper.unmount();
  });
});
