import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PageRow } from '../../server/db/tables/index.js';
import type { TestDatabase } from '../helpers/database.js';
import {
  caughtUp,
  mintAudienceToken,
  mutate,
  setStatus,
  subscribeSse,
  subscribeWs,
  Subscriptions,
  waitForSubscribers,
  waitUntil,
  type Catalog,
  type Collector,
  type TestNode,
  startLiveFixture,
  stopLiveFixture,
} from '../helpers/live.js';

// Audience isolation of pushed events, through real graphql-ws and graphql-sse clients on a real
// node: every hidden change is proven to exist by a staff subscriber receiving it.

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
afterEach(async () => {
  subs.closeAll();
  await waitUntil(() => node.subscribers() === 0, 5_000, 'subscriptions closed');
  // Everything back to operational, and the hub past it, so the next test starts clean.
  for (const id of [ids.api, ids.web, ids.db, ids.euApi, ids.usApi, ids.apApi]) {
    await mutate(node.url, admin, `mutation ($id: ID!) { updateComponent(id: $id, patch: { status: operational }) { id } }`, { id });
  }
  await caughtUp(node, database.db);
});

/** Open subscriptions and wait until the hub has every one of them. */
async function open(...collectors: Collector[]): Promise<Collector[]> {
  const before = node.subscribers();
  for (const c of collectors) subs.add(c);
  await waitForSubscribers(node.subscribers, before + collectors.length, collectors);
  return collectors;
}

const publicWs = () => subscribeWs(node.wsUrl, {}, {}, 'public ws');
const publicSse = () => subscribeSse(node.url, {}, {}, 'public sse');

describe('internal-only changes', () => {
  it('reach staff subscribers and never public ones; the next public event is the next public change', async () => {
    const [pubWs, pubSse, staffWs, staffSse] = await open(
      publicWs(),
      publicSse(),
      subscribeWs(node.wsUrl, {}, { token: staff }, 'staff ws'),
      subscribeSse(node.url, {}, { token: staff }, 'staff sse'),
    );

    // Two hidden changes: an internal component goes down, and an internal incident on it.
    await setStatus(node.url, admin, ids.db, 'major_outage');
    const incident = await mutate<{ createIncident: { id: string } }>(
      node.url,
      admin,
      `mutation ($c: ID!) { createIncident(input: { title: "Primary DB failover", message: "Failing over", visibility: internal, components: [{ componentId: $c, status: major_outage }] }) { id } }`,
      { c: ids.db },
    );
    for (const s of [staffWs!, staffSse!]) {
      const events = await s.waitFor((e) => e.some((x) => x.entityId === incident.createIncident.id), 5_000, 'the internal incident');
      expect(events[0]).toMatchObject({ kind: 'component', entityId: ids.db, removed: false, component: { name: 'Primary DB', status: 'major_outage' } });
      expect(events[0]!.status.indicator).toBe('critical');
      expect(events.find((e) => e.kind === 'incident')).toMatchObject({ action: 'incident.created', incident: { title: 'Primary DB failover' } });
    }

    // Then a public change: it is the very first thing the public subscribers receive.
    await setStatus(node.url, admin, ids.api, 'degraded_performance');
    for (const s of [pubWs!, pubSse!]) {
      await s.waitForCount(1);
      expect(s.events).toHaveLength(1);
      expect(s.events[0]).toMatchObject({ kind: 'component', entityId: ids.api, component: { name: 'API', status: 'degraded_performance' } });
      // The internal outage does not leak into the public rollup either.
      expect(s.events[0]!.status).toEqual({ indicator: 'minor', description: 'Minor Service Outage' });
      expect(JSON.stringify(s.results)).not.toMatch(new RegExp(`${ids.db}|${incident.createIncident.id}|Primary DB|failover`, 'i'));
    }
    // Staff saw the public change too, after the hidden ones, still rolled up with the internal outage.
    for (const s of [staffWs!, staffSse!]) {
      const events = await s.waitFor((e) => e.some((x) => x.entityId === ids.api));
      expect(events.at(-1)!.status.indicator).toBe('critical');
      expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    }
    expect(pubWs!.results).toEqual(pubSse!.results);
    await mutate(node.url, admin, `mutation ($id: ID!) { deleteIncident(id: $id) }`, { id: incident.createIncident.id });
  });
});

