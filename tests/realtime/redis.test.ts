import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../helpers/database.js';
import {
  setStatus,
  startTestNode,
  subscribeSse,
  subscribeWs,
  Subscriptions,
  waitForSubscribers,
  type Catalog,
  type TestNode,
  seedTestDatabase,
} from '../helpers/live.js';

// Redis pub/sub wake-ups (REDIS_URL): two nodes on one database, the subscriber's node with its
// poll off. With PGlite there is no LISTEN at all, so only Redis can tell node B about A's commit.

const redisUrl = process.env.REDIS_URL;

let database: TestDatabase;
let a: TestNode;
let b: TestNode;
let ids: Catalog;
let admin: string;
const subs = new Subscriptions();

beforeAll(async () => {
  if (!redisUrl) return;
  ({ database, ids, admin } = await seedTestDatabase());
  a = await startTestNode(database, { redisUrl });
  b = await startTestNode(database, { redisUrl, pollMs: 0 });
});
afterAll(async () => {
  subs.closeAll();
  await a?.close();
  await b?.close();
  await database?.destroy();
});

describe('Redis wake-ups', () => {
  it.skipIf(!redisUrl)('a change committed on node A reaches subscribers of node B', async () => {
    const ws = subs.add(subscribeWs(b.wsUrl, {}, {}, 'B ws'));
    const sse = subs.add(subscribeSse(b.url, {}, {}, 'B sse'));
    await waitForSubscribers(b.subscribers, 2, [ws, sse]);
    await setStatus(a.url, admin, ids.db, 'major_outage');
    await setStatus(a.url, admin, ids.api, 'degraded_performance');
    for (const c of [ws, sse]) {
      await c.waitForCount(1);
      expect(c.events).toMatchObject([{ entityId: ids.api, component: { status: 'degraded_performance' } }]);
    }
    await setStatus(a.url, admin, ids.api, 'operational');
    for (const c of [ws, sse]) await c.waitForCount(2);
    expect(ws.results).toEqual(sse.results);
  });
});
