import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { components, events, incidents as incidentsTable, incidentUpdates } from '../../server/db/tables/index.js';
import type { Viewer } from '../../server/auth/viewer.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { findIncident, listAffectedComponents, listRolesOfIncidents, listUpdatesOfIncidents } from '../../server/read/incidents.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let ids: Record<'shared' | 'api' | 'db' | 'eu' | 'us' | 'euApi' | 'usApi', string>;
/** read:internal: reads as staff, may not write. */
let staff: string;
/** write:incidents without read:internal: writes, reads as the public. */
let writer: string;
/** Staff editor: both. */
let editor: string;

beforeAll(async () => {
  hub = await startTestHub();
  const s = hub.system;
  const shared = await catalog.createGroup(s, { name: 'Shared' });
  const api = await catalog.createComponent(s, { name: 'API', groupId: shared.id, sortOrder: 1 });
  const db = await catalog.createComponent(s, { name: 'Primary DB', groupId: shared.id, visibility: 'internal', sortOrder: 2 });
  const eu = await catalog.createDeployment(s, { slug: 'eu-1', name: 'EU 1' });
  const us = await catalog.createDeployment(s, { slug: 'us-1', name: 'US 1' });
  const euGroup = await catalog.createGroup(s, { name: 'EU services', deploymentId: eu.id });
  const usGroup = await catalog.createGroup(s, { name: 'US services', deploymentId: us.id });
  const euApi = await catalog.createComponent(s, { name: 'EU API', groupId: euGroup.id });
  const usApi = await catalog.createComponent(s, { name: 'US API', groupId: usGroup.id });
  ids = { shared: shared.id, api: api.id, db: db.id, eu: eu.id, us: us.id, euApi: euApi.id, usApi: usApi.id };
  staff = await hub.apiToken(['read:internal']);
  writer = await hub.apiToken(['write:incidents']);
  editor = await hub.apiToken(['read:internal', 'write:incidents']);
});
afterAll(() => hub.close());

// Every test starts from a page without incidents and with every component operational.
afterEach(async () => {
  for (const { id } of await hub.database.db.select({ id: incidentsTable.id }).from(incidentsTable)) await incidents.deleteIncident(hub.system, id);
  const statuses = await hub.database.db.select({ id: components.id, status: components.status }).from(components);
  for (const c of statuses) if (c.status !== 'operational') await catalog.setComponentStatus(hub.system, c.id, 'operational');
});

const uuid0 = '00000000-0000-4000-8000-000000000000';
const publicViewer = (): Viewer => ({ page: hub.page, audience: { kind: 'public' }, actor: { type: 'anonymous' } });

async function componentStatus(id: string): Promise<string> {
  const [row] = await hub.database.db.select({ status: components.status }).from(components).where(eq(components.id, id));
  return row!.status;
}

const incidentQuery = `query ($id: ID!) { incident(id: $id) { id title status impact updates { message } affectedComponents { component { name } status } } }`;
const staffIncidentQuery = `query ($id: ID!) { incident(id: $id) { title staff { severity warRoomUrl visibility roles { role assignee } } updates { message staff { internalNote author } } } }`;
const listQuery = `query ($state: IncidentState, $first: Int, $after: String) {
  incidents(state: $state, first: $first, after: $after) { edges { cursor node { id title } } pageInfo { hasNextPage endCursor } }
}`;
const summaryQuery = `{ summary { status { indicator } activeIncidents { title impact } } activeIncidents { title } }`;

const titlesOf = (result: { data?: any }): string[] => result.data.incidents.edges.map((e: { node: { title: string } }) => e.node.title);