describe('deployment audiences', () => {
  it("a deployment subscriber gets its own and public changes, never another deployment's", async () => {
    const [euWs, euSse, usWs, pub] = await open(
      subscribeWs(node.wsUrl, {}, { audience: 'deployment:eu-1' }, 'eu-1 ws'),
      subscribeSse(node.url, {}, { audience: 'deployment:eu-1' }, 'eu-1 sse'),
      subscribeWs(node.wsUrl, {}, { audience: 'deployment:us-1' }, 'us-1 ws'),
      publicSse(),
    );

    // Another deployment: a component status, the deployment itself, and a protected one.
    await setStatus(node.url, admin, ids.usApi, 'partial_outage');
    await mutate(node.url, admin, `mutation ($id: ID!) { updateDeployment(id: $id, patch: { name: "US East 1" }) { id } }`, { id: ids.us });
    await setStatus(node.url, admin, ids.apApi, 'major_outage');
    // Its own, then a public one.
    await setStatus(node.url, admin, ids.euApi, 'degraded_performance');
    await setStatus(node.url, admin, ids.web, 'degraded_performance');

    for (const s of [euWs!, euSse!]) {
      await s.waitFor((e) => e.some((x) => x.entityId === ids.web));
      expect(s.events.map((e) => e.entityId)).toEqual([ids.euApi, ids.web]);
      expect(s.events[0]).toMatchObject({ component: { name: 'EU API', status: 'degraded_performance' }, status: { indicator: 'minor' } });
      expect(JSON.stringify(s.results)).not.toMatch(new RegExp(`${ids.usApi}|${ids.us}|${ids.apApi}|US API|US East|AP API`));
    }
    // The other deployment's subscriber proves those changes were pushed.
    await usWs!.waitFor((e) => e.some((x) => x.entityId === ids.web));
    expect(usWs!.events.map((e) => e.entityId)).toEqual([ids.usApi, ids.us, ids.web]);
    expect(usWs!.events[1]).toMatchObject({ kind: 'deployment', deployment: { slug: 'us-1' } });
    // The public audience sees only the shared change.
    await pub!.waitForCount(1);
    expect(pub!.events.map((e) => e.entityId)).toEqual([ids.web]);
    expect(pub!.events[0]!.status.indicator).toBe('minor');
  });

  it('a protected deployment subscribes with its audience token', async () => {
    const token = await mintAudienceToken(database.db, page, ids.ap);
    const [apWs, apSse] = await open(subscribeWs(node.wsUrl, {}, { token }, 'ap-1 ws'), subscribeSse(node.url, {}, { token }, 'ap-1 sse'));
    await setStatus(node.url, admin, ids.euApi, 'major_outage');
    await setStatus(node.url, admin, ids.apApi, 'partial_outage');
    for (const s of [apWs!, apSse!]) {
      await s.waitForCount(1);
      expect(s.events).toHaveLength(1);
      expect(s.events[0]).toMatchObject({ entityId: ids.apApi, component: { name: 'AP API' }, status: { indicator: 'major' } });
    }
  });
});

describe('changes to what the public sees', () => {
  it('a degraded public component moves the indicator; hiding it is a removal; showing it again brings it back', async () => {
    const [pubWs, pubSse, staffWs] = await open(publicWs(), publicSse(), subscribeWs(node.wsUrl, {}, { token: staff }, 'staff ws'));

    await setStatus(node.url, admin, ids.api, 'partial_outage');
    for (const s of [pubWs!, pubSse!]) {
      await s.waitForCount(1);
      expect(s.events[0]).toMatchObject({ entityId: ids.api, removed: false, component: { status: 'partial_outage' }, status: { indicator: 'major', description: 'Partial System Outage' } });
    }

    // Made internal: the public sees it leave (and the indicator recover), staff see an update.
    await mutate(node.url, admin, `mutation ($id: ID!) { updateComponent(id: $id, patch: { visibility: internal }) { id } }`, { id: ids.api });
    for (const s of [pubWs!, pubSse!]) {
      await s.waitForCount(2);
      expect(s.events[1]).toMatchObject({ kind: 'component', entityId: ids.api, removed: true, component: null, status: { indicator: 'none' } });
    }
    await staffWs!.waitForCount(2);
    expect(staffWs!.events[1]).toMatchObject({ entityId: ids.api, removed: false, component: { name: 'API', status: 'partial_outage' } });

    // While internal it is silent to the public, whatever happens to it.
    await setStatus(node.url, admin, ids.api, 'major_outage');
    await setStatus(node.url, admin, ids.web, 'degraded_performance');
    for (const s of [pubWs!, pubSse!]) {
      await s.waitForCount(3);
      expect(s.events[2]).toMatchObject({ entityId: ids.web, status: { indicator: 'minor' } });
    }

    // Public again: it comes back with its current status.
    await mutate(node.url, admin, `mutation ($id: ID!) { updateComponent(id: $id, patch: { visibility: public }) { id } }`, { id: ids.api });
    for (const s of [pubWs!, pubSse!]) {
      await s.waitForCount(4);
      expect(s.events[3]).toMatchObject({ entityId: ids.api, removed: false, component: { name: 'API', status: 'major_outage' }, status: { indicator: 'critical' } });
      expect(s.events).toHaveLength(4);
    }
    expect(pubWs!.results).toEqual(pubSse!.results);
  });

  it('a deleted public component is a removal for the public', async () => {
    const created = await mutate<{ createComponent: { id: string } }>(node.url, admin, `mutation ($g: ID!) { createComponent(input: { name: "Temp", groupId: $g }) { id } }`, { g: ids.shared });
    await caughtUp(node, database.db);
    const [pub] = await open(publicSse());
    await mutate(node.url, admin, `mutation ($id: ID!) { deleteComponent(id: $id) }`, { id: created.createComponent.id });
    await pub!.waitForCount(1);
    expect(pub!.events[0]).toMatchObject({ action: 'component.deleted', entityId: created.createComponent.id, removed: true, component: null });
  });
});

