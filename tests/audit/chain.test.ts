import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemViewer } from '../../server/auth/viewer.js';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { genesisHash, verifyChain } from '../../server/db/audit-chain.js';
import { queryRows } from '../../server/db/client.js';
import { events, pages, type PageRow } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import type { ServiceContext } from '../../server/services/context.js';
import * as incidents from '../../server/services/incidents.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { asSuperuserBypassingTriggers, refused, storedEvents } from './helpers.js';

// The audit log's hash chain: written by the database on every insert, checked by verifyChain,
// and the application's own UPDATE, DELETE and TRUNCATE of events refused.

let database: TestDatabase;
let page: PageRow;
let ctx: ServiceContext;

beforeAll(async () => {
  database = await createTestDatabase();
  ({ page } = await ensureDefaultPage(database.db));
  ctx = { db: database.db, viewer: systemViewer(page, 'audit test') };
});
afterAll(() => database.destroy());

async function someWrites(): Promise<void> {
  const group = await catalog.createGroup(ctx, { name: 'Core' });
  const api = await catalog.createComponent(ctx, { name: 'API', groupId: group.id, description: 'naïve “quotes” \\ and\nlines 🚦' });
  const web = await catalog.createComponent(ctx, { name: 'Web', groupId: group.id });
  await catalog.setComponentStatus(ctx, api.id, 'major_outage');
  const incident = await incidents.createIncident(ctx, { title: 'API down', message: 'Investigating', components: [{ componentId: api.id, status: 'major_outage' }] });
  await incidents.postIncidentUpdate(ctx, incident.id, { status: 'identified', message: 'Found it' });
  await incidents.resolveIncident(ctx, incident.id);
  await catalog.updateComponent(ctx, web.id, { name: 'Website' });
  await catalog.deleteComponent(ctx, web.id);
}

describe('the chain', () => {
  it('is intact after a series of service writes, each row linked to the one before', async () => {
    await someWrites();
    const rows = await storedEvents(database.db);
    expect(rows.length).toBeGreaterThanOrEqual(9);
    expect(rows[0]!.prev_hash).toBe(genesisHash);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.hash))).toBe(true);

    const report = await verifyChain(database.db);
    expect(report).toMatchObject({ ok: true, checked: rows.length, checkpoint: null, head: { seq: rows.at(-1)!.seq, hash: rows.at(-1)!.hash } });
    expect(report.broken).toBeUndefined();
  });

  it('is intact after concurrent service writes and concurrent inserts outside transact()', async () => {
    const components = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => catalog.createComponent(ctx, { name: `Parallel ${i}` })));
    await Promise.all(components.map((c) => catalog.setComponentStatus(ctx, c.id, 'degraded_performance')));
    const seqs = await Promise.all(
      [1, 2, 3, 4].map(async (i) => {
        const [row] = await database.db
          .insert(events)
          .values({ pageId: page.id, actorType: 'system', actorName: 'raw', action: 'test.raw', entityType: 'test', entityId: String(i) })
          .returning({ seq: events.seq });
        return row!.seq;
      }),
    );
    const stored = await storedEvents(database.db);
    expect(stored.filter((r) => seqs.includes(r.seq))).toHaveLength(4);
    expect(await verifyChain(database.db)).toMatchObject({ ok: true, checked: stored.length });
  });

  it('is computed by the database: hashes the client sends are overwritten', async () => {
    const [row] = await database.db
      .insert(events)
      .values({ pageId: page.id, actorType: 'system', actorName: 'forger', action: 'test.forged', entityType: 'test', entityId: 'x', hash: 'f'.repeat(64), prevHash: 'e'.repeat(64) })
      .returning({ seq: events.seq, hash: events.hash, prevHash: events.prevHash });
    expect(row!.hash).not.toBe('f'.repeat(64));
    expect(row!.prevHash).not.toBe('e'.repeat(64));
    expect((await verifyChain(database.db)).ok).toBe(true);
  });

  it('hashes the documented canonical text: sha256 of the JSON array of the row and prev_hash', async () => {
    const createdAt = new Date('2024-02-29T23:59:58.123Z');
    const [row] = await database.db
      .insert(events)
      .values({ pageId: page.id, actorType: 'user', actorId: 'u-1', actorName: 'Zoë "Z"', action: 'test.canonical', entityType: 'test', entityId: 'c', before: null, after: null, createdAt })
      .returning();
    const canonical = `[${[
      row!.seq, page.id, 'user', 'u-1', 'Zoë "Z"', 'test.canonical', 'test', 'c', null, null, '2024-02-29T23:59:58.123000Z', row!.prevHash,
    ]
      .map((v) => JSON.stringify(v))
      .join(', ')}]`;
    expect(row!.hash).toBe(createHash('sha256').update(canonical, 'utf8').digest('hex'));
    // jsonb text is canonical: key order as written in JavaScript does not matter.
    const [a] = await queryRows<{ t: string }>(database.db, sql`select ('{"b":1,"a":[1, {"y":2,"x":3}]}'::jsonb)::text as t`);
    const [b] = await queryRows<{ t: string }>(database.db, sql`select ('{"a":[1,{"x":3,"y":2}],"b":1}'::jsonb)::text as t`);
    expect(a!.t).toBe(b!.t);
  });
});

