import { gt, sql } from 'drizzle-orm';
import postgresClient from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows, type Database } from '../../server/db/client.js';
import { events, type PageRow } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { seedCatalog, sleep, startTestNode, subscribeSse, subscribeWs, Subscriptions, systemContext, waitForSubscribers, waitUntil, type Catalog, type TestNode } from '../helpers/live.js';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';

// Only the LISTEN connection dies (pg_terminate_backend on its pid), on a PostgreSQL server of
// this test's own. The node's safety-net poll is off and every write comes from another pool
// (another node, as far as this one can tell), so NOTIFY and the catch-up after LISTEN comes
// back are the only ways anything is delivered. /readyz says 503 while the node cannot listen.

const unavailable = privatePostgresUnavailable();
if (unavailable) console.warn(`tests/faults skipped: ${unavailable}`);

let pg: PrivatePostgres;
let admin: postgresClient.Sql;
let database: Database;
let writer: Database;
let page: PageRow;
let node: TestNode;
let ids: Catalog;
const subs = new Subscriptions();

beforeAll(async () => {
  if (unavailable) return;
  pg = await startPrivatePostgres();
  admin = postgresClient(pg.url, { max: 1, onnotice: () => {} });
  await admin.unsafe('create database hub');
  const url = pg.url.replace(/\/postgres$/, '/hub');
  database = await openDatabase({ url, poolSize: 3 });
  ({ page } = await ensureDefaultPage(database.db));
  ids = await seedCatalog(systemContext(database, page));
  writer = await openDatabase({ url, poolSize: 2 });
  node = await startTestNode(database, { pollMs: 0 });
}, 60_000);

afterAll(async () => {
  subs.closeAll();
  await node?.close();
  await writer?.close();
  await database?.close();
  await admin?.end();
  await pg?.destroy();
});

const elsewhere = () => systemContext(writer, page);
const listeners = () => queryRows<{ pid: number }>(writer.db, sql`select pid from pg_stat_activity where query ilike 'listen%' and datname = current_database()`);
const kill = () => queryRows<{ ok: boolean }>(writer.db, sql`select pg_terminate_backend(pid) as ok from pg_stat_activity where query ilike 'listen%' and datname = current_database()`);
const readyz = async () => {
  const response = await fetch(`${node.url}/readyz`);
  return { status: response.status, body: (await response.json()) as { checks: Record<string, { ok: boolean; reason?: string }> } };
};

describe('LISTEN connection killed', () => {
  it.skipIf(!!unavailable)('wake-ups resume, subscribers miss nothing, /readyz reports the LISTEN connection meanwhile', async () => {
    const ws = subs.add(subscribeWs(node.wsUrl, {}, {}, 'ws'));
    const sse = subs.add(subscribeSse(node.url, {}, {}, 'sse'));
    await waitForSubscribers(node.subscribers, 2, [ws, sse]);
    const from = node.node.live.hub.lastSeq;
    expect((await readyz()).body.checks.listen).toEqual({ ok: true });

    // 1. Killed, and back at once (postgres.js listens again): the next change still arrives live.
    const [first] = await listeners();
    expect((await kill()).map((r) => r.ok)).toEqual([true]);
    await waitUntil(async () => (await listeners()).some((l) => l.pid !== first!.pid), 10_000, 'a new LISTEN connection');
    await catalog.setComponentStatus(elsewhere(), ids.api, 'degraded_performance');
    for (const c of [ws, sse]) await c.waitForCount(1, 10_000);

    // 2. Killed while the database refuses new connections: the node cannot listen again yet.
    await admin.unsafe('alter database hub with allow_connections false');
    try {
      expect((await kill()).map((r) => r.ok)).toEqual([true]);
      await waitUntil(async () => (await listeners()).length === 0, 5_000, 'LISTEN gone');
      await catalog.setComponentStatus(elsewhere(), ids.web, 'partial_outage');
      await catalog.setComponentStatus(elsewhere(), ids.db, 'major_outage'); // internal: not for these subscribers
      const down = await waitUntil(async () => {
        const r = await readyz();
        return r.status === 503 ? r : null;
      }, 10_000, '/readyz 503 without LISTEN');
      expect(down!.body.checks.listen!.ok).toBe(false);
      expect(down!.body.checks.listen!.reason).toMatch(/LISTEN/);
      await sleep(200);
      expect(ws.events).toHaveLength(1);
    } finally {
      await admin.unsafe('alter database hub with allow_connections true');
    }

    // The node listens again by itself, catches up, and /readyz is 200 again.
    for (const c of [ws, sse]) await c.waitForCount(2, 15_000);
    await waitUntil(async () => (await readyz()).status === 200, 15_000, '/readyz 200 again');
    await catalog.setComponentStatus(elsewhere(), ids.api, 'operational');
    const expected = (
      await writer.db.select({ seq: events.seq, entityId: events.entityId }).from(events).where(gt(events.seq, from)).orderBy(events.seq)
    ).filter((e) => e.entityId === ids.api || e.entityId === ids.web);
    expect(expected.map((e) => e.entityId)).toEqual([ids.api, ids.web, ids.api]);
    for (const c of [ws, sse]) {
      await c.waitForCount(3, 10_000);
      expect(c.seqs).toEqual(expected.map((e) => e.seq));
      expect(c.events.some((e) => e.resync)).toBe(false);
      expect(c.ended).toBe(false);
    }
  }, 60_000);
});
