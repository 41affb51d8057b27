import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemViewer } from '../../server/auth/viewer.js';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { pruneEvents, verifyChain } from '../../server/db/audit-chain.js';
import { queryRows } from '../../server/db/client.js';
import { eventCheckpoints, type PageRow } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import type { ServiceContext } from '../../server/services/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { caughtUp, maxSeq, startTestNode, subscribeSse, Subscriptions, type TestNode } from '../helpers/live.js';
import { asSuperuserBypassingTriggers, refused, storedEvents } from './helpers.js';

// Pruning old events: the one sanctioned delete. It leaves a checkpoint (the last pruned row's seq
// and hash) and the chain verifies from there; tampering with the checkpoint is found.

let database: TestDatabase;
let page: PageRow;
let ctx: ServiceContext;

beforeAll(async () => {
  database = await createTestDatabase();
  ({ page } = await ensureDefaultPage(database.db));
  ctx = { db: database.db, viewer: systemViewer(page, 'prune test') };
  for (let i = 0; i < 10; i++) await catalog.createComponent(ctx, { name: `C${i}` });
});
afterAll(() => database.destroy());

const checkpoints = () => database.db.select().from(eventCheckpoints).orderBy(eventCheckpoints.seq);

describe('pruneEvents', () => {
  it('deletes the rows before a seq behind a checkpoint, and the chain still verifies', async () => {
    const before = await storedEvents(database.db);
    const cut = before[4]!.seq;
    const result = await pruneEvents(database.db, cut);
    expect(result).toEqual({ deleted: 4, checkpoint: { seq: before[3]!.seq, hash: before[3]!.hash } });
    expect((await storedEvents(database.db)).map((r) => r.seq)).toEqual(before.slice(4).map((r) => r.seq));
    expect(await checkpoints()).toMatchObject([{ seq: before[3]!.seq, hash: before[3]!.hash }]);

    const report = await verifyChain(database.db);
    expect(report).toMatchObject({ ok: true, checked: before.length - 4, checkpoint: result.checkpoint, head: { seq: before.at(-1)!.seq } });
  });

  it('with nothing older to delete writes no checkpoint', async () => {
    const [first] = await storedEvents(database.db);
    expect(await pruneEvents(database.db, first!.seq)).toEqual({ deleted: 0, checkpoint: null });
    expect(await checkpoints()).toHaveLength(1);
  });

  it('writes after a prune keep the chain', async () => {
    await catalog.createComponent(ctx, { name: 'After prune' });
    expect((await verifyChain(database.db)).ok).toBe(true);
  });

  it('a second prune verifies from the newest checkpoint', async () => {
    const rows = await storedEvents(database.db);
    const result = await pruneEvents(database.db, rows[2]!.seq);
    expect(result.deleted).toBe(2);
    expect(await checkpoints()).toHaveLength(2);
    expect(await verifyChain(database.db)).toMatchObject({ ok: true, checked: rows.length - 2, checkpoint: result.checkpoint });
  });
});

