import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../schema/index.js';
import type { Viewer } from '../../server/auth/viewer.js';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import type { PageRow } from '../../server/db/tables/index.js';
import { DocumentCache, isPrepared, type PreparedDocument } from '../../server/realtime/documents.js';
import { LiveHub, type Frame, type HubOptions, type Subscriber } from '../../server/realtime/hub.js';
import * as catalog from '../../server/services/catalog.js';
import type { ServiceContext } from '../../server/services/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { maxSeq, pageEventsDocument, seedCatalog, sleep, systemContext, waitUntil, type Catalog, type PageEvent } from '../helpers/live.js';

// LiveHub on its own, with subscribers whose socket buffer the test controls: bounded buffering
// (skip, resync, close) and the bookkeeping of joins and cursors.

/** A transport stand-in: `queued` is what the socket has not sent yet. */
class FakeSubscriber implements Subscriber {
  queued = 0;
  readonly frames: Frame[] = [];
  readonly closes: string[] = [];
  constructor(readonly label: string) {}
  buffered(): number {
    return this.queued;
  }
  write(frame: Frame): void {
    this.frames.push(frame);
  }
  close(reason: string): void {
    this.closes.push(reason);
  }
  get events(): PageEvent[] {
    return this.frames.map((f) => (JSON.parse(f.json) as { data: { pageEvents: PageEvent } }).data.pageEvents);
  }
  get seqs(): number[] {
    return this.events.map((e) => e.seq);
  }
}

let database: TestDatabase;
let page: PageRow;
let ids: Catalog;
let prepared: PreparedDocument;
const hubs: LiveHub[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  ({ page } = await ensureDefaultPage(database.db));
  ids = await seedCatalog(systemContext(database, page));
  const doc = new DocumentCache(schema).prepare(pageEventsDocument);
  if (!isPrepared(doc)) throw new Error(JSON.stringify(doc));
  prepared = doc;
});
afterEach(() => {
  for (const hub of hubs.splice(0)) hub.stop();
});
afterAll(() => database?.destroy());

const publicViewer = (): Viewer => ({ page, audience: { kind: 'public' }, actor: { type: 'anonymous' } });
const internalViewer = (): Viewer => ({ page, audience: { kind: 'internal' }, actor: { type: 'api_token', id: 'x', name: 'staff', scopes: ['read:internal'] } });

/** A hub with no poll and no LISTEN: only `wake()` (here: every commit of `ctx`) moves it. */
async function startHub(options: Partial<HubOptions> = {}): Promise<{ hub: LiveHub; ctx: ServiceContext }> {
  const hub = new LiveHub({ db: database.db, schema, pollMs: 0, ...options });
  await hub.start();
  hubs.push(hub);
  return { hub, ctx: systemContext(database, page, () => hub.wake()) };
}

function join(hub: LiveHub, subscriber: Subscriber, { viewer = publicViewer(), after = null as number | null } = {}): () => void {
  return hub.subscribe({ viewer, prepared, variables: after === null ? {} : { after }, after, kinds: null, subscriber });
}

/** Commit a status change and wait until the hub has processed it. */
async function change(hub: LiveHub, ctx: ServiceContext, componentId: string, status: string): Promise<number> {
  await catalog.setComponentStatus(ctx, componentId, status);
  const seq = await maxSeq(database.db);
  await waitUntil(() => hub.lastSeq >= seq, 5_000, `hub at ${seq}`);
  return seq;
}

