import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { liveSocket, liveState } from '../../web/src/live';
import { waitUntil } from '../helpers/live.js';

// The web app's one graphql-ws socket against a server that shuts down the way statushub does
// (server/node.ts close: WebSocket close 1012 Service Restart): the tab reconnects by itself
// (with back-off) and subscribes again. Its twin: 4403 (access refused) is not retried.

let wss: WebSocketServer;
const connections: { subscribes: unknown[]; socket: WebSocket }[] = [];
let closeWith = 1012;

beforeAll(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (socket) => {
    const connection = { subscribes: [] as unknown[], socket };
    connections.push(connection);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'connection_init') socket.send(JSON.stringify({ type: 'connection_ack' }));
      if (message.type === 'subscribe') {
        connection.subscribes.push(message.payload);
        // The first socket is told the server is restarting as soon as it subscribes.
        if (connections.length === 1) setTimeout(() => socket.close(closeWith, closeWith === 1012 ? 'service restart' : 'auth/forbidden'), 50);
      }
    });
  });
  const { port } = wss.address() as { port: number };
  Object.assign(globalThis, { location: { protocol: 'http:', host: `127.0.0.1:${port}` }, WebSocket });
});
afterAll(() => {
  for (const c of connections) c.socket.terminate();
  wss.close();
});

describe('the web app live socket', () => {
  it('reconnects and subscribes again after close 1012 (service restart)', async () => {
    const client = liveSocket({ audience: 'public' });
    const unsubscribe = client.subscribe({ query: 'subscription { pageEvents { seq } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    await waitUntil(() => connections.length === 1 && connections[0]!.subscribes.length === 1, 5_000, 'first subscribe');
    await waitUntil(() => liveState.value === 'reconnecting', 5_000, 'reconnecting');
    // Back-off: the first retry waits 0.5–1 s.
    await waitUntil(() => connections.length === 2 && connections[1]!.subscribes.length === 1, 5_000, 'subscribed again on a new socket');
    expect(liveState.value).toBe('live');
    unsubscribe();
    await client.dispose();
  });

  it('does not retry after close 4403 (access refused)', async () => {
    connections.length = 0;
    closeWith = 4403;
    const client = liveSocket({ audience: 'deployment:ap-1' });
    const unsubscribe = client.subscribe({ query: 'subscription { pageEvents { seq } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    await waitUntil(() => liveState.value === 'ended', 5_000, 'ended');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(connections).toHaveLength(1);
    unsubscribe();
  });
});
