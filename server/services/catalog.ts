import { and, asc, count, eq, inArray, notInArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  componentGroups,
  components,
  deployments,
  incidentComponents,
  incidents,
  maintenanceComponents,
  maintenances,
  type ComponentGroupRow,
  type ComponentRow,
  type DeploymentRow,
} from '../db/tables/index.js';
import { DomainError, invalidInput, notFound } from '../domain/errors.js';
import { id, inputSchema, isId, text } from '../domain/validate.js';
import { componentStatuses, deploymentAccesses, visibilities, worstComponentStatus, type ComponentStatus } from '../domain/vocabulary.js';
import { componentVisible, deploymentVisible, groupVisible } from '../read/visibility.js';
import { requirePermission, transact, type ServiceContext, type Writer } from './context.js';

/** Writes to deployments, component groups and components. */

const deploymentInput = inputSchema(
  {
    slug: text.slug,
    name: text.name,
    description: text.description,
    access: z.enum(deploymentAccesses),
    sortOrder: z.number().int(),
    autoSubscribeCustomers: z.boolean(),
  },
  { description: '', access: 'open', sortOrder: 0, autoSubscribeCustomers: false },
);

const groupInput = inputSchema(
  {
    name: text.name,
    description: text.description,
    visibility: z.enum(visibilities),
    deploymentId: id.nullable(),
    sortOrder: z.number().int(),
  },
  { description: '', visibility: 'public', deploymentId: null, sortOrder: 0 },
);

const componentInput = inputSchema(
  {
    name: text.name,
    description: text.description,
    status: z.enum(componentStatuses),
    visibility: z.enum(visibilities),
    groupId: id.nullable(),
    sortOrder: z.number().int(),
    // An objective of 100 % leaves no error budget at all; below 50 % is surely a typo.
    sloTarget: z.number().min(50).lt(100).nullable(),
  },
  { description: '', status: 'operational', visibility: 'public', groupId: null, sortOrder: 0, sloTarget: null },
);

type CreateInput<S extends { create: (i: never) => unknown }> = Parameters<S['create']>[0];
type PatchInput<S extends { patch: (i: never) => unknown }> = Parameters<S['patch']>[0];

/**
 * The lock helpers find only what the caller's audience can see (server/read/visibility.ts): a
 * write to anything else answers not_found, exactly like a read, and changes nothing.
 */
async function lockDeployment(w: Writer, ctx: ServiceContext, deploymentId: string): Promise<DeploymentRow> {
  if (!isId(deploymentId)) throw notFound('deployment');
  const [row] = await w.tx
    .select()
    .from(deployments)
    .where(and(eq(deployments.id, deploymentId), eq(deployments.pageId, ctx.viewer.page.id), deploymentVisible(ctx.viewer.audience)))
    .for('update');
  if (!row) throw notFound('deployment');
  return row;
}

async function lockGroup(w: Writer, ctx: ServiceContext, groupId: string): Promise<ComponentGroupRow> {
  if (!isId(groupId)) throw notFound('group');
  const [row] = await w.tx
    .select()
    .from(componentGroups)
    .where(and(eq(componentGroups.id, groupId), eq(componentGroups.pageId, ctx.viewer.page.id), groupVisible(ctx.viewer.audience)))
    .for('update');
  if (!row) throw notFound('group');
  return row;
}

/** `consequence`: a status change that follows from an incident or maintenance, not a target the caller named. */
export async function lockComponent(w: Writer, ctx: ServiceContext, componentId: string, consequence = false): Promise<ComponentRow> {
  if (!isId(componentId)) throw notFound('component');
  const [row] = await w.tx
    .select()
    .from(components)
    .where(and(eq(components.id, componentId), eq(components.pageId, ctx.viewer.page.id), consequence ? undefined : componentVisible(ctx.viewer.audience)))
    .for('update');
  if (!row) throw notFound('component');
  return row;
}

async function assertSlugFree(w: Writer, ctx: ServiceContext, slug: string, exceptId?: string): Promise<void> {
  const [taken] = await w.tx
    .select({ id: deployments.id })
    .from(deployments)
    .where(and(eq(deployments.pageId, ctx.viewer.page.id), eq(deployments.slug, slug)));
  if (taken && taken.id !== exceptId) throw new DomainError('deployment/slug_taken', `A deployment with slug "${slug}" already exists`, { field: 'slug' });
}

// ── deployments ────────────────────────────────────────────────────────────────

export async function createDeployment(ctx: ServiceContext, input: CreateInput<typeof deploymentInput>): Promise<DeploymentRow> {
  requirePermission(ctx, 'write:components');
  const data = deploymentInput.create(input);
  // Subscribing customers is subscriber policy: an admin's call (server/services/customers.ts).
  if (data.autoSubscribeCustomers) requirePermission(ctx, 'admin');
  return transact(ctx, async (w) => {
    await assertSlugFree(w, ctx, data.slug);
    const [row] = await w.tx.insert(deployments).values({ ...data, pageId: ctx.viewer.page.id }).returning();
    await w.record({ action: 'deployment.created', entityType: 'deployment', entityId: row!.id, after: row! });
    return row!;
  });
}

