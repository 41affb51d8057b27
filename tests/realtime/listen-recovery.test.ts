import { and, gt, inArray, sql } from 'drizzle-orm';
import postgresClient from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows, type Database } from '../../server/db/client.js';
import { events, type PageRow } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import type { TestDatabase } from '../helpers/database.js';
import {
  sleep,
  startTestNode,
  subscribeSse,
  subscribeWs,
  Subscriptions,
  systemContext,
  waitForSubscribers,
  waitUntil,
  type Catalog,
  type TestNode,
  seedTestDatabase,
} from '../helpers/live.js';

// The LISTEN connection dies mid-stream: the node listens again, catches up on what was
// committed meanwhile, and its subscribers miss nothing. Writes come from a separate
// connection pool (another node, as far as this one can tell) and the hub's safety-net poll is
// off, so NOTIFY and the catch-up after re-LISTEN are the only ways anything arrives.

const postgres = !!process.env.DATABASE_URL;

let database: TestDatabase;
let writer: Database;
let page: PageRow;
let node: TestNode;
let ids: Catalog;
const subs = new Subscriptions();

beforeAll(async () => {
  if (!postgres) return;
  ({ database, page, ids } = await seedTestDatabase());
  node = await startTestNode(database, { pollMs: 0 });
  writer = await openDatabase({ url: database.url!, poolSize: 2 });
});
afterAll(async () => {
  subs.closeAll();
  await node?.close();
  await writer?.close();
  await database?.destroy();
});

/** What another node would write: no after-commit hook into this node. */
const elsewhere = () => systemContext(writer, page);

const listeners = () =>
  queryRows<{ pid: number }>(writer.db, sql`select pid from pg_stat_activity where query ilike 'listen%' and datname = current_database()`);

async function visibleSeqs(after: number): Promise<number[]> {
  const rows = await writer.db
    .select({ seq: events.seq })
    .from(events)
    .where(and(gt(events.seq, after), inArray(events.entityId, [ids.api, ids.web])))
    .orderBy(events.seq);
  return rows.map((r) => r.seq);
}

describe('LISTEN connection terminated', () => {
  it.skipIf(!postgres)('the node listens again and its subscribers miss nothing', async () => {
    const ws = subs.add(subscribeWs(node.wsUrl, {}, {}, 'ws'));
    const sse = subs.add(subscribeSse(node.url, {}, {}, 'sse'));
    await waitForSubscribers(node.subscribers, 2, [ws, sse]);
    const from = node.node.live.hub.lastSeq;

    // Through NOTIFY.
    await catalog.setComponentStatus(elsewhere(), ids.api, 'degraded_performance');
    for (const c of [ws, sse]) await c.waitForCount(1);

    const [old] = await listeners();
    expect(old).toBeDefined();
    // Refuse new connections for a moment, so the changes below are committed while the node
    // has no LISTEN (the writer's connection is already open).
    const name = new URL(database.url!).pathname.slice(1);
    const admin = postgresClient(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`alter database "${name}" with allow_connections false`);
    try {
      const killed = await queryRows<{ ok: boolean }>(
        writer.db,
        sql`select pg_terminate_backend(pid) as ok from pg_stat_activity where query ilike 'listen%' and datname = current_database()`,
      );
      expect(killed.map((r) => r.ok)).toEqual([true]);
      await waitUntil(async () => (await listeners()).length === 0, 5_000, 'LISTEN gone');

      // Committed while the node has no LISTEN: hidden and visible changes.
      await catalog.setComponentStatus(elsewhere(), ids.db, 'major_outage');
      await catalog.setComponentStatus(elsewhere(), ids.web, 'partial_outage');
      await catalog.setComponentStatus(elsewhere(), ids.usApi, 'major_outage');
      await catalog.setComponentStatus(elsewhere(), ids.api, 'operational');
      await sleep(200);
      expect(ws.events).toHaveLength(1);
    } finally {
      await admin.unsafe(`alter database "${name}" with allow_connections true`);
      await admin.end();
    }

    for (const c of [ws, sse]) await c.waitForCount(3, 10_000);
    const listening = await waitUntil(async () => (await listeners()).find((l) => l.pid !== old!.pid), 10_000, 'a new LISTEN connection');
    expect(listening!.pid).not.toBe(old!.pid);

    // And live again through the new LISTEN.
    await catalog.setComponentStatus(elsewhere(), ids.web, 'operational');
    const expected = await visibleSeqs(from);
    expect(expected).toHaveLength(4);
    for (const c of [ws, sse]) {
      await c.waitForCount(4, 10_000);
      expect(c.seqs).toEqual(expected);
      expect(c.events.map((e) => e.entityId)).toEqual([ids.api, ids.web, ids.api, ids.web]);
      expect(c.events.some((e) => e.resync)).toBe(false);
      expect(c.ended).toBe(false);
    }
  });
});
