import { and, gt, inArray } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../../server/db/tables/index.js';
import type { TestDatabase } from '../helpers/database.js';
import {
  caughtUp,
  graphql,
  maxSeq,
  mutate,
  setStatus,
  startTestNode,
  subscribed,
  subscribeSse,
  subscribeWs,
  Subscriptions,
  waitUntil,
  type Catalog,
  type Collector,
  type LiveRequest,
  type TestNode,
  startLiveFixture,
  stopLiveFixture,
} from '../helpers/live.js';

// Resuming with `after`: what a client missed while disconnected arrives first, in order, once,
// and only what its audience can see; a gap older than the replay window is a resync signal.

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
});

/** Sequence numbers of events about these entities after `after`, from the table itself. */
async function seqsOf(after: number, entityIds: string[]): Promise<number[]> {
  const rows = await database.db
    .select({ seq: events.seq })
    .from(events)
    .where(and(gt(events.seq, after), inArray(events.entityId, entityIds)))
    .orderBy(events.seq);
  return rows.map((r) => r.seq);
}

type Transport = 'ws' | 'sse';
const open = (transport: Transport, request: LiveRequest = {}, label: string = transport): Collector =>
  subs.add(transport === 'ws' ? subscribeWs(node.wsUrl, request, {}, label) : subscribeSse(node.url, request, {}, label));

describe.each<Transport>(['ws', 'sse'])('resume over %s', (transport) => {
  it('delivers every missed visible event in order, once, nothing hidden, then continues live', async () => {
    await caughtUp(node, database.db);
    const first = await subscribed(node, () => open(transport, {}, `${transport} first`));
    await setStatus(node.url, admin, ids.api, 'degraded_performance');
    await setStatus(node.url, admin, ids.web, 'degraded_performance');
    await first.waitForCount(2);
    const last = first.events.at(-1)!.seq;
    first.dispose();
    await waitUntil(() => node.subscribers() === 0, 5_000, 'first subscription closed');

    // Missed while away: three visible changes among hidden ones (internal, other deployments).
    await setStatus(node.url, admin, ids.db, 'major_outage');
    await setStatus(node.url, admin, ids.api, 'partial_outage');
    await setStatus(node.url, admin, ids.usApi, 'major_outage');
    await setStatus(node.url, admin, ids.web, 'operational');
    await mutate(node.url, admin, `mutation ($id: ID!) { updateDeployment(id: $id, patch: { description: "moved" }) { id } }`, { id: ids.eu });
    await setStatus(node.url, admin, ids.euApi, 'partial_outage');
    await setStatus(node.url, admin, ids.api, 'operational');
    await setStatus(node.url, admin, ids.db, 'operational');
    const missed = await seqsOf(last, [ids.api, ids.web]);
    expect(missed).toHaveLength(3);

    const resumed = await subscribed(node, () => open(transport, { variables: { after: last } }, `${transport} resumed`));
    await resumed.waitForCount(3);
    expect(resumed.seqs).toEqual(missed);
    expect(resumed.events.map((e) => e.entityId)).toEqual([ids.api, ids.web, ids.api]);
    expect(resumed.events.every((e) => !e.resync && !e.removed)).toBe(true);
    // Payloads are read now, for this audience: the public rollup, current statuses.
    expect(resumed.events.at(-1)).toMatchObject({ component: { name: 'API', status: 'operational' }, status: { indicator: 'none' } });
    expect(JSON.stringify(resumed.results)).not.toMatch(new RegExp(`${ids.db}|${ids.usApi}|${ids.euApi}|${ids.eu}`));

    // Live delivery follows the replay without a gap or a repeat.
    await setStatus(node.url, admin, ids.web, 'major_outage');
    await resumed.waitForCount(4);
    expect(resumed.seqs).toEqual(await seqsOf(last, [ids.api, ids.web]));
    expect(new Set(resumed.seqs).size).toBe(resumed.seqs.length);
    await setStatus(node.url, admin, ids.web, 'operational');
    await resumed.waitForCount(5);
    expect(resumed.events).toHaveLength(5);
  });

  it('resuming from the newest sequence number replays nothing', async () => {
    await caughtUp(node, database.db);
    const cursor = (await graphql<{ liveCursor: number }>(node.url, '{ liveCursor }')).data!.liveCursor;
    expect(cursor).toBe(await maxSeq(database.db));
    const resumed = await subscribed(node, () => open(transport, { variables: { after: cursor } }));
    await setStatus(node.url, admin, ids.api, 'major_outage');
    await resumed.waitForCount(1);
    expect(resumed.seqs).toEqual(await seqsOf(cursor, [ids.api]));
    await setStatus(node.url, admin, ids.api, 'operational');
    await resumed.waitForCount(2);
  });
});