export async function updateDeployment(ctx: ServiceContext, deploymentId: string, patch: PatchInput<typeof deploymentInput>): Promise<DeploymentRow> {
  requirePermission(ctx, 'write:components');
  const data = deploymentInput.patch(patch);
  if (data.autoSubscribeCustomers !== undefined) requirePermission(ctx, 'admin');
  return transact(ctx, async (w) => {
    const before = await lockDeployment(w, ctx, deploymentId);
    if (data.slug !== undefined) await assertSlugFree(w, ctx, data.slug, deploymentId);
    // An empty patch changes nothing (drizzle refuses an UPDATE without columns).
    const [row] = Object.keys(data).length ? await w.tx.update(deployments).set(data).where(eq(deployments.id, deploymentId)).returning() : [before];
    await w.record({ action: 'deployment.updated', entityType: 'deployment', entityId: deploymentId, before, after: row! });
    return row!;
  });
}

export async function deleteDeployment(ctx: ServiceContext, deploymentId: string): Promise<DeploymentRow> {
  requirePermission(ctx, 'write:components');
  return transact(ctx, async (w) => {
    const before = await lockDeployment(w, ctx, deploymentId);
    const [owned] = await w.tx.select({ n: count() }).from(componentGroups).where(eq(componentGroups.deploymentId, deploymentId));
    if (owned!.n > 0) throw new DomainError('deployment/has_groups', 'Move or delete the deployment\'s groups first');
    await w.tx.delete(deployments).where(eq(deployments.id, deploymentId));
    await w.record({ action: 'deployment.deleted', entityType: 'deployment', entityId: deploymentId, before });
    return before;
  });
}

// ── groups ─────────────────────────────────────────────────────────────────────

export async function createGroup(ctx: ServiceContext, input: CreateInput<typeof groupInput>): Promise<ComponentGroupRow> {
  requirePermission(ctx, 'write:components');
  const data = groupInput.create(input);
  return transact(ctx, async (w) => {
    if (data.deploymentId) await lockDeployment(w, ctx, data.deploymentId).catch(() => Promise.reject(invalidInput('deploymentId', 'no such deployment')));
    const [row] = await w.tx.insert(componentGroups).values({ ...data, pageId: ctx.viewer.page.id }).returning();
    await w.record({ action: 'group.created', entityType: 'group', entityId: row!.id, after: row! });
    return row!;
  });
}

export async function updateGroup(ctx: ServiceContext, groupId: string, patch: PatchInput<typeof groupInput>): Promise<ComponentGroupRow> {
  requirePermission(ctx, 'write:components');
  const data = groupInput.patch(patch);
  return transact(ctx, async (w) => {
    const before = await lockGroup(w, ctx, groupId);
    if (data.deploymentId) await lockDeployment(w, ctx, data.deploymentId).catch(() => Promise.reject(invalidInput('deploymentId', 'no such deployment')));
    const [row] = Object.keys(data).length ? await w.tx.update(componentGroups).set(data).where(eq(componentGroups.id, groupId)).returning() : [before];
    await w.record({ action: 'group.updated', entityType: 'group', entityId: groupId, before, after: row! });
    return row!;
  });
}

export async function deleteGroup(ctx: ServiceContext, groupId: string): Promise<ComponentGroupRow> {
  requirePermission(ctx, 'write:components');
  return transact(ctx, async (w) => {
    const before = await lockGroup(w, ctx, groupId);
    const [held] = await w.tx.select({ n: count() }).from(components).where(eq(components.groupId, groupId));
    if (held!.n > 0) throw new DomainError('group/has_components', 'Move or delete the group\'s components first');
    await w.tx.delete(componentGroups).where(eq(componentGroups.id, groupId));
    await w.record({ action: 'group.deleted', entityType: 'group', entityId: groupId, before });
    return before;
  });
}

// ── components ─────────────────────────────────────────────────────────────────

export async function createComponent(ctx: ServiceContext, input: CreateInput<typeof componentInput>): Promise<ComponentRow> {
  requirePermission(ctx, 'write:components');
  const data = componentInput.create(input);
  return transact(ctx, async (w) => {
    if (data.groupId) await lockGroup(w, ctx, data.groupId).catch(() => Promise.reject(invalidInput('groupId', 'no such group')));
    const [row] = await w.tx.insert(components).values({ ...data, pageId: ctx.viewer.page.id }).returning();
    await w.record({ action: 'component.created', entityType: 'component', entityId: row!.id, after: row! });
    return row!;
  });
}

export async function updateComponent(ctx: ServiceContext, componentId: string, patch: PatchInput<typeof componentInput>): Promise<ComponentRow> {
  requirePermission(ctx, 'write:components');
  const data = componentInput.patch(patch);
  return transact(ctx, async (w) => {
    const before = await lockComponent(w, ctx, componentId);
    if (data.groupId) await lockGroup(w, ctx, data.groupId).catch(() => Promise.reject(invalidInput('groupId', 'no such group')));
    const [row] = await w.tx
      .update(components)
      .set({ ...data, updatedAt: sql`now()` })
      .where(eq(components.id, componentId))
      .returning();
    await w.record({ action: 'component.updated', entityType: 'component', entityId: componentId, before, after: row! });
    return row!;
  });
}