describe('what each audience sees', () => {
  it('the public never sees an internal incident; staff do', async () => {
    const secret = await incidents.createIncident(hub.system, { title: 'Secret failover drill', message: 'Failing over the primary', visibility: 'internal', impact: 'critical' });

    for (const query of [listQuery, summaryQuery]) {
      const pub = await hub.gql(query, { state: 'all' });
      expect(pub.errors).toBeUndefined();
      expect(JSON.stringify(pub)).not.toContain('Secret failover drill');
    }
    const byId = await hub.gql(incidentQuery, { id: secret.id });
    expect(byId.errors?.[0]?.extensions?.code).toBe('incident/not_found');
    expect(JSON.stringify(byId)).not.toContain('Secret');

    // The hidden row exists: staff see it everywhere.
    expect(titlesOf(await hub.gql(listQuery, {}, { token: staff }))).toEqual(['Secret failover drill']);
    const staffSummary = await hub.gql(summaryQuery, {}, { token: staff });
    expect(staffSummary.data.summary.activeIncidents).toEqual([{ title: 'Secret failover drill', impact: 'critical' }]);
    expect(staffSummary.data.activeIncidents).toEqual([{ title: 'Secret failover drill' }]);
    expect((await hub.gql(incidentQuery, { id: secret.id }, { token: staff })).data.incident.title).toBe('Secret failover drill');
  });

  it('the public sees a public incident but never its internal note, severity, roles or war-room link', async () => {
    const incident = await incidents.createIncident(hub.system, {
      title: 'Slow API responses',
      message: 'We are investigating slow responses.',
      internalNote: 'NOTE-7f3a: replica lag on db-3',
      severity: 'SEV1',
      warRoomUrl: 'https://meet.example.com/war-room-91c2',
      roles: [{ role: 'incident_commander', assignee: 'Zelda Quartermain' }],
      components: [{ componentId: ids.api, status: 'degraded_performance' }],
    });
    const secrets = ['NOTE-7f3a', 'SEV1', 'war-room-91c2', 'Zelda Quartermain'];

    const pub = await hub.gql(incidentQuery, { id: incident.id });
    expect(pub.errors).toBeUndefined();
    expect(pub.data.incident).toMatchObject({ title: 'Slow API responses', updates: [{ message: 'We are investigating slow responses.' }] });
    for (const secret of secrets) expect(JSON.stringify(pub)).not.toContain(secret);

    // Asking for staff fields is refused and yields nothing, for the public and for a deployment.
    for (const options of [{}, { audience: 'deployment:eu-1' }, { token: writer }]) {
      const probe = await hub.gql(staffIncidentQuery, { id: incident.id }, options);
      expect(probe.errors?.map((e) => e.extensions?.code)).toEqual(expect.arrayContaining(['auth/forbidden']));
      expect(probe.data?.incident?.staff ?? null).toBeNull();
      for (const secret of secrets) expect(JSON.stringify(probe)).not.toContain(secret);
    }
    const list = await hub.gql(`{ incidents { edges { node { title staff { severity } updates { staff { internalNote } } } } } }`);
    for (const secret of secrets) expect(JSON.stringify(list)).not.toContain(secret);

    // The allowed twin: staff read every hidden detail.
    const internal = await hub.gql(staffIncidentQuery, { id: incident.id }, { token: staff });
    expect(internal.errors).toBeUndefined();
    expect(internal.data.incident.staff).toEqual({
      severity: 'SEV1',
      warRoomUrl: 'https://meet.example.com/war-room-91c2',
      visibility: 'public',
      roles: [{ role: 'incident_commander', assignee: 'Zelda Quartermain' }],
    });
    expect(internal.data.incident.updates[0].staff).toEqual({ internalNote: 'NOTE-7f3a: replica lag on db-3', author: 'test' });
  });

  it('the data layer never selects staff-only columns for the public', async () => {
    const incident = await incidents.createIncident(hub.system, {
      title: 'Webhook retries',
      message: 'Retrying',
      internalNote: 'staff only',
      severity: 'SEV2',
      warRoomUrl: 'https://meet.example.com/x',
      roles: [{ role: 'scribe', assignee: 'Ann' }],
    });
    const viewer = publicViewer();
    const row = await findIncident(hub.database.db, viewer, incident.id);
    expect(row).toMatchObject({ title: 'Webhook retries', severity: null, warRoomUrl: null });
    expect((await listUpdatesOfIncidents(hub.database.db, viewer, [incident.id]))[0]).toMatchObject({ message: 'Retrying', internalNote: null, createdBy: null });
    const queriesBefore = hub.database.queries.count;
    expect(await listRolesOfIncidents(hub.database.db, viewer, [incident.id])).toEqual([]);
    expect(hub.database.queries.count).toBe(queriesBefore);
    // Twin: the same reads as staff return them.
    const staffViewer = hub.system.viewer;
    expect(await findIncident(hub.database.db, staffViewer, incident.id)).toMatchObject({ severity: 'SEV2', warRoomUrl: 'https://meet.example.com/x' });
    expect((await listUpdatesOfIncidents(hub.database.db, staffViewer, [incident.id]))[0]!.internalNote).toBe('staff only');
    expect(await listRolesOfIncidents(hub.database.db, staffViewer, [incident.id])).toEqual([{ incidentId: incident.id, role: 'scribe', assignee: 'Ann' }]);
  });

  it("an incident on one deployment's component is seen by that deployment only", async () => {
    const incident = await incidents.createIncident(hub.system, {
      title: 'EU API errors',
      message: 'Elevated errors in EU',
      components: [{ componentId: ids.euApi, status: 'partial_outage' }],
    });
    const eu = await hub.gql(incidentQuery, { id: incident.id }, { audience: 'deployment:eu-1' });
    expect(eu.data.incident.affectedComponents).toEqual([{ component: { name: 'EU API' }, status: 'partial_outage' }]);
    expect(titlesOf(await hub.gql(listQuery, {}, { audience: 'deployment:eu-1' }))).toEqual(['EU API errors']);

    for (const options of [{}, { audience: 'deployment:us-1' }]) {
      expect(titlesOf(await hub.gql(listQuery, {}, options))).toEqual([]);
      expect(JSON.stringify(await hub.gql(summaryQuery, {}, options))).not.toContain('EU API');
      expect((await hub.gql(incidentQuery, { id: incident.id }, options)).errors?.[0]?.extensions?.code).toBe('incident/not_found');
    }
    expect(titlesOf(await hub.gql(listQuery, {}, { token: staff }))).toEqual(['EU API errors']);
  });

  it('the affected component list hides internal components', async () => {
    const incident = await incidents.createIncident(hub.system, {
      title: 'API and database degraded',
      message: 'Investigating',
      components: [
        { componentId: ids.api, status: 'degraded_performance' },
        { componentId: ids.db, status: 'major_outage' },
      ],
    });
    const pub = await hub.gql(incidentQuery, { id: incident.id });
    expect(pub.data.incident.affectedComponents).toEqual([{ component: { name: 'API' }, status: 'degraded_performance' }]);
    expect(JSON.stringify(pub)).not.toContain('Primary DB');
    expect(await listAffectedComponents(hub.database.db, publicViewer(), [incident.id])).toHaveLength(1);

    const internal = await hub.gql(incidentQuery, { id: incident.id }, { token: staff });
    expect(internal.data.incident.affectedComponents).toEqual([
      { component: { name: 'API' }, status: 'degraded_performance' },
      { component: { name: 'Primary DB' }, status: 'major_outage' },
    ]);
  });

  it('a public incident that affects only internal components is hidden too', async () => {
    const incident = await incidents.createIncident(hub.system, { title: 'DB replica rebuild', message: 'Rebuilding', components: [{ componentId: ids.db, status: 'degraded_performance' }] });
    expect((await hub.gql(incidentQuery, { id: incident.id })).errors?.[0]?.extensions?.code).toBe('incident/not_found');
    expect((await hub.gql(incidentQuery, { id: incident.id }, { token: staff })).data.incident.title).toBe('DB replica rebuild');
  });

  it('a hidden incident id answers exactly like an id that does not exist', async () => {
    const hidden = await incidents.createIncident(hub.system, { title: 'Hidden', message: 'x', visibility: 'internal' });
    const answers = await Promise.all([hidden.id, uuid0, 'not-a-uuid'].map((id) => hub.gql(incidentQuery, { id })));
    for (const answer of answers) {
      expect(answer.errors).toHaveLength(1);
      expect(answer.errors![0]!.extensions).toEqual({ code: 'incident/not_found' });
      expect(answer.errors![0]!.message).toBe('Incident not found');
      expect(answer.data).toBeNull();
    }
    expect((await hub.gql(incidentQuery, { id: hidden.id }, { token: staff })).data.incident.title).toBe('Hidden');
  });

  it('the page indicator follows a visible incident but not a hidden one', async () => {
    const status = `{ status { indicator } }`;
    await incidents.createIncident(hub.system, { title: 'Internal meltdown', message: 'x', visibility: 'internal', impact: 'critical' });
    expect((await hub.gql(status)).data.status.indicator).toBe('none');
    expect((await hub.gql(status, {}, { token: staff })).data.status.indicator).toBe('critical');

    // A deployment incident moves its own deployment's indicator only.
    await incidents.createIncident(hub.system, { title: 'US slowness', message: 'x', impact: 'major', components: [{ componentId: ids.usApi, status: 'degraded_performance' }] });
    expect((await hub.gql(status)).data.status.indicator).toBe('none');
    expect((await hub.gql(status, {}, { audience: 'deployment:eu-1' })).data.status.indicator).toBe('none');
    expect((await hub.gql(status, {}, { audience: 'deployment:us-1' })).data.status.indicator).toBe('major');

    const visible = await incidents.createIncident(hub.system, { title: 'Login trouble', message: 'x', impact: 'minor' });
    expect((await hub.gql(status)).data.status.indicator).toBe('minor');
    await incidents.resolveIncident(hub.system, visible.id);
    expect((await hub.gql(status)).data.status.indicator).toBe('none');
  });
});

