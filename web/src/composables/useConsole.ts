import type { AnyVariables, Client, DocumentInput, TypedDocumentNode } from '@urql/core';
import { useClientHandle, useQuery, type UseQueryArgs } from '@urql/vue';
import { computed, inject, provide, ref, watch, type InjectionKey, type Ref } from 'vue';
import { errorCodeOf, errorMessageOf, type ErrorCode } from '../errors';

/**
 * The staff console: one client for the `internal` audience (provided by ConsoleLayout), and
 * one live subscription whose events bump `revision`; every console view refetches what it shows
 * when it changes, so a change made anywhere (another tab, the API) shows without reload.
 */
interface ConsoleContext {
  client: Client;
  /** Bumped after each burst of live events (debounced by useLiveRefresh). */
  revision: Ref<number>;
  /** The signed-in user's permissions, e.g. `write:incidents`. */
  permissions: Ref<string[]>;
}

const consoleKey: InjectionKey<ConsoleContext> = Symbol('statushub-console');

export function provideConsole(context: ConsoleContext): void {
  provide(consoleKey, context);
}

export function useConsoleContext(): ConsoleContext {
  const context = inject(consoleKey);
  if (!context) throw new Error('console views must be rendered inside ConsoleLayout');
  return context;
}

/** Whether the signed-in user may do this (`write:incidents`, `admin`, …); admin implies all. */
export function useCan(permission: string) {
  const { permissions } = useConsoleContext();
  return computed(() => permissions.value.includes(permission) || permissions.value.includes('admin'));
}

/** A console query that refetches from the network whenever live events arrive. */
export function useConsoleQuery<Data, Variables extends AnyVariables = AnyVariables>(
  query: TypedDocumentNode<Data, Variables>,
  variables?: Variables | Ref<Variables> | (() => Variables),
) {
  const { revision } = useConsoleContext();
  const result = useQuery<Data, Variables>({ query, variables, requestPolicy: 'cache-and-network' } as UseQueryArgs<Data, Variables>);
  const refresh = () => result.executeQuery({ requestPolicy: 'network-only' });
  watch(revision, refresh);
  return {
    data: result.data,
    fetching: result.fetching,
    error: result.error,
    code: computed(() => errorCodeOf(result.error.value)),
    message: computed(() => errorMessageOf(result.error.value)),
    refresh,
  };
}

export interface MutationOutcome<Data> {
  data?: Data;
  /** The server's `domain/reason` code, when it refused. */
  code?: ErrorCode;
  /** A sentence for people; empty on success. */
  message: string;
}

/**
 * Runs a mutation on the console's client. `pending` is true while it runs, `failure` holds the
 * last refusal in words (the server's typed error), so a form can show it next to its button.
 */
export function useConsoleMutation<Data, Variables extends AnyVariables>(mutation: DocumentInput<Data, Variables>) {
  const handle = useClientHandle();
  const pending = ref(false);
  const failure = ref('');
  async function run(variables: Variables): Promise<MutationOutcome<Data>> {
    pending.value = true;
    failure.value = '';
    try {
      const result = await handle.client.mutation(mutation, variables).toPromise();
      const outcome: MutationOutcome<Data> = result.error
        ? { code: errorCodeOf(result.error), message: errorMessageOf(result.error) }
        : { data: result.data, message: '' };
      failure.value = outcome.message;
      return outcome;
    } finally {
      pending.value = false;
    }
  }
  return { run, pending, failure };
}