/** Quick status change (and what incidents and maintenance call for each affected component). */
export async function setComponentStatus(ctx: ServiceContext, componentId: string, status: string): Promise<ComponentRow> {
  return updateComponent(ctx, componentId, { status: status as ComponentRow['status'] });
}

export async function deleteComponent(ctx: ServiceContext, componentId: string): Promise<ComponentRow> {
  requirePermission(ctx, 'write:components');
  return transact(ctx, async (w) => {
    const before = await lockComponent(w, ctx, componentId);
    const detachedIncidents = await w.tx
      .select({ id: incidents.id, visibility: incidents.visibility, pageWide: incidents.pageWide })
      .from(incidentComponents)
      .innerJoin(incidents, eq(incidents.id, incidentComponents.incidentId))
      .where(eq(incidentComponents.componentId, componentId));
    const detachedMaintenances = await w.tx
      .select({ id: maintenances.id, visibility: maintenances.visibility, pageWide: maintenances.pageWide })
      .from(maintenanceComponents)
      .innerJoin(maintenances, eq(maintenances.id, maintenanceComponents.maintenanceId))
      .where(eq(maintenanceComponents.componentId, componentId));
    await w.tx.delete(components).where(eq(components.id, componentId));
    await w.record({ action: 'component.deleted', entityType: 'component', entityId: componentId, before });
    // The link rows cascade away. Each incident and maintenance that lost a component gets an event
    // of its own, so live viewers that only saw it through that component are told it is gone
    // (visibility can only narrow here: see server/read/visibility.ts).
    for (const { id, ...scope } of detachedIncidents) {
      await w.record({ action: 'incident.component_detached', entityType: 'incident', entityId: id, before: { ...scope, componentIds: [componentId] } });
    }
    for (const { id, ...scope } of detachedMaintenances) {
      await w.record({ action: 'maintenance.component_detached', entityType: 'maintenance', entityId: id, before: { ...scope, componentIds: [componentId] } });
    }
    return before;
  });
}

/**
 * Set a component's status inside a larger write (incident, maintenance), recording the change.
 * Returns the row unchanged when the status already matches.
 */
export async function applyComponentStatus(w: Writer, ctx: ServiceContext, componentId: string, status: ComponentRow['status'], cause: string): Promise<ComponentRow> {
  const before = await lockComponent(w, ctx, componentId, true);
  if (before.status === status) return before;
  const [row] = await w.tx.update(components).set({ status, updatedAt: sql`now()` }).where(eq(components.id, componentId)).returning();
  await w.record({ action: 'component.status_changed', entityType: 'component', entityId: componentId, before, after: { ...row!, cause } });
  return row!;
}

/**
 * Put components back to what still affects them once an incident or maintenance lets go (or
 * takes hold): the worst of the statuses their unresolved incidents give them, `under_maintenance`
 * while a maintenance is in progress on them, `operational` when nothing does. Reads the
 * transaction's own state, so call it after the incident's or maintenance's rows are written.
 */
export async function settleComponentStatuses(w: Writer, ctx: ServiceContext, componentIds: readonly string[], cause: string): Promise<void> {
  const ids = [...new Set(componentIds)].sort();
  if (!ids.length) return;
  // NOTE: lock the components (in id order, so writers never deadlock) before reading what holds
  // them: two incidents on one component resolved at once would otherwise each see the other
  // still open, and the component would stay degraded.
  await w.tx.select({ id: components.id }).from(components).where(inArray(components.id, ids)).orderBy(asc(components.id)).for('update');
  const fromIncidents = await w.tx
    .select({ componentId: incidentComponents.componentId, status: incidentComponents.status })
    .from(incidentComponents)
    .innerJoin(incidents, eq(incidents.id, incidentComponents.incidentId))
    .where(and(eq(incidents.pageId, ctx.viewer.page.id), inArray(incidentComponents.componentId, ids), notInArray(incidents.status, ['resolved', 'postmortem'])));
  const fromMaintenance = await w.tx
    .select({ componentId: maintenanceComponents.componentId })
    .from(maintenanceComponents)
    .innerJoin(maintenances, eq(maintenances.id, maintenanceComponents.maintenanceId))
    .where(and(eq(maintenances.pageId, ctx.viewer.page.id), inArray(maintenanceComponents.componentId, ids), eq(maintenances.status, 'in_progress')));
  const holding = new Map<string, ComponentStatus[]>(ids.map((id) => [id, []]));
  for (const row of fromIncidents) holding.get(row.componentId)!.push(row.status);
  for (const row of fromMaintenance) holding.get(row.componentId)!.push('under_maintenance');
  for (const id of ids) await applyComponentStatus(w, ctx, id, worstComponentStatus(holding.get(id)!), cause);
}
