import { provideClient, useQuery } from '@urql/vue';
import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import type { UseQueryArgs } from '@urql/vue';
import { computed } from 'vue';
import { createHubClient, type HubClientOptions } from '../client';
import { errorCodeOf, errorMessageOf } from '../errors';

/**
 * Gives the calling view (and its children) a client for one audience and runs `query` on it.
 * `refresh()` goes to the network, e.g. after a token was entered or a sign-in succeeded.
 */
export function useHubQuery<Data, Variables extends AnyVariables>(query: TypedDocumentNode<Data, Variables>, options: HubClientOptions) {
  const client = createHubClient(options);
  provideClient(client);
  // The documents used here take no variables.
  const result = useQuery<Data, Variables>({ query, requestPolicy: 'cache-and-network' } as UseQueryArgs<Data, Variables>);
  return {
    client,
    data: result.data,
    error: result.error,
    fetching: result.fetching,
    code: computed(() => errorCodeOf(result.error.value)),
    message: computed(() => errorMessageOf(result.error.value)),
    refresh: () => result.executeQuery({ requestPolicy: 'network-only' }),
  };
}