describe('kinds', () => {
  it('a subscriber asking for some kinds of change gets only those', async () => {
    const [incidentsOnly, all] = await open(subscribeWs(node.wsUrl, { variables: { kinds: ['incident'] } }, {}, 'incidents only'), publicSse());
    await setStatus(node.url, admin, ids.api, 'degraded_performance');
    const incident = await mutate<{ createIncident: { id: string } }>(
      node.url,
      admin,
      `mutation ($c: ID!) { createIncident(input: { title: "API slow", message: "Looking", components: [{ componentId: $c, status: degraded_performance }] }) { id } }`,
      { c: ids.api },
    );
    await incidentsOnly!.waitForCount(1);
    expect(incidentsOnly!.events).toMatchObject([{ kind: 'incident', entityId: incident.createIncident.id, incident: { title: 'API slow' } }]);
    await all!.waitFor((e) => e.some((x) => x.kind === 'incident'));
    expect(all!.events[0]).toMatchObject({ kind: 'component', entityId: ids.api });
    await mutate(node.url, admin, `mutation ($id: ID!) { deleteIncident(id: $id) }`, { id: incident.createIncident.id });
    await incidentsOnly!.waitForCount(2);
    expect(incidentsOnly!.events[1]).toMatchObject({ kind: 'incident', removed: true, incident: null });
  });
});

describe('authentication at connect', () => {
  it('a WebSocket with an invalid bearer is closed with 4403 auth/unauthenticated', async () => {
    const ws = subs.add(subscribeWs(node.wsUrl, {}, { token: 'shk_api_not-a-real-token' }, 'bad token ws'));
    await ws.waitForEnd();
    await ws.waitFor((_, c) => c.closed !== undefined, 2_000, 'close event');
    expect(ws.closed).toEqual({ code: 4403, reason: 'auth/unauthenticated' });
    expect(ws.events).toEqual([]);
  });

  it('a WebSocket asking for a protected deployment without its token is closed with 4403 auth/audience_token_required', async () => {
    const ws = subs.add(subscribeWs(node.wsUrl, {}, { audience: 'deployment:ap-1' }, 'ap-1 without token'));
    await ws.waitFor((_, c) => c.closed !== undefined, 5_000, 'close event');
    expect(ws.closed).toEqual({ code: 4403, reason: 'auth/audience_token_required' });
  });

  it('SSE to a protected deployment without a token gets one error result, then completes', async () => {
    const sse = subs.add(subscribeSse(node.url, {}, { audience: 'deployment:ap-1' }, 'ap-1 sse without token'));
    await sse.waitFor((_, c) => c.completed, 5_000, 'completion');
    expect(sse.error).toBeUndefined();
    expect(sse.results).toHaveLength(1);
    expect(sse.results[0]!.data).toBeUndefined();
    expect(sse.results[0]!.errors?.[0]?.extensions?.code).toBe('auth/audience_token_required');
    expect(node.subscribers()).toBe(0);
  });

  it('SSE with an invalid bearer gets auth/unauthenticated, then completes', async () => {
    const sse = subs.add(subscribeSse(node.url, {}, { token: 'shk_api_not-a-real-token' }, 'bad token sse'));
    await sse.waitFor((_, c) => c.completed, 5_000, 'completion');
    expect(sse.results.map((r) => r.errors?.[0]?.extensions?.code)).toEqual(['auth/unauthenticated']);
  });
});