describe('lifecycle', () => {
  it('creating sets live component statuses and records the events in one transaction', async () => {
    const before = await hub.snapshotCounts();
    const { data, errors } = await hub.gql(
      `mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { id status updates { message } affectedComponents { component { name status } status } } }`,
      { input: { title: 'API down', message: 'We are looking into it', impact: 'critical', components: [{ componentId: ids.api, status: 'major_outage' }] } },
      { token: editor },
    );
    expect(errors).toBeUndefined();
    expect(data.createIncident).toMatchObject({
      status: 'investigating',
      updates: [{ message: 'We are looking into it' }],
      affectedComponents: [{ component: { name: 'API', status: 'major_outage' }, status: 'major_outage' }],
    });
    const after = await hub.snapshotCounts();
    expect(after.incidents).toBe(before.incidents! + 1);
    expect(after.incident_updates).toBe(before.incident_updates! + 1);
    expect(after.incident_components).toBe(before.incident_components! + 1);
    const log = await hub.database.db.select({ action: events.action, entityId: events.entityId }).from(events).orderBy(asc(events.seq));
    expect(log.slice(-2)).toEqual([
      { action: 'incident.created', entityId: data.createIncident.id },
      { action: 'component.status_changed', entityId: ids.api },
    ]);
  });

  it('resolving restores components, unless another open incident still holds them', async () => {
    const first = await incidents.createIncident(hub.system, { title: 'A', message: 'x', components: [{ componentId: ids.api, status: 'partial_outage' }, { componentId: ids.euApi, status: 'major_outage' }] });
    const second = await incidents.createIncident(hub.system, { title: 'B', message: 'x', components: [{ componentId: ids.api, status: 'degraded_performance' }] });
    expect(await componentStatus(ids.api)).toBe('degraded_performance');

    // B resolved: A still affects the API, with partial_outage.
    const { data, errors } = await hub.gql(`mutation ($id: ID!) { resolveIncident(id: $id) { status resolvedAt updates { status message } } }`, { id: second.id }, { token: editor });
    expect(errors).toBeUndefined();
    expect(data.resolveIncident).toMatchObject({ status: 'resolved', updates: [{ status: 'resolved', message: 'This incident has been resolved.' }, { status: 'investigating' }] });
    expect(data.resolveIncident.resolvedAt).toBeTruthy();
    expect(await componentStatus(ids.api)).toBe('partial_outage');
    expect(await componentStatus(ids.euApi)).toBe('major_outage');

    // A resolved through an update: everything operational again.
    await incidents.postIncidentUpdate(hub.system, first.id, { status: 'resolved', message: 'All good now' });
    expect(await componentStatus(ids.api)).toBe('operational');
    expect(await componentStatus(ids.euApi)).toBe('operational');
    const [row] = await hub.database.db.select().from(incidentsTable).where(eq(incidentsTable.id, first.id));
    expect(row!.resolvedAt).toBeInstanceOf(Date);

    const again = await hub.gql(`mutation ($id: ID!) { resolveIncident(id: $id) { id } }`, { id: first.id }, { token: editor });
    expect(again.errors?.[0]?.extensions?.code).toBe('incident/already_resolved');
  });

  it('two incidents on one component resolved at the same time leave it operational', async () => {
    for (let round = 0; round < 3; round++) {
      const a = await incidents.createIncident(hub.system, { title: 'A', message: 'x', components: [{ componentId: ids.api, status: 'partial_outage' }] });
      const b = await incidents.createIncident(hub.system, { title: 'B', message: 'x', components: [{ componentId: ids.api, status: 'major_outage' }] });
      await Promise.all([incidents.resolveIncident(hub.system, a.id), incidents.resolveIncident(hub.system, b.id)]);
      expect(await componentStatus(ids.api)).toBe('operational');
    }
  });

  it('an update can change affected components, statuses and the next update time', async () => {
    const incident = await incidents.createIncident(hub.system, { title: 'Queue delays', message: 'x', components: [{ componentId: ids.api, status: 'partial_outage' }] });
    const due = new Date(Date.now() + 30 * 60_000);
    const { data, errors } = await hub.gql(
      `mutation ($id: ID!, $input: IncidentUpdateInput!) { postIncidentUpdate(id: $id, input: $input) { status nextUpdateDueAt affectedComponents { component { name } status } } }`,
      { id: incident.id, input: { status: 'identified', message: 'Found it', components: [{ componentId: ids.euApi, status: 'degraded_performance' }], nextUpdateDueAt: due.toISOString() } },
      { token: editor },
    );
    expect(errors).toBeUndefined();
    expect(data.postIncidentUpdate).toEqual({
      status: 'identified',
      nextUpdateDueAt: due.toISOString(),
      affectedComponents: [{ component: { name: 'EU API' }, status: 'degraded_performance' }],
    });
    expect(await componentStatus(ids.api)).toBe('operational');
    expect(await componentStatus(ids.euApi)).toBe('degraded_performance');
    // "Next update by …" is public.
    expect((await hub.gql(`query ($id: ID!) { incident(id: $id) { nextUpdateDueAt } }`, { id: incident.id }, { audience: 'deployment:eu-1' })).data.incident.nextUpdateDueAt).toBe(due.toISOString());
  });

  it('updateIncident changes details and replaces roles', async () => {
    const incident = await incidents.createIncident(hub.system, { title: 'Old title', message: 'x', roles: [{ role: 'scribe', assignee: 'Ann' }] });
    const { data, errors } = await hub.gql(
      `mutation ($id: ID!, $patch: IncidentPatch!) { updateIncident(id: $id, patch: $patch) { title impact staff { severity warRoomUrl roles { role assignee } } } }`,
      { id: incident.id, patch: { title: 'New title', impact: 'major', severity: 'SEV2', warRoomUrl: 'https://meet.example.com/abc', roles: [{ role: 'incident_commander', assignee: 'Bo' }] } },
      { token: editor },
    );
    expect(errors).toBeUndefined();
    expect(data.updateIncident).toEqual({
      title: 'New title',
      impact: 'major',
      staff: { severity: 'SEV2', warRoomUrl: 'https://meet.example.com/abc', roles: [{ role: 'incident_commander', assignee: 'Bo' }] },
    });
    const [event] = await hub.database.db.select().from(events).where(eq(events.action, 'incident.updated')).orderBy(asc(events.seq));
    expect(event).toMatchObject({ entityId: incident.id, before: { title: 'Old title', roles: [{ role: 'scribe', assignee: 'Ann' }] }, after: { title: 'New title' } });
  });

  it('postmortem: only once resolved, then public', async () => {
    const incident = await incidents.createIncident(hub.system, { title: 'Billing outage', message: 'x', impact: 'major' });
    const publish = `mutation ($id: ID!, $input: PostmortemInput!) { publishPostmortem(id: $id, input: $input) { status postmortem { body publishedAt } } }`;
    const early = await hub.gql(publish, { id: incident.id, input: { body: 'What happened' } }, { token: editor });
    expect(early.errors?.[0]?.extensions?.code).toBe('incident/not_resolved');

    await incidents.resolveIncident(hub.system, incident.id, { message: 'Fixed' });
    const { data, errors } = await hub.gql(publish, { id: incident.id, input: { body: 'What happened' } }, { token: editor });
    expect(errors).toBeUndefined();
    expect(data.publishPostmortem.status).toBe('postmortem');
    expect(data.publishPostmortem.postmortem.body).toBe('What happened');

    const pub = await hub.gql(`query ($id: ID!) { incident(id: $id) { status postmortem { body } } }`, { id: incident.id });
    expect(pub.data.incident).toEqual({ status: 'postmortem', postmortem: { body: 'What happened' } });
    expect(titlesOf(await hub.gql(listQuery, { state: 'resolved' }))).toEqual(['Billing outage']);
    expect(titlesOf(await hub.gql(listQuery, { state: 'active' }))).toEqual([]);
    expect((await hub.gql(`{ status { indicator } }`)).data.status.indicator).toBe('none');
    const actions = (await hub.database.db.select({ action: events.action }).from(events).where(eq(events.entityId, incident.id)).orderBy(asc(events.seq))).map((e) => e.action);
    expect(actions).toEqual(['incident.created', 'incident.update_posted', 'incident.resolved', 'incident.postmortem_published']);
  });

  it('backfill records a past incident without touching live statuses', async () => {
    const day = 86_400_000;
    const start = new Date(Date.now() - 10 * day);
    const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();
    const { data, errors } = await hub.gql(
      `mutation ($input: BackfillIncidentInput!) { backfillIncident(input: $input) { id status startedAt resolvedAt updates { status message createdAt staff { internalNote } } affectedComponents { component { name status } status } staff { severity roles { assignee } } } }`,
      {
        input: {
          title: 'Old outage',
          impact: 'major',
          severity: 'SEV2',
          roles: [{ role: 'incident_commander', assignee: 'Ivy' }],
          components: [{ componentId: ids.api, status: 'major_outage' }],
          startedAt: start.toISOString(),
          resolvedAt: at(90),
          updates: [
            { status: 'resolved', message: 'Done', at: at(90) },
            { status: 'investigating', message: 'Looking', at: at(5), internalNote: 'disk full' },
            { status: 'identified', message: 'Found', at: at(40) },
          ],
        },
      },
      { token: editor },
    );
    expect(errors).toBeUndefined();
    expect(data.backfillIncident).toMatchObject({
      status: 'resolved',
      startedAt: start.toISOString(),
      resolvedAt: at(90),
      updates: [
        { status: 'resolved', message: 'Done', createdAt: at(90), staff: { internalNote: null } },
        { status: 'identified', createdAt: at(40) },
        { status: 'investigating', createdAt: at(5), staff: { internalNote: 'disk full' } },
      ],
      affectedComponents: [{ component: { name: 'API', status: 'operational' }, status: 'major_outage' }],
      staff: { severity: 'SEV2', roles: [{ assignee: 'Ivy' }] },
    });
    expect(await componentStatus(ids.api)).toBe('operational');
    expect(titlesOf(await hub.gql(listQuery, { state: 'resolved' }))).toEqual(['Old outage']);
    const log = await hub.database.db.select({ action: events.action }).from(events).where(eq(events.entityId, data.backfillIncident.id));
    expect(log).toEqual([{ action: 'incident.backfilled' }]);
  });

  it('deleting an open incident settles its components', async () => {
    const incident = await incidents.createIncident(hub.system, { title: 'Temp', message: 'x', components: [{ componentId: ids.api, status: 'major_outage' }] });
    const { data } = await hub.gql(`mutation ($id: ID!) { deleteIncident(id: $id) }`, { id: incident.id }, { token: editor });
    expect(data.deleteIncident).toBe(incident.id);
    expect(await componentStatus(ids.api)).toBe('operational');
    expect(await hub.database.db.select().from(incidentUpdates).where(eq(incidentUpdates.incidentId, incident.id))).toEqual([]);
  });
});

