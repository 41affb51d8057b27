import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { credentialsFromNode } from './credentials.js';
import { httpChunk, type Frame, type Subscriber } from './hub.js';
import { prepareLiveOperation } from './requests.js';
import type { LiveServices } from './services.js';

const maxBody = 256 * 1024;
const keepAliveMs = 15_000;
const complete = Buffer.from('event: complete\ndata:\n\n');

/**
 * GraphQL subscriptions over Server-Sent Events, graphql-sse's "distinct connections" protocol
 * (the one yoga speaks): one request per subscription, `next` events, a `complete` event.
 * `pageEvents` frames are written from the hub's shared bytes; any other operation that asks
 * for an event stream is handed to yoga unchanged.
 */
export function createSseHandler(services: LiveServices, fallback: (request: Request) => Promise<Response>) {
  const open = new Set<ServerResponse>();
  const keepAlive = setInterval(() => {
    for (const res of open) writeShared(res, keepAliveChunk, keepAliveMessage);
  }, keepAliveMs).unref();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    let body: string | undefined;
    let params: { query?: unknown; operationName?: string | null; variables?: Record<string, unknown> | null };
    try {
      if (req.method === 'POST') {
        body = await readBody(req);
        params = JSON.parse(body);
      } else {
        const variables = url.searchParams.get('variables');
        params = { query: url.searchParams.get('query'), operationName: url.searchParams.get('operationName'), variables: variables ? JSON.parse(variables) : null };
      }
    } catch {
      return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'Malformed request', extensions: { code: 'input/invalid' } }] }));
    }

    const live = prepareLiveOperation(services.schema, services.documents, params);
    if (live === null) return forward(req, res, url, body, fallback);

    startStream(res);
    if (Array.isArray(live)) return endWithErrors(res, live as readonly GraphQLError[]);
    const operation = live as Exclude<typeof live, readonly GraphQLError[] | null>;
    let viewer, stopAccess: () => void;
    try {
      // Access is re-checked while the stream is open (server/realtime/access.ts): once it is gone,
      // the stream gets the `auth/...` error as its last `next` event, then `complete`.
      ({ viewer, stop: stopAccess } = await services.access.open(credentialsFromNode(req), (reason) => {
        if (writable(res)) endWithErrors(res, [new GraphQLError(reason.message, { extensions: { code: reason.code } })]);
      }));
    } catch (error) {
      return endWithErrors(res, [error as GraphQLError]);
    }
    // Per-caller document limits, streams per client IP, new-subscription rate (server/limits/live.ts).
    const admission = await services.limits?.admitSse(req, viewer, operation.prepared.document);
    if (admission && 'errors' in admission) {
      stopAccess();
      return endWithErrors(res, admission.errors);
    }
    // The client may have gone while its viewer was resolved: `close` has fired already.
    if (!writable(res)) {
      stopAccess();
      return admission?.release();
    }

    // NOTE: a write after end emits an unhandled 'error' on the response (the process dies),
    // and the hub may write to or close a subscriber before its 'close' event has fired.
    const subscriber: Subscriber = {
      // Includes what the socket has queued (OutgoingMessage counts both).
      buffered: () => res.writableLength,
      write: (frame: Frame) => writeShared(res, frame.sseChunkBytes(), frame.sseBytes()),
      close: () => {
        if (writable(res)) res.end(complete);
      },
    };
    open.add(res);
    const unsubscribe = services.hub.subscribe({ viewer, ...operation, subscriber });
    res.once('close', () => {
      open.delete(res);
      stopAccess();
      unsubscribe();
      admission?.release();
    });
  }

  /**
   * The node is shutting down: every stream gets a last `next` event carrying the error
   * `live/restarting`, then `complete`. Clients subscribe again (to another node) with
   * `after` set to the last seq they received and miss nothing.
   */
  function restart(): void {
    for (const res of open) if (writable(res)) endWithErrors(res, [restarting]);
  }

  return { handle, restart, close: () => clearInterval(keepAlive), openStreams: () => open.size };
}

const keepAliveMessage = Buffer.from(':\n\n');
const keepAliveChunk = httpChunk(keepAliveMessage);

/**
 * Write bytes shared by many subscribers. On a chunked HTTP/1.1 response (headers already sent)
 * the pre-framed chunk goes straight to the socket: one write, no per-response framing.
 */
function writeShared(res: ServerResponse, chunk: Buffer, message: Buffer): void {
  if (!writable(res)) return;
  const socket = res.socket;
  if (socket && res.headersSent && (res as ServerResponse & { chunkedEncoding?: boolean }).chunkedEncoding) socket.write(chunk);
  else res.write(message);
}

function writable(res: ServerResponse): boolean {
  return !res.writableEnded && !res.destroyed;
}

function startStream(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    // Tells nginx not to buffer the stream.
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
}

const restarting = new GraphQLError('The server is restarting: subscribe again with `after` set to the last seq received.', { extensions: { code: 'live/restarting' } });

const unexpected = { message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } };

/** Per the protocol, request errors arrive as a `next` event on an accepted stream. */
function endWithErrors(res: ServerResponse, errors: readonly GraphQLError[]): void {
  // Masked like yoga masks: anything but a GraphQLError (a database error) says nothing about itself.
  // A syntax or validation error carries no code of its own: like yoga's (useInputErrorCodes), it is bad input.
  const typed = (e: GraphQLError) => (e.extensions?.code ? e.toJSON() : { ...e.toJSON(), extensions: { ...e.extensions, code: 'input/invalid' } });
  const payload = JSON.stringify({ errors: errors.map((e) => (e instanceof GraphQLError ? typed(e) : unexpected)) });
  res.write(`event: next\ndata: ${payload}\n\n`);
  res.end(complete);
}

async function forward(req: IncomingMessage, res: ServerResponse, url: URL, body: string | undefined, fallback: (request: Request) => Promise<Response>): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
  const response = await fallback(new Request(url, { method: req.method, headers, body }));
  res.writeHead(response.status, Object.fromEntries(response.headers));
  // NOTE: yoga's body is a whatwg-node stream, not Node's own web stream: read it chunk by chunk.
  const reader = response.body?.getReader();
  if (reader) {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) res.write(chunk.value);
  }
  res.end();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
