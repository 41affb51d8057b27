import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../helpers/database.js';
import {
  caughtUp,
  metricValue,
  pageEventsDocument,
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

// Fan-out cost: one payload build per audience (and document) that can see a change, however
// many subscribers it has, and the same bytes to every one of them.

let database: TestDatabase;
let node: TestNode;
let ids: Catalog;
let admin: string;
let staff: string;
const subs = new Subscriptions();

beforeAll(async () => {
  ({ database, node, ids, admin, staff } = await startLiveFixture());
});
afterAll(() => stopLiveFixture({ node, database }, subs));

const n = 5;
const times = <T>(make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

describe('fan-out', () => {
  it('builds each payload once per audience that can see the change; every subscriber of an audience gets the same bytes', async () => {
    await caughtUp(node, database.db);
    const hub = node.node.live.hub;
    const documents = node.node.live.documents;
    const parsesBefore = documents.parses;

    const audiences: Record<string, Collector[]> = {
      public: [...times((i) => subscribeWs(node.wsUrl, {}, {}, `public ws ${i}`)), ...times((i) => subscribeSse(node.url, {}, {}, `public sse ${i}`))],
      'deployment:eu-1': times((i) =>
        i % 2 ? subscribeWs(node.wsUrl, {}, { audience: 'deployment:eu-1' }, `eu ws ${i}`) : subscribeSse(node.url, {}, { audience: 'deployment:eu-1' }, `eu sse ${i}`),
      ),
      internal: times((i) => (i % 2 ? subscribeSse(node.url, {}, { token: staff }, `staff sse ${i}`) : subscribeWs(node.wsUrl, {}, { token: staff }, `staff ws ${i}`))),
    };
    let all = Object.values(audiences).flat();
    for (const c of all) subs.add(c);
    await waitForSubscribers(node.subscribers, all.length, all);
    // One document text for 20 subscribers over two transports: parsed once.
    expect(documents.parses - parsesBefore).toBe(1);

    // One public change, three audiences that can see it: three builds, twenty frames.
    let builds = hub.metrics.payloadBuilds;
    let frames = hub.metrics.framesWritten;
    await setStatus(node.url, admin, ids.api, 'degraded_performance');
    for (const c of all) await c.waitForCount(1);
    expect(hub.metrics.payloadBuilds - builds).toBe(3);
    expect(hub.metrics.framesWritten - frames).toBe(all.length);
    for (const [audience, collectors] of Object.entries(audiences)) {
      expect(new Set(collectors.map((c) => JSON.stringify(c.results))).size, audience).toBe(1);
      expect(collectors[0]!.events[0]).toMatchObject({ entityId: ids.api, component: { status: 'degraded_performance' } });
    }

    // More audiences and a second document text: us-1, and staff with another selection.
    const staffDocument = pageEventsDocument.replace('seq action', 'seq\n    action');
    audiences['deployment:us-1'] = times((i) => subscribeWs(node.wsUrl, {}, { audience: 'deployment:us-1' }, `us ws ${i}`));
    audiences['internal, second document'] = times((i) => subscribeSse(node.url, { query: staffDocument }, { token: staff }, `staff sse doc2 ${i}`));
    const added = [...audiences['deployment:us-1']!, ...audiences['internal, second document']!];
    for (const c of added) subs.add(c);
    all = Object.values(audiences).flat();
    await waitForSubscribers(node.subscribers, all.length, all);
    expect(documents.parses - parsesBefore).toBe(2);

    // An internal change: staff only, one build per staff document; then a public change: five.
    builds = hub.metrics.payloadBuilds;
    await setStatus(node.url, admin, ids.db, 'major_outage');
    for (const c of [...audiences.internal!, ...audiences['internal, second document']!]) await c.waitFor((e) => e.some((x) => x.entityId === ids.db));
    expect(hub.metrics.payloadBuilds - builds).toBe(2);
    builds = hub.metrics.payloadBuilds;
    frames = hub.metrics.framesWritten;
    await setStatus(node.url, admin, ids.api, 'operational');
    for (const c of all) await c.waitFor((e) => e.at(-1)?.entityId === ids.api && e.at(-1)?.component?.status === 'operational');
    expect(hub.metrics.payloadBuilds - builds).toBe(5);
    expect(hub.metrics.framesWritten - frames).toBe(all.length);
    // An eu-1 change: eu-1 and the two staff documents.
    builds = hub.metrics.payloadBuilds;
    await setStatus(node.url, admin, ids.euApi, 'partial_outage');
    for (const c of [...audiences['deployment:eu-1']!, ...audiences.internal!]) await c.waitFor((e) => e.at(-1)?.entityId === ids.euApi);
    expect(hub.metrics.payloadBuilds - builds).toBe(3);
    await setStatus(node.url, admin, ids.api, 'major_outage');
    for (const c of all) await c.waitFor((e) => e.at(-1)?.component?.status === 'major_outage');

    for (const [audience, collectors] of Object.entries(audiences)) {
      expect(new Set(collectors.map((c) => JSON.stringify(c.results))).size, audience).toBe(1);
    }
    expect(audiences.public![0]!.events.map((e) => e.entityId)).toEqual([ids.api, ids.api, ids.api]);
    expect(audiences['deployment:us-1']![0]!.events.map((e) => e.entityId)).toEqual([ids.api, ids.api]);
    // Each audience its own rollup: the internal outage shows for staff only.
    expect(audiences.public![0]!.events.at(-1)!.status.indicator).toBe('critical');
    expect(audiences['deployment:eu-1']![0]!.events.map((e) => e.status.indicator)).toEqual(['minor', 'none', 'major', 'critical']);
    expect(audiences.internal![0]!.events.map((e) => e.status.indicator)).toEqual(['minor', 'critical', 'critical', 'critical', 'critical']);

    // Prometheus exposes the same counters.
    expect(await metricValue(node.url, admin, 'statushub_live_payload_builds_total')).toBe(hub.metrics.payloadBuilds);
    expect(await metricValue(node.url, admin, 'statushub_live_document_parses_total')).toBe(documents.parses);
    expect(await metricValue(node.url, admin, 'statushub_live_frames_total')).toBe(hub.metrics.framesWritten);
    expect(await metricValue(node.url, admin, 'statushub_live_subscribers')).toBe(all.length);
    expect(await metricValue(node.url, admin, 'statushub_sse_streams')).toBe(all.filter((c) => c.label.includes('sse')).length);
    // The counters include changes only staff can see: nobody else reads them.
    expect((await fetch(`${node.url}/metrics`)).status).toBe(403);
    expect((await fetch(`${node.url}/metrics`, { headers: { 'x-statushub-audience': 'deployment:eu-1' } })).status).toBe(403);
    expect(await metricValue(node.url, staff, 'statushub_live_events_total')).toBeGreaterThan(0);
    subs.closeAll();
  });

  it('the document cache parses a text once, however many subscribers send it', async () => {
    const documents = node.node.live.documents;
    const query = pageEventsDocument.replace('PageEvents', 'CachedOnce');
    await waitUntil(() => node.subscribers() === 0, 5_000, 'earlier subscriptions closed');
    const before = documents.parses;
    const collectors = [...times(() => subscribeWs(node.wsUrl, { query })), ...times(() => subscribeSse(node.url, { query }))];
    for (const c of collectors) subs.add(c);
    await waitForSubscribers(node.subscribers, collectors.length, collectors);
    expect(documents.parses - before).toBe(1);
    expect(node.subscribers()).toBe(collectors.length);
    subs.closeAll();
    await waitUntil(() => node.subscribers() === 0, 5_000, 'closed');
  });
});
