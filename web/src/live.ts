import { createClient, type Client as WsClient } from 'graphql-ws/client';
import { shallowRef } from 'vue';
import { requestHeaders, type HubClientOptions } from './client';

/** What the connection indicator shows. */
export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'ended';

/** The state of this tab's live connection. */
export const liveState = shallowRef<LiveState>('connecting');

/** Closed by the server when the audience's credentials were refused: retrying would not help. */
const FORBIDDEN = 4403;

let shared: { key: string; client: WsClient } | null = null;

export function liveUrl(location: Pick<Location, 'protocol' | 'host'> = globalThis.location): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
}

/**
 * The tab's one WebSocket (graphql-ws), shared by every view. The server resolves the audience
 * once per connection, so a view with other credentials (another audience, a token entered
 * later) replaces the socket; only one view is on screen at a time.
 */
export function liveSocket(options: HubClientOptions): WsClient {
  const params = connectionParams(options);
  const key = JSON.stringify(params);
  if (shared?.key === key) return shared.client;
  if (shared) void shared.client.dispose();
  liveState.value = 'connecting';
  let ids = 0;
  let everConnected = false;
  const client = createClient({
    url: liveUrl(),
    connectionParams: params,
    lazy: true,
    // NOTE: ids count from 1 on every socket, so the server shares one frame per id across
    // every subscriber of the same document (see server/realtime/ws.ts).
    generateID: () => String(++ids),
    retryAttempts: Infinity,
    shouldRetry: (event) => !(isCloseEvent(event) && event.code === FORBIDDEN),
    // Exponential back-off with jitter, so a restarted server is not met by every tab at once.
    retryWait: (retries) => {
      const delay = Math.min(15_000, 1_000 * 2 ** retries);
      return new Promise((resolve) => setTimeout(resolve, delay / 2 + (Math.random() * delay) / 2));
    },
    on: {
      connecting: () => {
        if (shared?.client === client) liveState.value = everConnected ? 'reconnecting' : 'connecting';
      },
      connected: () => {
        everConnected = true;
        if (shared?.client === client) liveState.value = 'live';
      },
      closed: (event) => {
        if (shared?.client !== client) return;
        if (isCloseEvent(event) && event.code === FORBIDDEN) {
          // Access was refused or taken away: the next view (or a token entered) starts a new socket.
          liveState.value = 'ended';
          shared = null;
        } else if (everConnected) liveState.value = 'reconnecting';
      },
    },
  });
  shared = { key, client };
  return client;
}

function connectionParams(options: HubClientOptions): Record<string, string> {
  const headers = requestHeaders(options);
  const params: Record<string, string> = {};
  if (headers['x-statushub-audience']) params.audience = headers['x-statushub-audience'];
  if (headers.authorization) params.authorization = headers.authorization;
  return params;
}

function isCloseEvent(value: unknown): value is { code: number } {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number';
}
