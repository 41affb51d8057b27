import type { IncomingMessage, Server } from 'node:http';
import { execute as graphqlExecute, subscribe as graphqlSubscribe, GraphQLError, type ExecutionArgs, type ExecutionResult, OperationTypeNode } from 'graphql';
import { sessionCookie } from '../auth/resolve-viewer.js';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Credentials } from '../auth/resolve-viewer.js';
import { credentialsFromNode } from './credentials.js';
import type { Viewer } from '../auth/viewer.js';
import type { LiveServices } from './services.js';
import { prepareLiveOperation } from './requests.js';
import type { Frame, Subscriber } from './hub.js';
import { limitTier } from '../limits/graphql.js';

interface ConnectionState {
  viewer?: Viewer;
  /** What the connection authenticated with, for the operations yoga answers on its behalf. */
  credentials?: Credentials;
  /** Stops re-checking this connection's access (server/realtime/access.ts). */
  stopAccess?: () => void;
  /** Unsubscribe functions of this connection's live subscriptions, by client id. */
  live: Map<string, () => void>;
}

/** An async iterator that never yields: graphql-ws keeps the subscription open until it ends. */
function heldOpen(onEnd: () => void): AsyncGenerator<never> {
  let finish: (value: IteratorResult<never>) => void = () => {};
  const ended = new Promise<IteratorResult<never>>((resolve) => (finish = resolve));
  const iterator: AsyncGenerator<never> = {
    next: () => ended,
    return: async () => {
      onEnd();
      finish({ done: true, value: undefined });
      return { done: true, value: undefined };
    },
    throw: async (error) => {
      onEnd();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  } as AsyncGenerator<never>;
  return iterator;
}

/** graphql-ws frames differ per subscriber only by the subscription id (see Frame.wsMessage). */
function wsSubscriber(socket: WebSocket, id: string): Subscriber {
  const prefix = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
  return {
    buffered: () => socket.bufferedAmount,
    write: (frame: Frame) => {
      if (socket.readyState === socket.OPEN) socket.send(frame.wsMessage(id, prefix), { binary: false });
    },
    close: (reason) => socket.close(4429, reason),
  };
}

/**
 * GraphQL over WebSocket (graphql-ws protocol) at /graphql on the HTTP server's port.
 * graphql-ws runs the protocol (handshake, ping, complete); `pageEvents` subscriptions are
 * registered with the hub, which writes their frames straight to the socket.
 */
/** Close code for "this node is going away, reconnect (to another node)": RFC 6455 Service Restart. */
export const serviceRestart = 1012;

export function attachWebSocket(server: Server, services: LiveServices): { restart(): void; close(): Promise<void> } {
  // NOTE: no permessage-deflate: broadcast frames would be compressed once per socket.
  const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false, maxPayload: 1024 * 1024 });
  const states = new WeakMap<object, ConnectionState>();
  const stateOf = (extra: object) => {
    let state = states.get(extra);
    if (!state) states.set(extra, (state = { live: new Map() }));
    return state;
  };

  const disposable = useServer<Record<string, unknown> | undefined, { socket: WebSocket; request: IncomingMessage }>(
    {
      schema: services.schema,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const fromParams: Partial<Credentials> = {
          pageSlug: typeof params.page === 'string' ? params.page : undefined,
          audience: typeof params.audience === 'string' ? params.audience : undefined,
          bearer: typeof params.authorization === 'string' ? params.authorization.replace(/^Bearer\s+/i, '') : undefined,
        };
        const { socket } = ctx.extra;
        try {
          const state = stateOf(ctx.extra);
          // Access is re-checked for as long as the socket is open (server/realtime/access.ts): once
          // it is gone the socket closes with 4403 and the code, ending every subscription on it.
          const credentials = { ...credentialsFromNode(ctx.extra.request), ...definedOnly(fromParams) };
          const opened = await services.access.open(credentials, (reason) => socket.close(4403, reason.code));
          state.viewer = opened.viewer;
          state.credentials = credentials;
          state.stopAccess = opened.stop;
          if (socket.readyState !== socket.OPEN) opened.stop();
          return true;
        } catch (error) {
          const code = error instanceof GraphQLError ? String(error.extensions.code ?? 'auth/forbidden') : 'internal';
          // 4403 (Forbidden) with the error code, so clients can ask for a token or a sign-in.
          ctx.extra.socket.close(4403, code);
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const state = stateOf(ctx.extra);
        const viewer = state.viewer!;
        const live = prepareLiveOperation(services.schema, services.documents, payload, limitTier(viewer));
        if (Array.isArray(live)) return live as GraphQLError[];
        if (live && !Array.isArray(live)) {
          const operation = live as Exclude<typeof live, readonly GraphQLError[] | null>;
          // The count is read after the await: nothing else runs between it and state.live.set.
          const refused = (await services.limits?.admitWs(OperationTypeNode.SUBSCRIPTION, ctx.extra.request, viewer)) ?? services.limits?.socketFull(state.live.size);
          if (refused) return refused;
          const unsubscribe = services.hub.subscribe({
            viewer,
            prepared: operation.prepared,
            variables: operation.variables,
            after: operation.after,
            kinds: operation.kinds,
            subscriber: wsSubscriber(ctx.extra.socket, id),
          });
          state.live.set(id, unsubscribe);
          const args: ExecutionArgs = {
            schema: services.schema,
            document: operation.prepared.document,
            variableValues: operation.variables,
            contextValue: { liveSubscription: heldOpen(() => endLive(state, id)) },
          };
          return args;
        }
        // Queries and mutations over the socket are answered by yoga, as over HTTP, with this
        // connection's credentials: the same limits, argument checks and error masking.
        const prepared = services.documents.prepare(payload.query, payload.operationName, limitTier(viewer));
        if (Array.isArray(prepared)) return prepared as GraphQLError[];
        const { document } = prepared as Exclude<typeof prepared, readonly GraphQLError[]>;
        const viaHttp: ViaHttp = { payload, credentials: state.credentials!, req: ctx.extra.request };
        return { schema: services.schema, document, variableValues: payload.variables ?? undefined, operationName: payload.operationName ?? undefined, contextValue: { viaHttp } };
      },
      execute: (args) => {
        const via = (args.contextValue as { viaHttp?: ViaHttp } | undefined)?.viaHttp;
        return via ? executeOverHttp(services, via) : graphqlExecute(args);
      },
      subscribe: (args) => {
        const held = (args.contextValue as { liveSubscription?: AsyncGenerator<never> } | undefined)?.liveSubscription;
        return held ?? graphqlSubscribe(args);
      },
      onClose: (ctx) => {
        const state = stateOf(ctx.extra);
        state.stopAccess?.();
        for (const id of [...state.live.keys()]) endLive(state, id);
      },
    },
    wss,
    // Ping every 25 s: under common proxy idle timeouts (60 s), and with 10,000 sockets the
    // default 12 s costs more server CPU than the status changes themselves.
    25_000,
  );

  return {
    // graphql-ws clients retry after 1012 (not a fatal code for them); the web app backs off.
    restart: () => {
      for (const socket of wss.clients) socket.close(serviceRestart, 'service restart');
    },
    close: async () => {
      await disposable.dispose();
      // Sockets whose peer never answered the closing handshake.
      for (const socket of wss.clients) socket.terminate();
    },
  };
}

