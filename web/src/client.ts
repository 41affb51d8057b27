import { cacheExchange, Client, fetchExchange, subscriptionExchange, type OperationContext } from '@urql/core';
import { liveSocket } from './live';

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

const JSON_ONLY = 'application/graphql-response+json, application/json';

/**
 * One client per audience. NOTE: urql's document cache keys results by query and variables only,
 * so sharing one client between audiences would show one audience's cached answer to another.
 */
export function createHubClient(options: HubClientOptions = {}): Client {
  return new Client({
    url: '/graphql',
    exchanges: [
      cacheExchange,
      fetchExchange,
      // Subscriptions go over the tab's one WebSocket (web/src/live.ts).
      subscriptionExchange({
        forwardSubscription: (request, operation) => ({
          subscribe: (sink) => ({ unsubscribe: liveSocket(options).subscribe(resumable(request, operation.context), sink) }),
        }),
      }),
    ],
    // Queries and mutations take one JSON answer: urql's default Accept also lists
    // text/event-stream, which routes a request to the server's SSE handler.
    // x-statushub-csrf: the server runs a request carrying the session cookie only with it (or a
    // JSON body); urql sends short queries as GETs, which a browser does not preflight.
    fetchOptions: () => ({ headers: { accept: JSON_ONLY, 'x-statushub-csrf': '1', ...requestHeaders(options) }, credentials: 'same-origin' }),
  });
}

/** Context of a live subscription that resumes: `resumeAfter()` is the last sequence number seen. */
export interface ResumeContext {
  resumeAfter?: () => number | null;
}

/**
 * graphql-ws sends the same payload again after every reconnect; reading `after` when it is
 * sent makes that resubscription resume after the last event seen, so missed events replay.
 */
export function resumable<T extends { variables?: Record<string, unknown> }>(request: T, context: OperationContext): T & { query: string } {
  const resumeAfter = (context as OperationContext & ResumeContext).resumeAfter;
  const payload = { ...request, query: (request as { query?: string }).query ?? '' };
  if (!resumeAfter) return payload;
  return Object.defineProperty(payload, 'variables', {
    enumerable: true,
    get: () => ({ ...request.variables, after: resumeAfter() ?? request.variables?.after ?? null }),
  });
}