describe('slow consumers', () => {
  it('over the high-water mark: no frames; drained: exactly one resync, then live frames; others unaffected', async () => {
    const { hub, ctx } = await startHub({ highWaterBytes: 1_000, maxLagMs: 60_000 });
    const slow = new FakeSubscriber('slow');
    const steady = new FakeSubscriber('steady');
    const staff = new FakeSubscriber('staff');
    join(hub, slow);
    join(hub, steady);
    join(hub, staff, { viewer: internalViewer() });

    const s1 = await change(hub, ctx, ids.api, 'degraded_performance');
    expect(slow.seqs).toEqual([s1]);

    slow.queued = 5_000;
    const s2 = await change(hub, ctx, ids.api, 'partial_outage');
    // Still above a quarter of the mark: still skipped.
    slow.queued = 400;
    const s3 = await change(hub, ctx, ids.api, 'major_outage');
    expect(slow.seqs).toEqual([s1]);
    expect(slow.closes).toEqual([]);

    // Drained: the next event brings one resync signal instead of its frame.
    slow.queued = 0;
    const resyncsBefore = hub.metrics.resyncs;
    const s4 = await change(hub, ctx, ids.api, 'degraded_performance');
    await waitUntil(() => slow.frames.length === 2, 5_000, 'resync written');
    expect(slow.events[1]).toMatchObject({ resync: true, seq: s4, action: 'resync', component: null, status: { indicator: 'minor' } });
    expect(hub.metrics.resyncs).toBe(resyncsBefore + 1);

    // Then live frames again, and no second resync.
    const s5 = await change(hub, ctx, ids.api, 'operational');
    const s6 = await change(hub, ctx, ids.web, 'degraded_performance');
    expect(slow.seqs).toEqual([s1, s4, s5, s6]);
    expect(slow.events.filter((e) => e.resync)).toHaveLength(1);
    expect(hub.metrics.resyncs).toBe(resyncsBefore + 1);

    // The others saw every event, in order, unaffected.
    expect(steady.seqs).toEqual([s1, s2, s3, s4, s5, s6]);
    expect(steady.events.some((e) => e.resync)).toBe(false);
    expect(staff.seqs).toEqual([s1, s2, s3, s4, s5, s6]);
    // Same audience, same document: the very same frame objects.
    expect(slow.frames.at(-1)).toBe(steady.frames.at(-1));
  });

  it('lagging longer than maxLagMs is closed, once; the others keep receiving', async () => {
    const { hub, ctx } = await startHub({ highWaterBytes: 1_000, maxLagMs: 50 });
    const slow = new FakeSubscriber('slow');
    const steady = new FakeSubscriber('steady');
    join(hub, slow);
    join(hub, steady);
    const dropped = hub.metrics.droppedSlowSubscribers;

    slow.queued = 5_000;
    const s1 = await change(hub, ctx, ids.web, 'partial_outage');
    expect(slow.closes).toEqual([]);
    await sleep(80);
    const s2 = await change(hub, ctx, ids.web, 'major_outage');
    expect(slow.closes).toEqual(['too slow']);
    expect(hub.metrics.droppedSlowSubscribers).toBe(dropped + 1);

    // Until its transport reports the close, further events neither write to it nor close it again.
    const s3 = await change(hub, ctx, ids.web, 'operational');
    slow.queued = 0;
    const s4 = await change(hub, ctx, ids.web, 'degraded_performance');
    await sleep(20);
    expect(slow.closes).toEqual(['too slow']);
    expect(slow.frames).toEqual([]);
    expect(hub.metrics.droppedSlowSubscribers).toBe(dropped + 1);
    expect(hub.subscriberCount()).toBe(1);
    expect(steady.seqs).toEqual([s1, s2, s3, s4]);
    await change(hub, ctx, ids.web, 'operational');
  });
});

describe('joins and cursors', () => {
  it('a cursor ahead of the hub (taken from the table, e.g. Query.liveCursor) does not get those events again', async () => {
    // Committed by "another node": nothing wakes this hub yet.
    const { hub } = await startHub();
    await catalog.setComponentStatus(systemContext(database, page), ids.api, 'major_outage');
    const cursor = await maxSeq(database.db);
    expect(hub.lastSeq).toBeLessThan(cursor);

    const client = new FakeSubscriber('client');
    join(hub, client, { after: cursor });
    hub.wake();
    await waitUntil(() => hub.lastSeq >= cursor, 5_000, 'hub caught up');
    expect(client.seqs).toEqual([]);

    const ctx = systemContext(database, page, () => hub.wake());
    const next = await change(hub, ctx, ids.api, 'operational');
    await waitUntil(() => client.frames.length > 0, 5_000, 'the next event');
    expect(client.seqs).toEqual([next]);
  });

  it('a resuming subscriber keeps live delivery when the last other member of its group leaves during its replay', async () => {
    const { hub, ctx } = await startHub();
    const from = await maxSeq(database.db);
    const missed = await change(hub, ctx, ids.web, 'degraded_performance');

    // A reconnect: the old subscription is still open when the new one arrives with `after`,
    // and goes away while the new one is being replayed.
    const old = new FakeSubscriber('old');
    const leaveOld = join(hub, old);
    const resumed = new FakeSubscriber('resumed');
    join(hub, resumed, { after: from });
    leaveOld();

    await waitUntil(() => resumed.frames.length === 1, 5_000, 'replay');
    expect(resumed.seqs).toEqual([missed]);
    await waitUntil(() => hub.subscriberCount() === 1, 5_000, 'resumed joined live delivery');
    const live = await change(hub, ctx, ids.web, 'operational');
    await waitUntil(() => resumed.frames.length === 2, 2_000, 'the live event');
    expect(resumed.seqs).toEqual([missed, live]);
    expect(old.frames).toEqual([]);
  });

  it('unsubscribing during replay leaves nothing behind', async () => {
    const { hub, ctx } = await startHub();
    const from = await maxSeq(database.db);
    await change(hub, ctx, ids.web, 'degraded_performance');
    const client = new FakeSubscriber('client');
    const leave = join(hub, client, { after: from });
    leave();
    await change(hub, ctx, ids.web, 'operational');
    await sleep(20);
    expect(hub.subscriberCount()).toBe(0);
    expect(client.frames.filter((f) => f.seq > from + 1)).toEqual([]);
  });
});