function endLive(state: ConnectionState, id: string): void {
  state.live.get(id)?.();
  state.live.delete(id);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

interface ViaHttp {
  payload: { query?: unknown; variables?: Record<string, unknown> | null; operationName?: string | null };
  credentials: Credentials;
  req: IncomingMessage;
}

/** One query or mutation of a WebSocket connection, as yoga answers it over HTTP. */
async function executeOverHttp(services: LiveServices, { payload, credentials, req }: ViaHttp): Promise<ExecutionResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (credentials.bearer) headers.authorization = `Bearer ${credentials.bearer}`;
  if (credentials.audience) headers['x-statushub-audience'] = credentials.audience;
  if (credentials.pageSlug) headers['x-statushub-page'] = credentials.pageSlug;
  if (credentials.sessionToken) headers.cookie = `${sessionCookie}=${encodeURIComponent(credentials.sessionToken)}`;
  const host = credentials.host && /^[a-z0-9.:[\]-]+$/i.test(credentials.host) ? credentials.host : 'localhost';
  const request = new Request(`http://${host}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: payload.query, variables: payload.variables ?? undefined, operationName: payload.operationName ?? undefined }),
  });
  // `req` gives the limits the client's address, as for any HTTP request.
  const response = await services.http(request, { req });
  const result = (await response.json()) as { data?: ExecutionResult['data']; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
  // graphql-ws serialises errors as GraphQLErrors: give the JSON ones that shape back.
  const errors = result.errors?.map((e) => new GraphQLError(e.message, { path: e.path, extensions: e.extensions }));
  return errors ? { data: result.data, errors } : { data: result.data };
}
