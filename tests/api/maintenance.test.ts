import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { components, events, incidentComponents, incidents } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import * as maintenance from '../../server/services/maintenance.js';
import { startMaintenanceTicker } from '../../server/workers/maintenance.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let ids: Record<string, string>;
let staffToken: string;

const hour = 3_600_000;
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000);

beforeAll(async () => {
  hub = await startTestHub();
  const s = hub.system;
  const shared = await catalog.createGroup(s, { name: 'Shared' });
  const api = await catalog.createComponent(s, { name: 'API', groupId: shared.id });
  const db = await catalog.createComponent(s, { name: 'Primary DB', groupId: shared.id, visibility: 'internal' });
  const eu = await catalog.createDeployment(s, { slug: 'eu-1', name: 'EU 1' });
  await catalog.createDeployment(s, { slug: 'us-1', name: 'US 1' });
  const euGroup = await catalog.createGroup(s, { name: 'EU services', deploymentId: eu.id });
  const euApi = await catalog.createComponent(s, { name: 'EU API', groupId: euGroup.id });

  const window = { scheduledStart: inDays(7), scheduledEnd: new Date(inDays(7).getTime() + 2 * hour) };
  const pub = await maintenance.createMaintenance(s, { title: 'Public upgrade', componentIds: [api.id], ...window });
  const internal = await maintenance.createMaintenance(s, { title: 'Secret rotation', visibility: 'internal', componentIds: [api.id], ...window });
  const euOnly = await maintenance.createMaintenance(s, { title: 'EU storage move', componentIds: [euApi.id], ...window });
  const dbOnly = await maintenance.createMaintenance(s, { title: 'DB vacuum', componentIds: [db.id], ...window });
  const mixed = await maintenance.createMaintenance(s, { title: 'Network work', componentIds: [api.id, euApi.id, db.id], ...window });
  ids = { api: api.id, db: db.id, eu: eu.id, euApi: euApi.id, pub: pub.id, internal: internal.id, euOnly: euOnly.id, dbOnly: dbOnly.id, mixed: mixed.id };
  staffToken = await hub.apiToken(['read:internal']);
});
afterAll(() => hub.close());

const list = `{ maintenances { id title components { name } } }`;
const titles = (data: any) => data.maintenances.map((m: { title: string }) => m.title).sort();

