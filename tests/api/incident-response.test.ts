import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as catalog from '../../server/services/catalog.js';
import { listComponents } from '../../server/read/catalog.js';
import { publicAudience } from '../../server/auth/audience.js';
import { incidentMetrics, percentile } from '../../server/read/incident-metrics.js';
import { errorBudgetRemaining } from '../../server/read/uptime.js';
import type { IncidentRow, IncidentUpdateRow } from '../../server/db/tables/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let writer: string;
let reader: string;
let publicWriter: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  hub = await startTestHub();
  writer = await hub.apiToken(['read:internal', 'write:incidents', 'write:components']);
  reader = await hub.apiToken(['read:internal']);
  publicWriter = await hub.apiToken(['write:incidents']);
  const eu = await catalog.createDeployment(hub.system, { slug: 'eu-1', name: 'EU 1' });
  const us = await catalog.createDeployment(hub.system, { slug: 'us-1', name: 'US 1' });
  const shared = await catalog.createGroup(hub.system, { name: 'Shared' });
  const euGroup = await catalog.createGroup(hub.system, { name: 'EU cluster', deploymentId: eu.id });
  const usGroup = await catalog.createGroup(hub.system, { name: 'US cluster', deploymentId: us.id });
  ids.api = (await catalog.createComponent(hub.system, { name: 'Public API', groupId: shared.id })).id;
  ids.euDb = (await catalog.createComponent(hub.system, { name: 'EU database', groupId: euGroup.id })).id;
  ids.usDb = (await catalog.createComponent(hub.system, { name: 'US database', groupId: usGroup.id })).id;
  ids.queue = (await catalog.createComponent(hub.system, { name: 'Job queue', groupId: shared.id, visibility: 'internal' })).id;
});
afterAll(() => hub.close());

const preview = `query ($input: CreateIncidentInput!) {
  previewIncident(input: $input) {
    audience label sees status { indicator description }
    incident { title status impact message internalNote nextUpdateDueAt components { name status } }
  }
}`;

interface Preview {
  audience: string;
  label: string;
  sees: boolean;
  status: { indicator: string; description: string };
  incident: null | { title: string; message: string; internalNote: string | null; components: { name: string; status: string }[] };
}

const declare = {
  title: 'Elevated errors',
  message: 'We are investigating elevated error rates.',
  internalNote: 'pager: db-primary CPU at 100%',
  impact: 'major',
  components: [
    { componentId: 'api', status: 'partial_outage' },
    { componentId: 'euDb', status: 'major_outage' },
    { componentId: 'queue', status: 'major_outage' },
  ],
};
const withIds = (input: typeof declare) => ({ ...input, components: input.components.map((c) => ({ ...c, componentId: ids[c.componentId] })) });