describe('tampering', () => {
  it('a changed row is named exactly', async () => {
    const rows = await storedEvents(database.db);
    const victim = rows[Math.floor(rows.length / 2)]!;
    await asSuperuserBypassingTriggers(database.db, [sql`update events set after = '{"status":"operational"}'::jsonb where seq = ${victim.seq}`]);
    const report = await verifyChain(database.db);
    expect(report.ok).toBe(false);
    expect(report.broken).toEqual({ seq: victim.seq, reason: expect.stringMatching(/content does not match its hash/) });

    await asSuperuserBypassingTriggers(database.db, [sql`update events set after = ${JSON.stringify(victim.after)}::jsonb where seq = ${victim.seq}`]);
    expect((await verifyChain(database.db)).ok).toBe(true);
  });

  it('a changed time or actor is named too', async () => {
    const [first, second] = await storedEvents(database.db);
    await asSuperuserBypassingTriggers(database.db, [sql`update events set created_at = created_at + interval '1 microsecond' where seq = ${second!.seq}`]);
    expect((await verifyChain(database.db)).broken?.seq).toBe(second!.seq);
    await asSuperuserBypassingTriggers(database.db, [
      sql`update events set created_at = created_at - interval '1 microsecond' where seq = ${second!.seq}`,
      sql`update events set actor_name = 'someone else' where seq = ${first!.seq}`,
    ]);
    expect((await verifyChain(database.db)).broken?.seq).toBe(first!.seq);
    await asSuperuserBypassingTriggers(database.db, [sql`update events set actor_name = 'audit test' where seq = ${first!.seq}`]);
    expect((await verifyChain(database.db)).ok).toBe(true);
  });

  it('a row rewritten with a recomputed hash breaks the link to the next row', async () => {
    const rows = await storedEvents(database.db);
    const victim = rows[3]!;
    const next = rows[4]!;
    await asSuperuserBypassingTriggers(database.db, [
      sql`update events set actor_name = 'nobody' where seq = ${victim.seq}`,
      sql`update events e set hash = statushub_event_hash(e) where seq = ${victim.seq}`,
    ]);
    const report = await verifyChain(database.db);
    expect(report.broken).toEqual({ seq: next.seq, reason: `prev_hash does not match the hash of seq ${victim.seq} (that row was rewritten, or rows between them removed)` });
    await asSuperuserBypassingTriggers(database.db, [
      sql`update events set actor_name = 'audit test' where seq = ${victim.seq}`,
      sql`update events e set hash = statushub_event_hash(e) where seq = ${victim.seq}`,
    ]);
    expect((await verifyChain(database.db)).ok).toBe(true);
  });

  it('a removed row is found at the row after it', async () => {
    const rows = await storedEvents(database.db);
    const [victim, next] = [rows[2]!, rows[3]!];
    const [saved] = await queryRows<Record<string, unknown>>(database.db, sql`select * from events where seq = ${victim.seq}`);
    await asSuperuserBypassingTriggers(database.db, [sql`delete from events where seq = ${victim.seq}`]);
    expect((await verifyChain(database.db)).broken).toEqual({ seq: next.seq, reason: expect.stringMatching(/^prev_hash does not match the hash of seq/) });

    await asSuperuserBypassingTriggers(database.db, [sql`insert into events select * from json_populate_record(null::events, ${JSON.stringify(saved)}::json)`]);
    expect((await verifyChain(database.db)).ok).toBe(true);
  });

  it('removing the first rows is found at the new first row', async () => {
    const rows = await storedEvents(database.db);
    const saved = await queryRows<Record<string, unknown>>(database.db, sql`select * from events where seq <= ${rows[1]!.seq}`);
    await asSuperuserBypassingTriggers(database.db, [sql`delete from events where seq <= ${rows[1]!.seq}`]);
    expect((await verifyChain(database.db)).broken).toEqual({ seq: rows[2]!.seq, reason: 'prev_hash does not match the start of the chain (rows before it were removed)' });
    await asSuperuserBypassingTriggers(
      database.db,
      saved.map((row) => sql`insert into events select * from json_populate_record(null::events, ${JSON.stringify(row)}::json)`),
    );
    expect((await verifyChain(database.db)).ok).toBe(true);
  });
});