describe('pagination', () => {
  it('pages through every visible incident once, newest first, with no duplicates or gaps', async () => {
    const base = Date.now() - 30 * 86_400_000;
    const titles: string[] = [];
    for (let i = 0; i < 9; i++) {
      // Three pairs share a start time: the id breaks the tie.
      const startedAt = new Date(base + Math.floor(i / 2) * 3_600_000);
      const title = `Past ${i}`;
      titles.push(title);
      await incidents.backfillIncident(hub.system, {
        title,
        visibility: i === 4 ? 'internal' : 'public',
        startedAt,
        resolvedAt: new Date(startedAt.getTime() + 60_000),
        updates: [{ status: 'resolved', message: 'ok', at: startedAt }],
      });
    }
    // Live incidents start within microseconds of each other.
    await incidents.createIncident(hub.system, { title: 'Live 1', message: 'x' });
    await incidents.createIncident(hub.system, { title: 'Live 2', message: 'x' });

    async function pageAll(options: { token?: string }, first: number): Promise<string[]> {
      const seen: string[] = [];
      let after: string | null = null;
      for (let guard = 0; guard < 20; guard++) {
        const result: { data?: any; errors?: unknown } = await hub.gql(listQuery, { first, after }, options);
        expect(result.errors).toBeUndefined();
        const { edges, pageInfo }: { edges: any[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = result.data.incidents;
        expect(edges.length).toBeLessThanOrEqual(first);
        seen.push(...edges.map((e: { node: { title: string } }) => e.node.title));
        if (!pageInfo.hasNextPage) return seen;
        expect(pageInfo.endCursor).toBe(edges.at(-1).cursor);
        after = pageInfo.endCursor;
      }
      throw new Error('pagination did not end');
    }

    const everything = titlesOf(await hub.gql(listQuery, { first: 100 }, { token: staff }));
    expect(everything).toHaveLength(11);
    expect(everything.slice(0, 2).sort()).toEqual(['Live 1', 'Live 2']);
    for (const first of [1, 2, 3, 5]) {
      const staffPages = await pageAll({ token: staff }, first);
      expect(staffPages).toEqual(everything);
      const publicPages = await pageAll({}, first);
      expect(publicPages).toEqual(everything.filter((t) => t !== 'Past 4'));
    }
    expect(titlesOf(await hub.gql(listQuery, { state: 'active', first: 1 }))).toHaveLength(1);

    // Nested fields are batched: the same number of statements for 2 incidents as for 11.
    const nested = `query ($first: Int) { incidents(first: $first) { edges { node { updates { message staff { internalNote } } affectedComponents { component { name } } staff { roles { role } } } } } }`;
    const count = async (first: number) => {
      const before = hub.database.queries.count;
      const result = await hub.gql(nested, { first }, { token: staff });
      expect(result.errors).toBeUndefined();
      return hub.database.queries.count - before;
    };
    expect(await count(11)).toBe(await count(2));
  });

  it('rejects a malformed cursor and backward paging with input/invalid', async () => {
    const bad = await hub.gql(listQuery, { after: 'bm9wZQ' });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', field: 'after' });
    const backward = await hub.gql(`{ incidents(last: 2) { edges { cursor } } }`);
    expect(backward.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', field: 'last' });
    const tooMany = await hub.gql(listQuery, { first: 1000 });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', field: 'first' });
  });
});

describe('rejected writes change nothing', () => {
  const create = `mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { id } }`;
  const post = `mutation ($id: ID!, $input: IncidentUpdateInput!) { postIncidentUpdate(id: $id, input: $input) { id } }`;

  async function expectRejected(query: string, variables: Record<string, unknown>, token: string | undefined, code: string) {
    const before = await hub.snapshotCounts();
    const apiBefore = await componentStatus(ids.api);
    const result = await hub.gql(query, variables, { token });
    expect(result.errors?.[0]?.extensions?.code, JSON.stringify(result.errors)).toBe(code);
    expect(await hub.snapshotCounts()).toEqual(before);
    expect(await componentStatus(ids.api)).toBe(apiBefore);
    return result.errors![0]!;
  }

  it('wrong enum value', async () => {
    const error = await expectRejected(create, { input: { title: 'X', message: 'y', impact: 'catastrophic' } }, editor, 'input/invalid');
    expect(error.message).toContain('Impact');
  });

  it('missing required field', async () => {
    const incident = await incidents.createIncident(hub.system, { title: 'Open', message: 'x' });
    const noMessage = await expectRejected(post, { id: incident.id, input: { status: 'identified' } }, editor, 'input/invalid');
    expect(noMessage.message).toMatch(/"message" of required type/);
    const noTitle = await expectRejected(create, { input: { message: 'y' } }, editor, 'input/invalid');
    expect(noTitle.extensions).toMatchObject({ field: 'title' });
  });

  it('oversized text names the field', async () => {
    const title = await expectRejected(create, { input: { title: 'x'.repeat(20_000), message: 'y' } }, editor, 'input/invalid');
    expect(title.extensions?.field).toBe('title');
    expect(title.message).toMatch(/at most 300/);
    const message = await expectRejected(create, { input: { title: 'ok', message: 'y'.repeat(10_001) } }, editor, 'input/invalid');
    expect(message.extensions?.field).toBe('message');
    const url = await expectRejected(create, { input: { title: 'ok', message: 'y', warRoomUrl: 'javascript:alert(1)' } }, editor, 'input/invalid');
    expect(url.extensions?.field).toBe('warRoomUrl');
  });

  it('unknown component id names its position, and nothing is written', async () => {
    const error = await expectRejected(
      create,
      { input: { title: 'X', message: 'y', components: [{ componentId: ids.api, status: 'major_outage' }, { componentId: uuid0, status: 'major_outage' }] } },
      editor,
      'input/invalid',
    );
    expect(error.extensions?.field).toBe('components.1.componentId');
    const malformed = await expectRejected(create, { input: { title: 'X', message: 'y', components: [{ componentId: 'nope', status: 'major_outage' }] } }, editor, 'input/invalid');
    expect(malformed.extensions?.field).toBe('components.0.componentId');
    // The allowed twin: the same write with a real id succeeds.
    const ok = await hub.gql(create, { input: { title: 'X', message: 'y', components: [{ componentId: ids.api, status: 'major_outage' }] } }, { token: editor });
    expect(ok.errors).toBeUndefined();
    expect(await componentStatus(ids.api)).toBe('major_outage');
  });

  it('a component of another page is unknown', async () => {
    const { pages } = await import('../../server/db/tables/index.js');
    const [other] = await hub.database.db.insert(pages).values({ slug: 'other-co', name: 'Other' }).returning();
    const [foreign] = await hub.database.db.insert(components).values({ pageId: other!.id, name: 'Foreign' }).returning();
    const error = await expectRejected(create, { input: { title: 'X', message: 'y', components: [{ componentId: foreign!.id, status: 'major_outage' }] } }, editor, 'input/invalid');
    expect(error.extensions?.field).toBe('components.0.componentId');
  });

  it('unauthorised: no token, or a token without write:incidents', async () => {
    const input = { title: 'X', message: 'y' };
    await expectRejected(create, { input }, undefined, 'auth/forbidden');
    await expectRejected(create, { input }, staff, 'auth/forbidden');
    const incident = await incidents.createIncident(hub.system, { title: 'Open', message: 'x' });
    await expectRejected(post, { id: incident.id, input: { status: 'resolved', message: 'z' } }, staff, 'auth/forbidden');
    await expectRejected(`mutation ($id: ID!) { deleteIncident(id: $id) }`, { id: incident.id }, undefined, 'auth/forbidden');
    // The allowed twin: a write-only token may write.
    const ok = await hub.gql(create, { input }, { token: writer });
    expect(ok.errors).toBeUndefined();
  });

  it('writes to an unknown or hidden incident answer not_found', async () => {
    const error = await expectRejected(post, { id: uuid0, input: { status: 'resolved', message: 'z' } }, editor, 'incident/not_found');
    expect(error.message).toBe('Incident not found');
  });

  it('backfill dates must be in the past and in order', async () => {
    const backfill = `mutation ($input: BackfillIncidentInput!) { backfillIncident(input: $input) { id } }`;
    const start = new Date(Date.now() - 3_600_000);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const late = await expectRejected(
      backfill,
      { input: { title: 'X', startedAt: start.toISOString(), resolvedAt: future, updates: [{ status: 'resolved', message: 'ok', at: start.toISOString() }] } },
      editor,
      'input/invalid',
    );
    expect(late.extensions?.field).toBe('resolvedAt');
    const outside = await expectRejected(
      backfill,
      { input: { title: 'X', startedAt: start.toISOString(), resolvedAt: new Date().toISOString(), updates: [{ status: 'resolved', message: 'ok', at: new Date(start.getTime() - 1000).toISOString() }] } },
      editor,
      'input/invalid',
    );
    expect(outside.extensions?.field).toBe('updates.0.at');
    const none = await expectRejected(backfill, { input: { title: 'X', startedAt: start.toISOString(), resolvedAt: new Date().toISOString(), updates: [] } }, editor, 'input/invalid');
    expect(none.extensions?.field).toBe('updates');
  });
});