describe('previewIncident', () => {
  it('shows each audience exactly its slice: public, the affected deployment, staff', async () => {
    const result = await hub.gql<{ previewIncident: Preview[] }>(preview, { input: withIds(declare) }, { token: writer, audience: 'internal' });
    expect(result.errors).toBeUndefined();
    const byAudience = Object.fromEntries(result.data!.previewIncident.map((p) => [p.audience, p]));
    // us-1 owns no affected component, so it gets no column of its own.
    expect(Object.keys(byAudience)).toEqual(['public', 'deployment:eu-1', 'internal']);

    const pub = byAudience.public!;
    expect(pub).toMatchObject({ label: 'Public page', sees: true, status: { indicator: 'major' } });
    expect(pub.incident).toMatchObject({ title: 'Elevated errors', message: declare.message, internalNote: null });
    expect(pub.incident!.components).toEqual([{ name: 'Public API', status: 'partial_outage' }]);

    const eu = byAudience['deployment:eu-1']!;
    expect(eu).toMatchObject({ label: 'EU 1 customers', sees: true, status: { indicator: 'critical' } });
    expect(eu.incident!.internalNote).toBeNull();
    expect(eu.incident!.components.map((c) => c.name).sort()).toEqual(['EU database', 'Public API']);

    const staff = byAudience.internal!;
    expect(staff.incident!.internalNote).toBe(declare.internalNote);
    expect(staff.incident!.components.map((c) => c.name).sort()).toEqual(['EU database', 'Job queue', 'Public API']);

    // The non-staff columns carry no trace of the internal component or note.
    const outside = JSON.stringify([pub, eu]);
    expect(outside).not.toContain('Job queue');
    expect(outside).not.toContain('db-primary');
  });

  it('saves and publishes nothing, and leaves live statuses alone', async () => {
    const before = await hub.snapshotCounts();
    const cursor = (await hub.gql<{ liveCursor: number }>('{ liveCursor }')).data!.liveCursor;
    const result = await hub.gql(preview, { input: withIds(declare) }, { token: writer, audience: 'internal' });
    expect(result.errors).toBeUndefined();
    expect(await hub.snapshotCounts()).toEqual(before);
    expect((await hub.gql<{ liveCursor: number }>('{ liveCursor }')).data!.liveCursor).toBe(cursor);
    const status = await hub.gql<{ status: { indicator: string } }>('{ status { indicator } }');
    expect(status.data!.status.indicator).toBe('none');
    // No sequence number was spent: the next real change takes the very next one.
    await catalog.setComponentStatus(hub.system, ids.api!, 'operational');
    expect((await hub.gql<{ liveCursor: number }>('{ liveCursor }')).data!.liveCursor).toBe(cursor + 1);
  });

  it.skipIf(!process.env.DATABASE_URL)('does not wait for the event lock that serialises writers', async () => {
    // Another writer holds the event lock (as a long transaction would): a preview still answers.
    const holder = await hub.database.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(727275)`);
      return hub.gql(preview, { input: withIds(declare) }, { token: writer, audience: 'internal' });
    });
    expect(holder.errors).toBeUndefined();
    expect(holder.data.previewIncident).toHaveLength(3);
  });

  it('an internal incident: only staff would see it, and the public banner stays as it is', async () => {
    const result = await hub.gql<{ previewIncident: Preview[] }>(
      preview,
      { input: { ...withIds(declare), visibility: 'internal', components: [{ componentId: ids.queue, status: 'major_outage' }] } },
      { token: writer, audience: 'internal' },
    );
    const [pub, staff] = result.data!.previewIncident;
    expect(pub).toMatchObject({ audience: 'public', sees: false, incident: null, status: { indicator: 'none', description: 'All Systems Operational' } });
    expect(staff).toMatchObject({ audience: 'internal', sees: true });
  });

  it('answers invalid input with the same typed error createIncident gives, and changes nothing', async () => {
    const before = await hub.snapshotCounts();
    const result = await hub.gql(preview, { input: { message: 'no title' } }, { token: writer, audience: 'internal' });
    expect(result.errors?.[0]?.extensions?.code).toBe('input/invalid');
    expect(result.errors?.[0]?.message).toMatch(/title/);
    expect(await hub.snapshotCounts()).toEqual(before);
  });

  it('needs both staff eyes and the right to declare', async () => {
    for (const [token, audience] of [
      [reader, 'internal'],
      [publicWriter, 'public'],
      [undefined, 'public'],
    ] as const) {
      const result = await hub.gql(preview, { input: withIds(declare) }, { token, audience });
      expect(result.errors?.[0]?.extensions?.code, `${token ? 'token' : 'anonymous'} as ${audience}`).toMatch(/^auth\//);
      expect(result.data?.previewIncident ?? null).toBeNull();
    }
  });
});

describe('response metrics', () => {
  const create = `mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { id startedAt staff { metrics { timeToFirstUpdateSeconds averageUpdateIntervalSeconds timeToResolveSeconds publicUpdateCount } } } }`;
  const metrics = `query ($days: Int!) { incidentMetrics(days: $days) { days incidentCount resolvedCount medianTimeToFirstUpdateSeconds medianTimeToResolveSeconds p90TimeToResolveSeconds averageUpdateIntervalSeconds } }`;

  it('measures from a declared start in the past: time to first update, cadence, time to resolve', async () => {
    const startedAt = new Date(Date.now() - 10 * 60_000).toISOString();
    const created = await hub.gql(create, { input: { title: 'Slow logins', message: 'Investigating.', startedAt } }, { token: writer, audience: 'internal' });
    expect(created.errors).toBeUndefined();
    const incident = created.data.createIncident;
    expect(incident.startedAt).toBe(startedAt);
    expect(incident.staff.metrics.timeToFirstUpdateSeconds).toBeGreaterThanOrEqual(599);
    expect(incident.staff.metrics.timeToFirstUpdateSeconds).toBeLessThan(660);
    expect(incident.staff.metrics).toMatchObject({ publicUpdateCount: 1, averageUpdateIntervalSeconds: null, timeToResolveSeconds: null });

    const resolved = await hub.gql(
      `mutation ($id: ID!) { resolveIncident(id: $id) { staff { metrics { timeToResolveSeconds publicUpdateCount averageUpdateIntervalSeconds } } } }`,
      { id: incident.id },
      { token: writer, audience: 'internal' },
    );
    expect(resolved.data.resolveIncident.staff.metrics.publicUpdateCount).toBe(2);
    expect(resolved.data.resolveIncident.staff.metrics.timeToResolveSeconds).toBeGreaterThanOrEqual(599);
    expect(resolved.data.resolveIncident.staff.metrics.averageUpdateIntervalSeconds).toBeLessThan(60);

    const summary = await hub.gql(metrics, { days: 30 }, { token: reader, audience: 'internal' });
    expect(summary.errors).toBeUndefined();
    expect(summary.data.incidentMetrics.incidentCount).toBeGreaterThanOrEqual(1);
    expect(summary.data.incidentMetrics.resolvedCount).toBeGreaterThanOrEqual(1);
    expect(summary.data.incidentMetrics.medianTimeToResolveSeconds).toBeGreaterThan(0);
  });

  it('rejects a start in the future and an out-of-range window; the public cannot read metrics', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const before = await hub.snapshotCounts();
    const rejected = await hub.gql(create, { input: { title: 'x', message: 'y', startedAt: future } }, { token: writer, audience: 'internal' });
    expect(rejected.errors?.[0]?.extensions?.code).toBe('input/invalid');
    expect(rejected.errors?.[0]?.message).toMatch(/startedAt/);
    expect(await hub.snapshotCounts()).toEqual(before);

    expect((await hub.gql(metrics, { days: 0 }, { token: reader, audience: 'internal' })).errors?.[0]?.extensions?.code).toBe('input/invalid');
    expect((await hub.gql(metrics, { days: 30 })).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
  });

  it('an internal incident has no public updates to measure', () => {
    const at = (min: number) => new Date(Date.UTC(2026, 10, 1, 12, min));
    const incident = { visibility: 'internal', startedAt: at(0), resolvedAt: at(30) } as IncidentRow;
    const updates = [{ createdAt: at(5) }, { createdAt: at(30) }] as IncidentUpdateRow[];
    expect(incidentMetrics(incident, updates)).toEqual({ timeToFirstUpdateSeconds: null, averageUpdateIntervalSeconds: null, timeToResolveSeconds: 1800, publicUpdateCount: 0 });
    expect(incidentMetrics({ ...incident, visibility: 'public' }, [...updates, { createdAt: at(20) } as IncidentUpdateRow])).toEqual({
      timeToFirstUpdateSeconds: 300,
      averageUpdateIntervalSeconds: 750,
      timeToResolveSeconds: 1800,
      publicUpdateCount: 3,
    });
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(percentile([], 0.5)).toBeNull();
  });
});

describe('SLO targets and error budgets', () => {
  const read = `query ($id: ID!) { component(id: $id) { staff { sloTarget errorBudgetRemaining(days: 30) } } }`;
  const patch = `mutation ($id: ID!, $patch: ComponentPatch!) { updateComponent(id: $id, patch: $patch) { staff { sloTarget } } }`;

  it('staff set, read and clear a target; a component that was never down has its whole budget', async () => {
    const set = await hub.gql(patch, { id: ids.api, patch: { sloTarget: 99.9 } }, { token: writer, audience: 'internal' });
    expect(set.errors).toBeUndefined();
    const staff = await hub.gql(read, { id: ids.api }, { token: reader, audience: 'internal' });
    expect(staff.data.component.staff).toEqual({ sloTarget: 99.9, errorBudgetRemaining: 100 });
    // The public reads the component, never its staff details; the target is not even selected.
    const pub = await hub.gql(read, { id: ids.api });
    expect(pub.data?.component?.staff ?? null).toBeNull();
    const asPublic = { ...hub.system.viewer, audience: publicAudience };
    expect((await listComponents(hub.database.db, asPublic, { ids: [ids.api!] }))[0]).toMatchObject({ name: 'Public API', sloTarget: null });
    expect((await listComponents(hub.database.db, hub.system.viewer, { ids: [ids.api!] }))[0]!.sloTarget).toBe(99.9);
    const cleared = await hub.gql(patch, { id: ids.api, patch: { sloTarget: null } }, { token: writer, audience: 'internal' });
    expect(cleared.data.updateComponent.staff.sloTarget).toBeNull();
    expect((await hub.gql(read, { id: ids.api }, { token: reader, audience: 'internal' })).data.component.staff.errorBudgetRemaining).toBeNull();
  });

  it('rejects a target of 100 % or more (no budget) and nonsense, changing nothing', async () => {
    for (const sloTarget of [100, 120, 10]) {
      const before = await hub.snapshotCounts();
      const result = await hub.gql(patch, { id: ids.euDb, patch: { sloTarget } }, { token: writer, audience: 'internal' });
      expect(result.errors?.[0]?.extensions?.code, String(sloTarget)).toBe('input/invalid');
      expect(result.errors?.[0]?.message).toMatch(/sloTarget/);
      expect(await hub.snapshotCounts()).toEqual(before);
    }
  });

  it('budget left is the share of allowed downtime not yet spent', () => {
    expect(errorBudgetRemaining(99.9, 100)).toBe(100);
    expect(errorBudgetRemaining(99.9, 99.95)).toBe(50);
    expect(errorBudgetRemaining(99.9, 99.9)).toBe(0);
    expect(errorBudgetRemaining(99.9, 99.8)).toBe(-100);
    expect(errorBudgetRemaining(null, 99)).toBeNull();
    expect(errorBudgetRemaining(99, null)).toBeNull();
  });
});
