import { gt, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { openDatabase, type Database } from '../../server/db/client.js';
import { components, events } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import { noRateLimits, ResumingSubscriber } from '../helpers/faults.js';
import { graphql, maxSeq, mintApiToken, sleep, startTestNode, systemContext, waitUntil, type TestNode } from '../helpers/live.js';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';

// PostgreSQL restarts under a node that is writing, reading and streaming. Nothing is restarted
// by hand on the node's side: its pool, its LISTEN connection and its hub recover by themselves.
// Every write the node acknowledged is in the database afterwards, and every subscriber (which
// resumes with `after` whenever its stream ends) has every event exactly once, in order.

const unavailable = privatePostgresUnavailable();
if (unavailable) console.warn(`tests/faults skipped: ${unavailable}`);

let pg: PrivatePostgres;
let database: Database;
let node: TestNode;
let admin: string;
let groupId: string;

beforeAll(async () => {
  if (unavailable) return;
  pg = await startPrivatePostgres();
  database = await openDatabase({ url: pg.url, poolSize: 5 });
  const { page } = await ensureDefaultPage(database.db);
  admin = await mintApiToken(database.db, page, ['admin']);
  groupId = (await catalog.createGroup(systemContext(database, page), { name: 'Fault' })).id;
  node = await startTestNode(database, { limits: noRateLimits });
}, 60_000);

afterAll(async () => {
  await node?.close();
  await database?.close().catch(() => {});
  await pg?.destroy();
});

async function readyz(): Promise<{ status: number; body: { ready: boolean; checks: Record<string, { ok: boolean; reason?: string }> } }> {
  const response = await fetch(`${node.url}/readyz`);
  return { status: response.status, body: await response.json() };
}

const createComponent = `mutation ($input: ComponentInput!) { createComponent(input: $input) { id name } }`;

describe('PostgreSQL restarted under traffic', () => {
  // In about one run in five a WebSocket subscriber once missed one event around the restart. Two
  // hub races were fixed for it (a member joining while an event was in flight; a replay stopping
  // short of a channel that was ahead after a partial fan-out failure); it has since passed 15 runs
  // in a row (8 on 2026-12-05, 7 on 2026-12-06 beside a running benchmark), and runs in CI again.
  it.skipIf(!!unavailable)('the node recovers by itself: acknowledged writes kept, every subscriber gets every event, /readyz follows the outage', async () => {
    expect((await readyz()).status).toBe(200);
    const from = await maxSeq(database.db);
    const subscribers = [new ResumingSubscriber('ws', () => node, from), new ResumingSubscriber('ws', () => node, from), new ResumingSubscriber('sse', () => node, from), new ResumingSubscriber('sse', () => node, from)];

    const acknowledged: string[] = [];
    let failedWrites = 0;
    let reads = 0;
    let failedReads = 0;
    let running = true;
    const writer = async (name: string) => {
      for (let i = 0; running; i++) {
        const input = { name: `${name}-${i}`, groupId };
        try {
          const result = await graphql(node.url, createComponent, { input }, { token: admin });
          if (result.data?.createComponent) acknowledged.push(input.name);
          else failedWrites++;
        } catch {
          failedWrites++;
        }
        await sleep(20);
      }
    };
    const reader = async () => {
      while (running) {
        try {
          const result = await graphql(node.url, '{ liveCursor }');
          if (typeof result.data?.liveCursor === 'number') reads++;
          else failedReads++;
        } catch {
          failedReads++;
        }
        await sleep(20);
      }
    };
    const traffic = Promise.all([writer('a'), writer('b'), reader()]);
    const writesSoFar = (n: number, label: string) => {
      const target = acknowledged.length + n;
      return waitUntil(() => acknowledged.length >= target, 20_000, `${n} more acknowledged writes ${label}`);
    };

    try {
      await writesSoFar(10, 'before the restart');

      // 1. A fast restart: every connection is cut, the server is back within a second or so.
      await pg.restart();
      await writesSoFar(10, 'after pg_ctl restart');
      await waitUntil(async () => (await readyz()).status === 200, 60_000, '/readyz 200 after the restart');

      // 2. A longer outage, so /readyz is seen to say so.
      await pg.stop();
      const during = await waitUntil(async () => {
        const r = await readyz();
        return r.status === 503 ? r : null;
      }, 10_000, '/readyz 503 while PostgreSQL is down');
      expect(during!.body.ready).toBe(false);
      expect(during!.body.checks.database!.ok).toBe(false);
      expect(during!.body.checks.database!.reason).toMatch(/query failed|no answer/);
      expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
      // Two subscribers reconnect while the database is down: their replay waits for it.
      subscribers[1]!.bounce();
      subscribers[3]!.bounce();
      await sleep(500);
      await pg.start();
      let lastReady: unknown;
      await waitUntil(async () => {
        const r = await readyz();
        lastReady = r.body;
        return r.status === 200;
      }, 60_000, '/readyz 200 once PostgreSQL is back').catch((error: Error) => {
        throw new Error(`${error.message}; last /readyz: ${JSON.stringify(lastReady)}`);
      });
      await writesSoFar(10, 'after the outage');
    } finally {
      running = false;
      await traffic;
    }
    expect(reads).toBeGreaterThan(10);
    expect((await graphql(node.url, '{ liveCursor }')).data?.liveCursor).toBeGreaterThan(from);
    expect(failedWrites + failedReads).toBeGreaterThan(0); // the outage was real

    // Every acknowledged write is there.
    const stored = await database.db.select({ name: components.name }).from(components).where(inArray(components.name, acknowledged));
    expect(stored.map((r) => r.name).sort()).toEqual([...acknowledged].sort());

    // Every subscriber has every event, once, in order.
    const expected = (await database.db.select({ seq: events.seq }).from(events).where(gt(events.seq, from)).orderBy(events.seq)).map((r) => r.seq);
    expect(expected.length).toBeGreaterThanOrEqual(acknowledged.length);
    for (const s of subscribers) {
      await waitUntil(() => s.events.at(-1)?.seq === expected.at(-1), 15_000, `${s.kind} subscriber at seq ${expected.at(-1)} (at ${s.events.at(-1)?.seq}; endings ${s.endings.join('; ')})`);
      s.stop();
      const missing = expected.filter((seq) => !s.seqs.includes(seq));
      if (missing.length) {
        const rows = await database.db.select({ seq: events.seq, action: events.action, at: events.createdAt }).from(events).where(inArray(events.seq, missing));
        console.error(`${s.kind} subscriber missed ${JSON.stringify(rows)}; endings ${s.endings.join('; ')}; got ${s.seqs.join(',')}`);
      }
      expect(s.seqs).toEqual(expected);
      expect(s.events.filter((e) => e.resync || e.action.startsWith('DUPLICATE'))).toEqual([]);
    }
    console.log(
      `postgres restart: ${acknowledged.length} writes acknowledged, ${failedWrites} failed; ${reads} reads, ${failedReads} failed; ` +
        `subscriber reconnects: ${subscribers.map((s) => `${s.kind} ${s.reconnects}`).join(', ')}`,
    );
  }, 180_000);
});
