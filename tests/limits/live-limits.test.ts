import { createClient as createWsClient, type Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  pageEventsDocument,
  seedTestDatabase,
  startTestNode,
  subscribeSse,
  subscribeWs,
  Subscriptions,
  waitUntil,
  type Collector,
  type SeededDatabase,
  type TestNode,
} from '../helpers/live.js';

// Live transports: per-caller document limits, subscriptions per graphql-ws connection, SSE
// streams per client, and the new-subscription rate, each refused with its own code.

let seeded: SeededDatabase;
let node: TestNode;
const subs = new Subscriptions();
const sockets: Client[] = [];

beforeAll(async () => {
  seeded = await seedTestDatabase();
  node = await startTestNode(seeded.database);
});
afterEach(async () => {
  subs.closeAll();
  for (const socket of sockets.splice(0)) await socket.dispose();
  await waitUntil(() => node.subscribers() === 0, 5_000, 'subscriptions closed');
});
afterAll(async () => {
  await node?.close();
  await seeded?.database.destroy();
});

interface Outcome {
  id: number;
  error?: unknown;
}

/** One graphql-ws connection; `n` pageEvents subscriptions on it, each reporting whether it was refused. */
function manyOnOneSocket(n: number): { client: Client; outcomes: Outcome[] } {
  const client = createWsClient({ url: node.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
  sockets.push(client);
  const outcomes: Outcome[] = [];
  for (let id = 0; id < n; id++) {
    client.subscribe({ query: pageEventsDocument }, { next: () => {}, error: (error) => outcomes.push({ id, error }), complete: () => {} });
  }
  return { client, outcomes };
}

const codes = (errors: unknown) => (Array.isArray(errors) ? errors.map((e) => (e as { extensions?: { code?: string } }).extensions?.code) : [String(errors)]);
const firstCode = (c: Collector) => c.results.flatMap((r) => r.errors ?? []).map((e) => e.extensions?.code)[0] ?? codes(c.error)[0];

describe('graphql-ws', () => {
  it('one connection holds at most 50 subscriptions; the 51st is refused with rate/too_many_subscriptions', async () => {
    const { outcomes } = manyOnOneSocket(51);
    await waitUntil(() => node.subscribers() === 50 && outcomes.length === 1, 10_000, '50 registered and one refused');
    expect(codes(outcomes[0]!.error)).toEqual(['rate/too_many_subscriptions']);
    // The connection itself stays usable.
    expect(node.subscribers()).toBe(50);
  }, 20_000);

  it('an anonymous subscription over the depth limit is refused (input/too_complex); a staff token may send it', async () => {
    const deep = `subscription { pageEvents { component { group { components { group { components { group { id } } } } } } } }`;
    const anonymous = subs.add(subscribeWs(node.wsUrl, { query: deep }));
    await anonymous.waitForEnd();
    expect(firstCode(anonymous)).toBe('input/too_complex');
    const staff = subs.add(subscribeWs(node.wsUrl, { query: deep }, { token: seeded.staff }));
    await waitUntil(() => node.subscribers() === 1, 5_000, 'staff subscription registered');
    expect(staff.ended).toBe(false);
  });

  it('anonymous introspection over the socket is refused', async () => {
    const client = createWsClient({ url: node.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    sockets.push(client);
    const result = await new Promise<unknown>((resolve) =>
      client.subscribe({ query: '{ __schema { queryType { name } } }' }, { next: resolve, error: resolve, complete: () => {} }),
    );
    expect(codes(Array.isArray(result) ? result : (result as { errors?: unknown }).errors)).toEqual(['auth/introspection_disabled']);
  });
});

describe('SSE', () => {
  it('one client holds at most 20 streams; the 21st gets rate/too_many_streams, and a closed stream frees its place', async () => {
    const open = Array.from({ length: 20 }, (_, i) => subs.add(subscribeSse(node.url, {}, {}, `sse ${i}`)));
    await waitUntil(() => node.subscribers() === 20, 10_000, '20 streams registered');
    const refused = subs.add(subscribeSse(node.url, {}, {}, 'sse 21'));
    await refused.waitForEnd();
    expect(firstCode(refused)).toBe('rate/too_many_streams');
    open[0]!.dispose();
    await waitUntil(() => node.subscribers() === 19, 5_000, 'one stream closed');
    subs.add(subscribeSse(node.url, {}, {}, 'sse again'));
    await waitUntil(() => node.subscribers() === 20, 5_000, 'a new stream accepted');
  }, 20_000);

  it('an anonymous deep subscription is refused (input/too_complex); staff may send it', async () => {
    const deep = `subscription { pageEvents { component { group { components { group { components { group { id } } } } } } } }`;
    const anonymous = subs.add(subscribeSse(node.url, { query: deep }));
    await anonymous.waitForEnd();
    expect(firstCode(anonymous)).toBe('input/too_complex');
    subs.add(subscribeSse(node.url, { query: deep }, { token: seeded.staff }));
    await waitUntil(() => node.subscribers() === 1, 5_000, 'staff stream registered');
  });
});

describe('new subscriptions per client IP', () => {
  it('past the rate a new subscription answers rate/limited with retryAfter, on both transports', async () => {
    const tiny = await startTestNode(seeded.database, { limits: { rates: { subscriptions: { points: 2, seconds: 60 } } } });
    const opened: Collector[] = [];
    try {
      opened.push(subscribeWs(tiny.wsUrl), subscribeSse(tiny.url));
      await waitUntil(() => tiny.subscribers() === 2, 5_000, 'two subscriptions');
      const ws = subscribeWs(tiny.wsUrl);
      const sse = subscribeSse(tiny.url);
      opened.push(ws, sse);
      await ws.waitForEnd();
      await sse.waitForEnd();
      expect(firstCode(ws)).toBe('rate/limited');
      expect(firstCode(sse)).toBe('rate/limited');
      const error = sse.results[0]!.errors![0]!;
      expect(error.extensions!.retryAfter).toBeGreaterThan(0);
    } finally {
      for (const c of opened) c.dispose();
      await tiny.close();
    }
  });
});