describe('the application cannot change the log', () => {
  it('refuses UPDATE of an event', async () => {
    const [row] = await storedEvents(database.db);
    expect(await refused(database.db.update(events).set({ action: 'component.nothing' }).where(eq(events.seq, row!.seq)))).toMatch(/^42501 events are append-only: UPDATE of event \d+ refused/);
    // Even with the prune switch on: events are never updated.
    const updateWhilePruning = database.db.transaction(async (tx) => {
      await tx.execute(sql`set local statushub.prune = 'on'`);
      await tx.update(events).set({ actorName: 'x' }).where(eq(events.seq, row!.seq));
    });
    expect(await refused(updateWhilePruning)).toMatch(/append-only: UPDATE/);
  });

  it('refuses DELETE and TRUNCATE, and deleting a page that has events', async () => {
    const [row] = await storedEvents(database.db);
    expect(await refused(database.db.delete(events).where(eq(events.seq, row!.seq)))).toMatch(/^42501 events are append-only: DELETE/);
    expect(await refused(database.db.execute(sql`truncate events`))).toMatch(/^42501 events is append-only: TRUNCATE refused/);
    // The prune switch alone is not enough: only rows a checkpoint covers may go (pruneEvents).
    const sneaky = database.db.transaction(async (tx) => {
      await tx.execute(sql`set local statushub.prune = 'on'`);
      await tx.delete(events).where(eq(events.seq, row!.seq));
    });
    expect(await refused(sneaky)).toMatch(/append-only: DELETE/);
    expect(await refused(database.db.execute(sql`insert into event_checkpoints (seq, hash) values (${row!.seq}, ${row!.hash})`))).toMatch(/checkpoints are append-only: INSERT/);
    expect(await refused(database.db.delete(pages).where(eq(pages.id, page.id)))).toMatch(/^23(001|503) .*events_page_id_pages_id_fk/);
    expect((await storedEvents(database.db))[0]).toEqual(row);
    expect((await verifyChain(database.db)).ok).toBe(true);
  });
});

describe('the live hub still reads events by seq', () => {
  it('transact() returns the seqs the rows carry', async () => {
    const seen: number[] = [];
    const c = await catalog.createComponent({ ...ctx, onCommit: (seqs) => seen.push(...seqs) }, { name: 'Seq check' });
    const rows = await database.db.select({ seq: events.seq }).from(events).where(eq(events.entityId, c.id));
    expect(seen).toEqual(rows.map((r) => r.seq));
  });
});
