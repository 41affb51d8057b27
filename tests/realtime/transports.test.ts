import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Frame, type SubscribeRequest, type Subscriber } from '../../server/realtime/hub.js';
import type { TestDatabase } from '../helpers/database.js';
import {
  caughtUp,
  metricValue,
  setStatus,
  sleep,
  subscribed,
  subscribeSse,
  subscribeWs,
  Subscriptions,
  waitUntil,
  type Catalog,
  type TestNode,
  startLiveFixture,
  stopLiveFixture,
} from '../helpers/live.js';

// The transports' side of the hub contract: a subscriber the hub closes ends cleanly (and only
// once), and a client that goes away at any moment leaves no subscription behind.

let database: TestDatabase;
let node: TestNode;
let ids: Catalog;
let admin: string;
const subs = new Subscriptions();

beforeAll(async () => {
  ({ database, node, ids, admin } = await startLiveFixture());
});
afterAll(() => stopLiveFixture({ node, database }, subs));
afterEach(async () => {
  subs.closeAll();
  await waitUntil(() => node.subscribers() === 0, 5_000, 'subscriptions closed');
  await caughtUp(node, database.db);
});

/** Hand the test each transport subscriber the node registers with its hub. */
function captureSubscribers(): { subscribers: Subscriber[]; restore(): void } {
  const hub = node.node.live.hub;
  const original = hub.subscribe;
  const subscribers: Subscriber[] = [];
  hub.subscribe = (request: SubscribeRequest) => {
    subscribers.push(request.subscriber);
    return original.call(hub, request);
  };
  return { subscribers, restore: () => void (hub.subscribe = original) };
}

describe('the hub closing a subscription', () => {
  it('ends an SSE stream with `complete`; closing again and writing afterwards are harmless', async () => {
    const capture = captureSubscribers();
    try {
      const sse = await subscribed(node, () => subs.add(subscribeSse(node.url, {}, {}, 'sse')));
      const subscriber = capture.subscribers[0]!;
      // What the hub does to a subscriber that stays too slow, then a late frame in the same tick.
      subscriber.close('too slow');
      subscriber.close('too slow');
      subscriber.write(new Frame(1, '{"data":null}'));
      await sse.waitFor((_, c) => c.completed, 5_000, 'completion');
      expect(sse.results).toEqual([]);
      await waitUntil(() => node.subscribers() === 0, 5_000, 'unsubscribed on close');
      await sleep(20);
    } finally {
      capture.restore();
    }
    // The node is still serving.
    const next = await subscribed(node, () => subs.add(subscribeSse(node.url, {}, {}, 'sse after')));
    await setStatus(node.url, admin, ids.api, 'degraded_performance');
    await next.waitForCount(1);
    await setStatus(node.url, admin, ids.api, 'operational');
  });

  it('closes a WebSocket with 4429 and the reason', async () => {
    const capture = captureSubscribers();
    try {
      const ws = await subscribed(node, () => subs.add(subscribeWs(node.wsUrl, {}, {}, 'ws')));
      capture.subscribers[0]!.close('too slow');
      capture.subscribers[0]!.close('too slow');
      await ws.waitFor((_, c) => c.closed !== undefined, 5_000, 'close');
      expect(ws.closed).toEqual({ code: 4429, reason: 'too slow' });
      await waitUntil(() => node.subscribers() === 0, 5_000, 'unsubscribed on close');
    } finally {
      capture.restore();
    }
  });
});

describe('clients that go away', () => {
  it('an SSE client that disconnects while its viewer is being resolved leaves no subscription', async () => {
    const live = node.node.live;
    const resolve = live.resolveViewer;
    let started = 0;
    live.resolveViewer = async (credentials) => {
      started++;
      await sleep(150);
      return resolve(credentials);
    };
    try {
      const sse = subs.add(subscribeSse(node.url, {}, {}, 'impatient sse'));
      await waitUntil(() => started === 1, 5_000, 'viewer resolution started');
      sse.dispose();
      await sleep(300);
      expect(node.subscribers()).toBe(0);
      expect(await metricValue(node.url, admin, 'statushub_sse_streams')).toBe(0);
    } finally {
      live.resolveViewer = resolve;
    }
  });

  it('a WebSocket that closes with subscriptions open leaves none behind', async () => {
    const ws = await subscribed(node, () => subs.add(subscribeWs(node.wsUrl, {}, {}, 'ws')));
    ws.dispose();
    await waitUntil(() => node.subscribers() === 0, 5_000, 'unsubscribed');
  });
});

describe('queries that accept an event stream', () => {
  it('are answered in full, whichever of JSON or a stream the server picks', async () => {
    // urql's default Accept lists text/event-stream for queries too.
    for (const accept of ['application/graphql-response+json, application/json, text/event-stream', 'text/event-stream']) {
      const response = await fetch(`${node.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept },
        body: JSON.stringify({ query: '{ status { indicator } }' }),
      });
      const body = await response.text();
      expect(response.status).toBe(200);
      expect(body).toContain('"indicator":"none"');
    }
  });
});
