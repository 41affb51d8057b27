import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { components, events, incidents, type PageRow } from '../../server/db/tables/index.js';
import { applyComponentStatus } from '../../server/services/catalog.js';
import { transact } from '../../server/services/context.js';
import type { TestDatabase } from '../helpers/database.js';
import {
  caughtUp,
  graphql,
  maxSeq,
  setStatus,
  subscribeSse,
  subscribeWs,
  Subscriptions,
  systemContext,
  waitForSubscribers,
  type Catalog,
  type TestNode,
  startLiveFixture,
  stopLiveFixture,
} from '../helpers/live.js';

// A rolled-back write publishes nothing: its event row and its NOTIFY vanish with it, and the
// next thing every subscriber receives is the next committed change.

let database: TestDatabase;
let page: PageRow;
let node: TestNode;
let ids: Catalog;
let admin: string;
let staff: string;
const subs = new Subscriptions();

beforeAll(async () => {
  ({ database, page, node, ids, admin, staff } = await startLiveFixture());
});
afterAll(() => stopLiveFixture({ node, database }, subs));

const eventCount = async () => (await database.db.select({ n: sql<number>`count(*)::int` }).from(events))[0]!.n;

describe('rolled-back writes', () => {
  it('publish nothing; the next event is the next committed change', async () => {
    await caughtUp(node, database.db);
    const collectors = [
      subscribeWs(node.wsUrl, {}, {}, 'public ws'),
      subscribeSse(node.url, {}, {}, 'public sse'),
      subscribeWs(node.wsUrl, {}, { token: staff }, 'staff ws'),
      subscribeSse(node.url, {}, { token: staff }, 'staff sse'),
    ];
    for (const c of collectors) subs.add(c);
    await waitForSubscribers(node.subscribers, collectors.length, collectors);
    const countBefore = await eventCount();

    // Over GraphQL: an incident naming a real component and an unknown one is refused whole.
    const refused = await graphql(
      node.url,
      `mutation ($a: ID!, $b: ID!) { createIncident(input: { title: "Outage", message: "Looking", components: [{ componentId: $a, status: major_outage }, { componentId: $b, status: major_outage }] }) { id } }`,
      { a: ids.api, b: '00000000-0000-4000-8000-000000000000' },
      { token: admin },
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('input/invalid');
    expect(await database.db.select().from(incidents).where(eq(incidents.title, 'Outage'))).toEqual([]);

    // A write that fails after its event row is inserted (and its NOTIFY issued), in the
    // transaction every service uses, with this node's after-commit hook.
    let failedSeq = 0;
    await expect(
      transact(systemContext(database, page, node.node.onCommit), async (w) => {
        await applyComponentStatus(w, systemContext(database, page), ids.api, 'major_outage', 'test');
        const [web] = await w.tx.select().from(components).where(eq(components.id, ids.web));
        failedSeq = await w.record({ action: 'component.updated', entityType: 'component', entityId: ids.web, before: web!, after: { ...web!, status: 'major_outage' } });
        throw new Error('fails after recording');
      }),
    ).rejects.toThrow('fails after recording');
    expect(failedSeq).toBeGreaterThan(0);
    expect(await eventCount()).toBe(countBefore);
    expect(await database.db.select().from(events).where(eq(events.seq, failedSeq))).toEqual([]);

    // Then a visible change: the very next event everyone receives.
    await setStatus(node.url, admin, ids.web, 'degraded_performance');
    const committed = await maxSeq(database.db);
    expect(committed).toBeGreaterThan(failedSeq);
    for (const c of collectors) {
      await c.waitForCount(1);
      expect(c.events).toHaveLength(1);
      expect(c.events[0]).toMatchObject({ seq: committed, entityId: ids.web, component: { name: 'Web', status: 'degraded_performance' } });
      // The rolled-back status never showed: API is still operational in the rollup.
      expect(c.events[0]!.status.indicator).toBe('minor');
    }
    expect(await eventCount()).toBe(countBefore + 1);
    const api = await graphql<{ component: { status: string } }>(node.url, `query ($id: ID!) { component(id: $id) { status } }`, { id: ids.api });
    expect(api.data?.component.status).toBe('operational');

    // A client resuming from before the failure skips the gap it left in the sequence.
    const resumed = subs.add(subscribeSse(node.url, { variables: { after: failedSeq - 1 } }, {}, 'resumed'));
    await resumed.waitForCount(1);
    expect(resumed.seqs).toEqual([committed]);
    expect(resumed.events[0]!.resync).toBe(false);
  });
});