describe('what the gap held', () => {
  /** Subscribe, see one event, go away; returns the cursor. */
  async function seenOneThenLeft(): Promise<number> {
    await caughtUp(node, database.db);
    const first = await subscribed(node, () => open('sse', {}, 'before the gap'));
    await setStatus(node.url, admin, ids.api, 'degraded_performance');
    await first.waitForCount(1);
    first.dispose();
    await waitUntil(() => node.subscribers() === 0, 5_000, 'left');
    return first.seqs[0]!;
  }

  it("another deployment's incidents, groups and components cost a resuming public client nothing", async () => {
    const last = await seenOneThenLeft();
    const incident = await mutate<{ createIncident: { id: string } }>(
      node.url,
      admin,
      `mutation ($c: ID!) { createIncident(input: { title: "US degraded", message: "Looking", components: [{ componentId: $c, status: partial_outage }] }) { id } }`,
      { c: ids.usApi },
    );
    await mutate(node.url, admin, `mutation ($id: ID!) { resolveIncident(id: $id) { id } }`, { id: incident.createIncident.id });
    await mutate(node.url, admin, `mutation ($id: ID!) { updateComponentGroup(id: $id, patch: { description: "US only" }) { id } }`, { id: ids.usGroup });
    await mutate(node.url, admin, `mutation ($id: ID!) { updateComponent(id: $id, patch: { visibility: internal }) { id } }`, { id: ids.usApi });
    await setStatus(node.url, admin, ids.api, 'operational');

    const resumed = await subscribed(node, () => open('sse', { variables: { after: last } }, 'resumed'));
    await resumed.waitForCount(1);
    expect(resumed.seqs).toEqual(await seqsOf(last, [ids.api]));
    expect(resumed.events).toMatchObject([{ entityId: ids.api, resync: false }]);
    await setStatus(node.url, admin, ids.web, 'degraded_performance');
    await resumed.waitForCount(2);
    expect(resumed.events.map((e) => [e.entityId, e.resync])).toEqual([
      [ids.api, false],
      [ids.web, false],
    ]);
    await setStatus(node.url, admin, ids.web, 'operational');
    await mutate(node.url, admin, `mutation ($id: ID!) { updateComponent(id: $id, patch: { visibility: public }) { id } }`, { id: ids.usApi });
  });

  it('something the client could see that left its view during the gap is a resync', async () => {
    const last = await seenOneThenLeft();
    await setStatus(node.url, admin, ids.web, 'major_outage');
    await mutate(node.url, admin, `mutation ($id: ID!) { updateComponent(id: $id, patch: { visibility: internal }) { id } }`, { id: ids.web });
    try {
      const resumed = await subscribed(node, () => open('sse', { variables: { after: last } }, 'resumed'));
      await resumed.waitFor((e) => e.some((x) => x.resync));
      expect(resumed.events.at(-1)).toMatchObject({ resync: true, component: null });
      expect(JSON.stringify(resumed.results)).not.toContain('"Web"');
    } finally {
      await mutate(node.url, admin, `mutation ($id: ID!) { updateComponent(id: $id, patch: { visibility: public, status: operational }) { id } }`, { id: ids.web });
      await setStatus(node.url, admin, ids.api, 'operational');
    }
  });
});

describe('a gap older than the replay window', () => {
  it('gets one resync signal at the current sequence number, then live events', async () => {
    const small = await startTestNode(database, { replayWindow: 3 });
    try {
      for (const status of ['degraded_performance', 'partial_outage', 'major_outage', 'degraded_performance', 'operational']) {
        await setStatus(small.url, admin, ids.web, status);
      }
      await caughtUp(small, database.db);
      const now = await maxSeq(database.db);
      const stale: Collector[] = [];
      for (const transport of ['ws', 'sse'] as const) {
        const label = `${transport} too old`;
        const request = { variables: { after: now - 5 } };
        stale.push(subs.add(transport === 'ws' ? subscribeWs(small.wsUrl, request, {}, label) : subscribeSse(small.url, request, {}, label)));
      }
      for (const s of stale) {
        await s.waitForCount(1);
        expect(s.events[0]).toMatchObject({ resync: true, seq: now, action: 'resync', kind: null, entityId: null, component: null, removed: false });
        // The resync is shaped by the subscriber's own document, for its own audience.
        expect(s.events[0]!.status.indicator).toBe('none');
      }
      await waitUntil(() => small.subscribers() === 2, 5_000, 'both joined live delivery');
      await setStatus(small.url, admin, ids.api, 'major_outage');
      await setStatus(small.url, admin, ids.api, 'operational');
      const live = await seqsOf(now, [ids.api]);
      expect(live).toHaveLength(2);
      for (const s of stale) {
        await s.waitForCount(3);
        expect(s.seqs).toEqual([now, ...live]);
        expect(s.events.filter((e) => e.resync)).toHaveLength(1);
      }
    } finally {
      subs.closeAll();
      await small.close();
    }
  });

  it('within the window, a small node still replays', async () => {
    const small = await startTestNode(database, { replayWindow: 3 });
    try {
      await caughtUp(small, database.db);
      const from = await maxSeq(database.db);
      await setStatus(small.url, admin, ids.web, 'degraded_performance');
      await setStatus(small.url, admin, ids.web, 'operational');
      await caughtUp(small, database.db);
      const resumed = subs.add(subscribeSse(small.url, { variables: { after: from } }));
      await resumed.waitForCount(2);
      expect(resumed.seqs).toEqual([from + 1, from + 2]);
      expect(resumed.events.some((e) => e.resync)).toBe(false);
    } finally {
      subs.closeAll();
      await small.close();
    }
  });
});
