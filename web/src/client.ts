import { cacheExchange, Client, fetchExchange } from '@urql/core';

export interface HubClientOptions {
  /** `public`, `internal` or `deployment:<slug>`, sent as `x-statushub-audience`; omitted lets the server choose. */
  audience?: string;
  /** Read on every request, so a token entered later is used without a new client. */
  token?: () => string | null | undefined;
}

export function requestHeaders({ audience, token }: HubClientOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (audience) headers['x-statushub-audience'] = audience;
  const bearer = token?.();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  return headers;
}

/**
 * One client per audience. NOTE: urql's document cache keys results by query and variables only,
 * so sharing one client between audiences would show one audience's cached answer to another.
 */
export function createHubClient(options: HubClientOptions = {}): Client {
  return new Client({
    url: '/graphql',
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: () => ({ headers: requestHeaders(options), credentials: 'same-origin' }),
  });
}