describe('a failed read while processing', () => {
  // A private method fails once, as a dropped database connection would make it.
  type Patchable = Record<'findVisible' | 'loadKnown', (...args: unknown[]) => Promise<unknown>>;
  function failOnce(hub: LiveHub, method: keyof Patchable, when: (...args: unknown[]) => boolean): void {
    const target = hub as unknown as Patchable;
    const original = target[method].bind(hub);
    let armed = true;
    target[method] = async (...args) => {
      if (armed && when(...args)) {
        armed = false;
        throw new Error('connection lost');
      }
      return original(...args);
    };
  }

  it('is retried for the audience it failed for only: nobody gets an event twice', async () => {
    const { hub, ctx } = await startHub();
    const pub = new FakeSubscriber('public');
    const staff = new FakeSubscriber('staff');
    join(hub, pub);
    join(hub, staff, { viewer: internalViewer() });
    failOnce(hub, 'findVisible', (viewer) => (viewer as Viewer).audience.kind === 'internal');

    const s1 = await catalog.setComponentStatus(ctx, ids.web, 'degraded_performance').then(() => maxSeq(database.db));
    await waitUntil(() => staff.frames.length === 1, 5_000, 'staff event after the retry');
    const s2 = await change(hub, ctx, ids.web, 'operational');
    await waitUntil(() => staff.frames.length === 2 && pub.frames.length === 2, 5_000, 'next event');
    expect(pub.seqs).toEqual([s1, s2]);
    expect(staff.seqs).toEqual([s1, s2]);
  });

  it("a channel whose first read failed loads again instead of stalling every audience's delivery", async () => {
    const { hub, ctx } = await startHub();
    const staff = new FakeSubscriber('staff');
    join(hub, staff, { viewer: internalViewer() });
    failOnce(hub, 'loadKnown', () => true);
    const pub = new FakeSubscriber('public');
    join(hub, pub);

    const s1 = await catalog.setComponentStatus(ctx, ids.web, 'degraded_performance').then(() => maxSeq(database.db));
    await waitUntil(() => pub.frames.length === 1, 5_000, 'public event');
    const s2 = await change(hub, ctx, ids.web, 'operational');
    await waitUntil(() => staff.frames.length === 2 && pub.frames.length === 2, 5_000, 'next event');
    expect(pub.seqs).toEqual([s1, s2]);
    expect(staff.seqs).toEqual([s1, s2]);
  });
  it('a replay that fails midway goes on from where it was: nothing twice, nothing lost, then live', async () => {
    const { hub, ctx } = await startHub();
    const from = await maxSeq(database.db);
    const a = await change(hub, ctx, ids.api, 'degraded_performance');
    const b = await change(hub, ctx, ids.web, 'degraded_performance');
    failOnce(hub, 'findVisible', (_viewer, _kind, id) => id === ids.web);

    const client = new FakeSubscriber('client');
    join(hub, client, { after: from });
    await waitUntil(() => hub.subscriberCount() === 1, 5_000, 'joined after the retried replay');
    expect(client.seqs).toEqual([a, b]);
    const c = await change(hub, ctx, ids.api, 'operational');
    await waitUntil(() => client.frames.length === 3, 5_000, 'live event');
    expect(client.seqs).toEqual([a, b, c]);
    await change(hub, ctx, ids.web, 'operational');
  });
});

describe('a rush of joins', () => {
  it('200 subscribers joining together share one replay, the next event is announced without waiting for it, and each gets every event once, in order', async () => {
    const announced: { seq: number; at: number }[] = [];
    const { hub, ctx } = await startHub({ onEvent: (row) => announced.push({ seq: row.seq, at: performance.now() }) });
    const from = await maxSeq(database.db);
    const first = await change(hub, ctx, ids.web, 'degraded_performance');

    // Every visibility read of the replay is slow (a database under load): 150 ms each.
    const target = hub as unknown as Record<'findVisible', (...args: unknown[]) => Promise<unknown>>;
    const original = target.findVisible.bind(hub);
    let reads = 0;
    target.findVisible = async (...args) => {
      reads++;
      await sleep(150);
      return original(...args);
    };
    // Joins from a cursor arrive while the loop is busy, so they are replayed as one batch.
    const members = Array.from({ length: 200 }, (_, i) => new FakeSubscriber(`m${i}`));
    const replayStarted = performance.now();
    for (const member of members) join(hub, member, { after: from });
    await catalog.setComponentStatus(ctx, ids.web, 'operational');
    const second = await maxSeq(database.db);
    await waitUntil(() => hub.lastSeq >= second, 10_000, 'hub at the second event');
    for (const member of members) expect(member.seqs, member.label).toEqual([first, second]);
    // One read per entity and audience for the whole batch, not one per member.
    expect(reads).toBeLessThan(10);
    // The second event reached onEvent (the answer cache) before the batch's replay could have
    // finished: it waited for neither 200 replays nor even one slow read.
    const announcedSecond = announced.find((a) => a.seq === second)!;
    expect(announcedSecond.at - replayStarted).toBeLessThan(150);
  });
});