describe('tampering with checkpoints', () => {
  it('an altered checkpoint hash is found at the first row after it', async () => {
    const [newest] = (await checkpoints()).slice(-1);
    const [first] = await storedEvents(database.db);
    await asSuperuserBypassingTriggers(database.db, [sql`update event_checkpoints set hash = ${'0'.repeat(64)} where seq = ${newest!.seq}`]);
    const report = await verifyChain(database.db);
    expect(report.ok).toBe(false);
    expect(report.broken).toEqual({
      seq: first!.seq,
      reason: `prev_hash does not match the checkpoint at seq ${newest!.seq} (the checkpoint was altered, or rows after it removed)`,
    });
    await asSuperuserBypassingTriggers(database.db, [sql`update event_checkpoints set hash = ${newest!.hash} where seq = ${newest!.seq}`]);
    expect((await verifyChain(database.db)).ok).toBe(true);
  });

  it('a checkpoint moved past rows that still exist is found (rows cannot hide behind it)', async () => {
    const [newest] = (await checkpoints()).slice(-1);
    const rows = await storedEvents(database.db);
    // Skip rows[0..1]: claim they were pruned, pointing at rows[1]'s hash.
    await asSuperuserBypassingTriggers(database.db, [sql`update event_checkpoints set seq = ${rows[1]!.seq}, hash = ${rows[1]!.hash} where seq = ${newest!.seq}`]);
    expect((await verifyChain(database.db)).broken).toEqual({ seq: rows[0]!.seq, reason: `it is older than the checkpoint at seq ${rows[1]!.seq}, which says it was pruned` });
    await asSuperuserBypassingTriggers(database.db, [sql`update event_checkpoints set seq = ${newest!.seq}, hash = ${newest!.hash} where seq = ${rows[1]!.seq}`]);
    expect((await verifyChain(database.db)).ok).toBe(true);
  });

  it('a removed newest checkpoint is found: the older one does not lead to the rows left', async () => {
    const [newest] = (await checkpoints()).slice(-1);
    const [first] = await storedEvents(database.db);
    await asSuperuserBypassingTriggers(database.db, [sql`delete from event_checkpoints where seq = ${newest!.seq}`]);
    expect((await verifyChain(database.db)).broken?.seq).toBe(first!.seq);
    await asSuperuserBypassingTriggers(database.db, [sql`insert into event_checkpoints (seq, hash, created_at) values (${newest!.seq}, ${newest!.hash}, ${newest!.createdAt.toISOString()})`]);
    expect((await verifyChain(database.db)).ok).toBe(true);
  });

  it('the application cannot change or remove a checkpoint', async () => {
    const [newest] = (await checkpoints()).slice(-1);
    expect(await refused(database.db.update(eventCheckpoints).set({ hash: 'x' }).where(eq(eventCheckpoints.seq, newest!.seq)))).toMatch(/^42501 event checkpoints are append-only: UPDATE/);
    expect(await refused(database.db.delete(eventCheckpoints).where(eq(eventCheckpoints.seq, newest!.seq)))).toMatch(/^42501 event checkpoints are append-only: DELETE/);
    expect(await refused(database.db.execute(sql`truncate event_checkpoints`))).toMatch(/TRUNCATE refused/);
  });
});

describe('pruning everything', () => {
  it('leaves the checkpoint as the head, and the next event links to it', async () => {
    const head = await maxSeq(database.db);
    const [last] = (await storedEvents(database.db)).slice(-1);
    const result = await pruneEvents(database.db, head + 1);
    expect(result.checkpoint).toEqual({ seq: last!.seq, hash: last!.hash });
    expect(await storedEvents(database.db)).toEqual([]);
    expect(await verifyChain(database.db)).toMatchObject({ ok: true, checked: 0, head: result.checkpoint });

    await catalog.createComponent(ctx, { name: 'After everything' });
    const [next] = await storedEvents(database.db);
    expect(next!.prev_hash).toBe(last!.hash);
    expect(next!.seq).toBeGreaterThan(last!.seq);
    expect(await verifyChain(database.db)).toMatchObject({ ok: true, checked: 1 });
  });
});

describe('live resume across a prune', () => {
  let node: TestNode;
  const subs = new Subscriptions();
  afterAll(async () => {
    subs.closeAll();
    await node?.close();
  });

  it('a subscriber resuming from before the checkpoint gets a resync', async () => {
    node = await startTestNode(database);
    const from = await maxSeq(database.db);
    for (let i = 0; i < 3; i++) await catalog.createComponent(ctx, { name: `Live ${i}` });
    await pruneEvents(database.db, (await maxSeq(database.db)) - 1);
    await caughtUp(node, database.db);
    const [left] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from events`);
    expect(left!.n).toBe(2);
    const resumed = subs.add(subscribeSse(node.url, { variables: { after: from } }));
    await resumed.waitForCount(1);
    expect(resumed.events[0]).toMatchObject({ resync: true });
  });

  it('a subscriber resuming from before a prune that removed every event gets a resync too', async () => {
    node ??= await startTestNode(database);
    const from = await maxSeq(database.db);
    await catalog.createComponent(ctx, { name: 'Pruned away' });
    await caughtUp(node, database.db);
    await pruneEvents(database.db, (await maxSeq(database.db)) + 1);
    const [left] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from events`);
    expect(left!.n).toBe(0);
    const resumed = subs.add(subscribeSse(node.url, { variables: { after: from } }));
    await resumed.waitForCount(1);
    expect(resumed.events[0]).toMatchObject({ resync: true });
  });
});
