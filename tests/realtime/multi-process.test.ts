import { and, gt, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin } from '../../server/bootstrap.js';
import { events } from '../../server/db/tables/index.js';
import type { TestDatabase } from '../helpers/database.js';
import {
  graphql,
  maxSeq,
  metricValue,
  setStatus,
  spawnServer,
  subscribeSse,
  subscribeWs,
  Subscriptions,
  waitForSubscribers,
  type Catalog,
  type ServerProcess,
  seedTestDatabase,
} from '../helpers/live.js';

// Two server processes (`server/main.ts`, as deployed) on one PostgreSQL database: what is
// written through one reaches the subscribers of the other, with the same sequence numbers.
// PGlite is one process's embedded database, so this needs DATABASE_URL.

const postgres = !!process.env.DATABASE_URL;

let database: TestDatabase;
let a: ServerProcess;
let b: ServerProcess;
let ids: Catalog;
let admin: string;
const subs = new Subscriptions();

beforeAll(async () => {
  if (!postgres) return;
  // Page, admin and catalog first, so the two starts race for nothing.
  let page;
  ({ database, page, ids, admin } = await seedTestDatabase());
  await ensureAdmin(database.db, page, 'admin@statushub.local', 'correct horse battery staple');
  const env = { DATABASE_URL: database.url!, ADMIN_PASSWORD: 'correct horse battery staple', SEED: 'false', LOG_LEVEL: 'warn' };
  [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
}, 60_000);

afterAll(async () => {
  subs.closeAll();
  await Promise.all([a?.stop(), b?.stop()]);
  await database?.destroy();
});

const liveSubscribers = (server: ServerProcess) => () => metricValue(server.url, admin, 'statushub_live_subscribers');

describe('two server processes on one database', () => {
  it.skipIf(!postgres)('a graphql-ws and a graphql-sse subscriber on node B see a change made on node A', async () => {
    const ws = subs.add(subscribeWs(b.url.replace('http', 'ws') + '/graphql', {}, {}, 'B ws'));
    const sse = subs.add(subscribeSse(b.url, {}, {}, 'B sse'));
    const staff = subs.add(subscribeWs(b.url.replace('http', 'ws') + '/graphql', {}, { token: admin }, 'B staff ws'));
    await waitForSubscribers(liveSubscribers(b), 3, [ws, sse, staff]);
    const from = await maxSeq(database.db);

    // Hidden on A, then public on A.
    await setStatus(a.url, admin, ids.db, 'major_outage');
    await setStatus(a.url, admin, ids.api, 'degraded_performance');
    const rows = await database.db
      .select({ seq: events.seq, entityId: events.entityId })
      .from(events)
      .where(and(gt(events.seq, from), inArray(events.entityId, [ids.api, ids.db])))
      .orderBy(events.seq);
    expect(rows.map((r) => r.entityId)).toEqual([ids.db, ids.api]);

    for (const c of [ws, sse]) {
      await c.waitForCount(1, 10_000);
      expect(c.events).toHaveLength(1);
      expect(c.events[0]).toMatchObject({ seq: rows[1]!.seq, entityId: ids.api, component: { name: 'API', status: 'degraded_performance' }, status: { indicator: 'minor' } });
    }
    await staff.waitForCount(2, 10_000);
    expect(staff.seqs).toEqual(rows.map((r) => r.seq));
    expect(ws.results).toEqual(sse.results);

    // And the other way round: written on B, seen on A.
    const onA = subs.add(subscribeSse(a.url, {}, { audience: 'deployment:eu-1' }, 'A eu-1 sse'));
    await waitForSubscribers(liveSubscribers(a), 1, [onA]);
    await setStatus(b.url, admin, ids.usApi, 'major_outage');
    await setStatus(b.url, admin, ids.euApi, 'partial_outage');
    await onA.waitForCount(1, 10_000);
    expect(onA.events[0]).toMatchObject({ entityId: ids.euApi, component: { name: 'EU API', status: 'partial_outage' } });
    // B's public subscribers got neither deployment's change: their next event is the next public one.
    await setStatus(b.url, admin, ids.api, 'operational');
    for (const c of [ws, sse]) {
      await c.waitForCount(2, 10_000);
      expect(c.events.map((e) => e.entityId)).toEqual([ids.api, ids.api]);
    }

    // Both nodes read the same log: the same cursor from either.
    const cursors = await Promise.all([a, b].map(async (s) => (await graphql<{ liveCursor: number }>(s.url, '{ liveCursor }')).data!.liveCursor));
    expect(cursors[0]).toBe(cursors[1]);
    expect(a.output()).not.toMatch(/"level":(50|60)/);
    expect(b.output()).not.toMatch(/"level":(50|60)/);
  });
});