describe('maintenance isolation', () => {
  it('the public sees public maintenance on visible components, and only the visible components', async () => {
    const { data, errors } = await hub.gql(list);
    expect(errors).toBeUndefined();
    expect(titles(data)).toEqual(['Network work', 'Public upgrade']);
    expect(data.maintenances.find((m: { id: string }) => m.id === ids.mixed).components).toEqual([{ name: 'API' }]);
    expect(JSON.stringify(data)).not.toMatch(/Secret rotation|EU storage|DB vacuum|EU API|Primary DB/);
    // The hidden rows exist: staff see them, with every component.
    const staff = await hub.gql(list, {}, { token: staffToken });
    expect(titles(staff.data)).toEqual(['DB vacuum', 'EU storage move', 'Network work', 'Public upgrade', 'Secret rotation']);
    expect(staff.data.maintenances.find((m: { id: string }) => m.id === ids.mixed).components.map((c: { name: string }) => c.name).sort()).toEqual([
      'API',
      'EU API',
      'Primary DB',
    ]);
  });

  it("a deployment's maintenance reaches its own audience and no other", async () => {
    const eu = await hub.gql(list, {}, { audience: 'deployment:eu-1' });
    expect(titles(eu.data)).toEqual(['EU storage move', 'Network work', 'Public upgrade']);
    expect(eu.data.maintenances.find((m: { id: string }) => m.id === ids.mixed).components.map((c: { name: string }) => c.name).sort()).toEqual(['API', 'EU API']);
    const us = await hub.gql(list, {}, { audience: 'deployment:us-1' });
    expect(titles(us.data)).toEqual(['Network work', 'Public upgrade']);
    expect(JSON.stringify(us.data)).not.toMatch(/EU/);
  });

  it('a hidden maintenance id answers not_found, exactly like one that does not exist', async () => {
    const q = `query ($id: ID!) { maintenance(id: $id) { title } }`;
    const absent = await hub.gql(q, { id: '00000000-0000-4000-8000-000000000000' });
    expect(absent.errors?.[0]?.extensions?.code).toBe('maintenance/not_found');
    for (const hidden of [ids.internal, ids.euOnly, ids.dbOnly]) {
      const res = await hub.gql(q, { id: hidden });
      expect(res.errors?.[0]?.extensions).toEqual({ code: 'maintenance/not_found' });
      expect(res.errors?.[0]?.message).toBe(absent.errors?.[0]?.message);
      const staff = await hub.gql(q, { id: hidden }, { token: staffToken });
      expect(staff.data.maintenance.title).toBeTruthy();
    }
    const us = await hub.gql(q, { id: ids.euOnly }, { audience: 'deployment:us-1' });
    expect(us.errors?.[0]?.extensions?.code).toBe('maintenance/not_found');
    const eu = await hub.gql(q, { id: ids.euOnly }, { audience: 'deployment:eu-1' });
    expect(eu.data.maintenance.title).toBe('EU storage move');
  });

  it('staff details are staff only', async () => {
    const q = `{ maintenances { title staff { visibility autoTransition } } }`;
    const pub = await hub.gql(q);
    expect(pub.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect(pub.data.maintenances.every((m: { staff: unknown }) => m.staff === null)).toBe(true);
    const staff = await hub.gql(q, {}, { token: staffToken });
    expect(staff.errors).toBeUndefined();
    expect(staff.data.maintenances.find((m: { title: string }) => m.title === 'Secret rotation').staff).toEqual({ visibility: 'internal', autoTransition: true });
  });

  it('the summary lists upcoming maintenance for the audience', async () => {
    const q = `{ summary { maintenances { title status } } }`;
    const pub = await hub.gql(q);
    expect(pub.data.summary.maintenances.map((m: { title: string }) => m.title).sort()).toEqual(['Network work', 'Public upgrade']);
    const staff = await hub.gql(q, {}, { token: staffToken });
    expect(staff.data.summary.maintenances).toHaveLength(5);
  });
});

describe('maintenance lifecycle', () => {
  it('moves scheduled → in_progress → completed on time, taking components along', async () => {
    const s = hub.system;
    const group = await catalog.createGroup(s, { name: 'Lifecycle' });
    const web = await catalog.createComponent(s, { name: 'Web', groupId: group.id });
    const search = await catalog.createComponent(s, { name: 'Search', groupId: group.id });
    // Before the windows arranged above (next week), so advancing the clock leaves those alone.
    const start = new Date(Math.floor(inDays(1).getTime() / 1000) * 1000);
    const end = new Date(start.getTime() + 2 * hour);
    const writer = await hub.apiToken(['write:maintenance']);
    const created = await hub.gql(
      `mutation ($input: MaintenanceInput!) { createMaintenance(input: $input) { id status components { name } } }`,
      { input: { title: 'Search reindex', scheduledStart: start.toISOString(), scheduledEnd: end.toISOString(), componentIds: [web.id, search.id] } },
      { token: writer },
    );
    expect(created.errors).toBeUndefined();
    const id = created.data.createMaintenance.id;
    expect(created.data.createMaintenance.status).toBe('scheduled');

    // An unresolved incident on Search: after the window it must show the incident's status, not operational.
    const [incident] = await hub.database.db.insert(incidents).values({ pageId: hub.page.id, title: 'Search slow', status: 'identified', impact: 'minor' }).returning();
    await hub.database.db.insert(incidentComponents).values({ incidentId: incident!.id, componentId: search.id, status: 'degraded_performance' });

    const statusOf = async (componentId: string) => (await hub.database.db.select().from(components).where(eq(components.id, componentId)))[0]!.status;

    expect(await maintenance.advanceMaintenances(s, new Date(start.getTime() - 1))).toEqual([]);
    const started = await maintenance.advanceMaintenances(s, start);
    expect(started.map((m) => [m.id, m.status])).toEqual([[id, 'in_progress']]);
    expect(started[0]!.startedAt).toEqual(start);
    expect(await statusOf(web.id)).toBe('under_maintenance');
    // The incident's worse status wins over under_maintenance: an outage stays visible.
    expect(await statusOf(search.id)).toBe('degraded_performance');
    const pub = await hub.gql(`{ status { description } maintenance(id: "${id}") { status startedAt } }`);
    expect(pub.data.status.description).toBe('Minor Service Outage');
    expect(pub.data.maintenance).toEqual({ status: 'in_progress', startedAt: start.toISOString() });

    // A second tick at the same instant changes nothing.
    expect(await maintenance.advanceMaintenances(s, start)).toEqual([]);

    const completed = await maintenance.advanceMaintenances(s, end);
    expect(completed.map((m) => [m.id, m.status])).toEqual([[id, 'completed']]);
    expect(completed[0]!.completedAt).toEqual(end);
    expect(await statusOf(web.id)).toBe('operational');
    expect(await statusOf(search.id)).toBe('degraded_performance');

    const actions = await hub.database.db.select({ action: events.action }).from(events).where(and(eq(events.entityType, 'maintenance'), eq(events.entityId, id))).orderBy(asc(events.seq));
    expect(actions.map((e) => e.action)).toEqual(['maintenance.created', 'maintenance.started', 'maintenance.completed']);

    const past = await hub.gql(`{ maintenances(window: past) { id status completedAt } }`);
    expect(past.data.maintenances).toEqual([{ id, status: 'completed', completedAt: end.toISOString() }]);

    // Finished maintenance is history: no more edits.
    const edit = await hub.gql(`mutation ($id: ID!) { updateMaintenance(id: $id, patch: { title: "Again" }) { id } }`, { id }, { token: writer });
    expect(edit.errors?.[0]?.extensions?.code).toBe('maintenance/not_editable');
  });

  it('a window missed entirely (node down) is started and completed in one pass', async () => {
    const s = hub.system;
    const c = await catalog.createComponent(s, { name: 'Batch' });
    const m = await maintenance.createMaintenance(s, {
      title: 'Overnight batch',
      scheduledStart: inDays(2),
      scheduledEnd: new Date(inDays(2).getTime() + hour),
      componentIds: [c.id],
    });
    const moved = await maintenance.advanceMaintenances(s, inDays(3));
    expect(moved.find((x) => x.id === m.id)?.status).toBe('completed');
    const actions = await hub.database.db.select({ action: events.action }).from(events).where(eq(events.entityId, m.id)).orderBy(asc(events.seq));
    expect(actions.map((e) => e.action)).toEqual(['maintenance.created', 'maintenance.started', 'maintenance.completed']);
  });

  it('autoTransition off waits for a person; cancelling an active window restores components', async () => {
    const s = hub.system;
    const c = await catalog.createComponent(s, { name: 'Billing' });
    const m = await maintenance.createMaintenance(s, {
      title: 'Billing migration',
      autoTransition: false,
      scheduledStart: inDays(4),
      scheduledEnd: new Date(inDays(4).getTime() + hour),
      componentIds: [c.id],
    });
    expect((await maintenance.advanceMaintenances(s, new Date(inDays(4).getTime() + hour / 2))).map((x) => x.id)).not.toContain(m.id);
    const writer = await hub.apiToken(['write:maintenance']);
    const started = await hub.gql(`mutation ($id: ID!) { startMaintenance(id: $id) { status components { status } } }`, { id: m.id }, { token: writer });
    expect(started.data.startMaintenance).toEqual({ status: 'in_progress', components: [{ status: 'under_maintenance' }] });
    const cancelled = await hub.gql(`mutation ($id: ID!) { cancelMaintenance(id: $id) { status components { status } } }`, { id: m.id }, { token: writer });
    expect(cancelled.data.cancelMaintenance).toEqual({ status: 'cancelled', components: [{ status: 'operational' }] });
    const again = await hub.gql(`mutation ($id: ID!) { cancelMaintenance(id: $id) { status } }`, { id: m.id }, { token: writer });
    expect(again.errors?.[0]?.extensions?.code).toBe('maintenance/not_editable');
  });

  it('the ticker advances every page as the system actor and stops cleanly', async () => {
    const c = await catalog.createComponent(hub.system, { name: 'Ticker target' });
    const m = await maintenance.createMaintenance(hub.system, {
      title: 'Started by the ticker',
      scheduledStart: new Date(Date.now() - hour),
      scheduledEnd: new Date(Date.now() + hour),
      componentIds: [c.id],
    });
    const ticker = startMaintenanceTicker(hub.database.db, async () => [hub.page], 60_000);
    await ticker.tick();
    await ticker.stop();
    const [row] = await hub.database.db.select().from(events).where(and(eq(events.entityId, m.id), eq(events.action, 'maintenance.started')));
    expect(row).toMatchObject({ actorType: 'system', actorName: 'maintenance scheduler' });
    expect((await hub.database.db.select().from(components).where(eq(components.id, c.id)))[0]!.status).toBe('under_maintenance');
  });
});

describe('maintenance writes are validated and guarded', () => {
  const create = `mutation ($input: MaintenanceInput!) { createMaintenance(input: $input) { id } }`;
  const valid = () => ({ title: 'Valid', scheduledStart: '2033-01-01T00:00:00Z', scheduledEnd: '2033-01-01T01:00:00Z', componentIds: [ids.api] });

  it('rejects bad input and unauthorised callers, changing nothing', async () => {
    const writer = await hub.apiToken(['write:maintenance']);
    const before = await hub.snapshotCounts();
    const cases: [Record<string, unknown>, string | undefined, string, string | undefined][] = [
      [{ ...valid(), scheduledEnd: '2032-12-31T23:00:00Z' }, writer, 'input/invalid', 'scheduledEnd'],
      [{ ...valid(), scheduledEnd: '2033-01-01T00:00:00Z' }, writer, 'input/invalid', 'scheduledEnd'],
      [{ ...valid(), title: 'x'.repeat(301) }, writer, 'input/invalid', 'title'],
      [{ ...valid(), title: '   ' }, writer, 'input/invalid', 'title'],
      [{ ...valid(), componentIds: [ids.api, '00000000-0000-4000-8000-000000000000'] }, writer, 'input/invalid', 'componentIds'],
      [{ ...valid(), componentIds: ['not-a-uuid'] }, writer, 'input/invalid', 'componentIds.0'],
      [valid(), undefined, 'auth/forbidden', undefined],
      [valid(), staffToken, 'auth/forbidden', undefined],
    ];
    for (const [input, token, code, field] of cases) {
      const res = await hub.gql(create, { input }, { token });
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(input)).toBe(code);
      if (field) expect(res.errors?.[0]?.extensions?.field).toBe(field);
    }
    const patch = await hub.gql(`mutation ($id: ID!) { updateMaintenance(id: $id, patch: { scheduledEnd: "2000-01-01T00:00:00Z" }) { id } }`, { id: ids.pub }, { token: writer });
    expect(patch.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', field: 'scheduledEnd' });
    const unknown = await hub.gql(`mutation ($id: ID!) { cancelMaintenance(id: $id) { id } }`, { id: '00000000-0000-4000-8000-000000000000' }, { token: writer });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('maintenance/not_found');
    expect(await hub.snapshotCounts()).toEqual(before);
  });

  it('updates the fields given and replaces the component set', async () => {
    const writer = await hub.apiToken(['write:maintenance', 'read:internal']);
    const res = await hub.gql(
      `mutation ($id: ID!, $ids: [ID!]) { updateMaintenance(id: $id, patch: { body: "New body", componentIds: $ids }) { title body components { name } } }`,
      { id: ids.dbOnly, ids: [ids.db, ids.euApi] },
      { token: writer },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.updateMaintenance.title).toBe('DB vacuum');
    expect(res.data.updateMaintenance.body).toBe('New body');
    expect(res.data.updateMaintenance.components.map((c: { name: string }) => c.name).sort()).toEqual(['EU API', 'Primary DB']);
    const [event] = await hub.database.db.select().from(events).where(and(eq(events.entityId, ids.dbOnly!), eq(events.action, 'maintenance.updated')));
    expect((event!.before as { componentIds: string[] }).componentIds).toEqual([ids.db]);
    expect((event!.after as { componentIds: string[] }).componentIds).toEqual([ids.db, ids.euApi].sort());
  });
});
