import { and, asc, eq, inArray, lte, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  components,
  maintenanceComponents,
  maintenances,
  type MaintenanceRow,
} from '../db/tables/index.js';
import { DomainError, invalidInput, notFound } from '../domain/errors.js';
import type { MaintenanceRecord } from '../domain/events.js';
import { id, inputSchema, isId, text } from '../domain/validate.js';
import { visibilities } from '../domain/vocabulary.js';
import { componentVisible, maintenanceVisible } from '../read/visibility.js';
import { settleComponentStatuses } from './catalog.js';
import { guardPublication, type PublishOptions } from './publication.js';
import { requirePermission, transact, type ServiceContext, type Writer } from './context.js';

/** Writes to scheduled maintenance, and the clock that moves it along. */

const maintenanceInput = inputSchema(
  {
    title: text.title,
    body: text.body,
    visibility: z.enum(visibilities),
    scheduledStart: z.date({ error: 'must be a date' }),
    scheduledEnd: z.date({ error: 'must be a date' }),
    autoTransition: z.boolean(),
    componentIds: z.array(id).max(500, 'at most 500 components'),
    // Defaults to true only for a maintenance created without components (see createMaintenance).
    pageWide: z.boolean().optional(),
  },
  { body: '', visibility: 'public', autoTransition: true, componentIds: [] },
);

type CreateInput = Parameters<typeof maintenanceInput.create>[0];
type PatchInput = Parameters<typeof maintenanceInput.patch>[0];

const editable = ['scheduled', 'in_progress'] as const;

function assertWindow(start: Date, end: Date): void {
  if (end.getTime() <= start.getTime()) throw invalidInput('scheduledEnd', 'must be after scheduledStart');
}

async function lockMaintenance(w: Writer, ctx: ServiceContext, maintenanceId: string): Promise<MaintenanceRow> {
  if (!isId(maintenanceId)) throw notFound('maintenance');
  const [row] = await w.tx
    .select()
    .from(maintenances)
    .where(and(eq(maintenances.id, maintenanceId), eq(maintenances.pageId, ctx.viewer.page.id), maintenanceVisible(ctx.viewer.audience)))
    .for('update');
  if (!row) throw notFound('maintenance');
  return row;
}

async function componentIdsOf(w: Writer, maintenanceId: string): Promise<string[]> {
  const rows = await w.tx
    .select({ id: maintenanceComponents.componentId })
    .from(maintenanceComponents)
    .where(eq(maintenanceComponents.maintenanceId, maintenanceId))
    .orderBy(asc(maintenanceComponents.componentId));
  return rows.map((r) => r.id);
}

/** Every id must name a component of this page the caller can see; one unknown id rejects the whole write. */
async function assertComponentsExist(w: Writer, ctx: ServiceContext, ids: string[]): Promise<void> {
  if (!ids.length) return;
  const found = await w.tx
    .select({ id: components.id })
    .from(components)
    .where(and(eq(components.pageId, ctx.viewer.page.id), inArray(components.id, ids), componentVisible(ctx.viewer.audience)));
  if (found.length !== ids.length) throw invalidInput('componentIds', 'no such component');
}

async function replaceComponents(w: Writer, maintenanceId: string, componentIds: string[]): Promise<void> {
  await w.tx.delete(maintenanceComponents).where(eq(maintenanceComponents.maintenanceId, maintenanceId));
  if (componentIds.length) await w.tx.insert(maintenanceComponents).values(componentIds.map((componentId) => ({ maintenanceId, componentId })));
}

const unique = (ids: string[]) => [...new Set(ids)];

// ── writes ─────────────────────────────────────────────────────────────────────

/** Schedule a maintenance window over some components; a public one's title and body pass the publication guard. */
export async function createMaintenance(ctx: ServiceContext, input: CreateInput, options: PublishOptions = {}): Promise<MaintenanceRecord> {
  requirePermission(ctx, 'write:maintenance');
  const { componentIds: rawIds, ...data } = maintenanceInput.create(input);
  assertWindow(data.scheduledStart, data.scheduledEnd);
  const guard = data.visibility === 'public' ? guardPublication([{ field: 'title', text: data.title }, { field: 'body', text: data.body }], options) : {};
  const componentIds = unique(rawIds).sort();
  return transact(ctx, async (w) => {
    await assertComponentsExist(w, ctx, componentIds);
    // Without components it can only mean "everyone"; with them, their audiences unless widened explicitly.
    const pageWide = data.pageWide ?? componentIds.length === 0;
    const [row] = await w.tx.insert(maintenances).values({ ...data, pageWide, pageId: ctx.viewer.page.id }).returning();
    await replaceComponents(w, row!.id, componentIds);
    const after = { ...row!, componentIds };
    await w.record({ action: 'maintenance.created', entityType: 'maintenance', entityId: row!.id, after: { ...after, ...guard } });
    return after;
  });
}

/**
 * Edit a maintenance that has not finished. While it is in progress, components added go
 * under maintenance at once and components removed return to what still affects them. New text
 * of a public maintenance passes the publication guard, and so does all of it when it is made public.
 */
export async function updateMaintenance(ctx: ServiceContext, maintenanceId: string, patch: PatchInput, options: PublishOptions = {}): Promise<MaintenanceRecord> {
  requirePermission(ctx, 'write:maintenance');
  const { componentIds: rawIds, ...data } = maintenanceInput.patch(patch);
  return transact(ctx, async (w) => {
    const row = await lockMaintenance(w, ctx, maintenanceId);
    if (!(editable as readonly string[]).includes(row.status)) throw notEditable(row);
    assertWindow(data.scheduledStart ?? row.scheduledStart, data.scheduledEnd ?? row.scheduledEnd);
    const becomesPublic = data.visibility === 'public' && row.visibility !== 'public';
    const guard =
      (data.visibility ?? row.visibility) === 'public'
        ? guardPublication(
            [
              { field: 'title', text: becomesPublic ? (data.title ?? row.title) : data.title },
              { field: 'body', text: becomesPublic ? (data.body ?? row.body) : data.body },
            ],
            options,
          )
        : {};
    const oldIds = await componentIdsOf(w, maintenanceId);
    const newIds = rawIds ? unique(rawIds).sort() : oldIds;
    if (rawIds) {
      await assertComponentsExist(w, ctx, newIds);
      await replaceComponents(w, maintenanceId, newIds);
    }
    const [updated] = await w.tx
      .update(maintenances)
      .set({ ...data, updatedAt: sql`now()` })
      .where(eq(maintenances.id, maintenanceId))
      .returning();
    const before = { ...row, componentIds: oldIds };
    const after = { ...updated!, componentIds: newIds };
    await w.record({ action: 'maintenance.updated', entityType: 'maintenance', entityId: maintenanceId, before, after: { ...after, ...guard } });
    if (row.status === 'in_progress' && rawIds) {
      await settleComponentStatuses(w, ctx, newIds.filter((c) => !oldIds.includes(c)), `maintenance:${maintenanceId}`);
      await settleComponentStatuses(w, ctx, oldIds.filter((c) => !newIds.includes(c)), `maintenance:${maintenanceId}`);
    }
    return after;
  });
}

/** Call a maintenance off; if it had started, its components return to what still affects them. */
export async function cancelMaintenance(ctx: ServiceContext, maintenanceId: string): Promise<MaintenanceRecord> {
  requirePermission(ctx, 'write:maintenance');
  return transact(ctx, async (w) => {
    const row = await lockMaintenance(w, ctx, maintenanceId);
    if (!(editable as readonly string[]).includes(row.status)) throw notEditable(row);
    const componentIds = await componentIdsOf(w, maintenanceId);
    const [updated] = await w.tx
      .update(maintenances)
      .set({ status: 'cancelled', updatedAt: sql`now()` })
      .where(eq(maintenances.id, maintenanceId))
      .returning();
    const after = { ...updated!, componentIds };
    await w.record({ action: 'maintenance.cancelled', entityType: 'maintenance', entityId: maintenanceId, before: { ...row, componentIds }, after });
    if (row.status === 'in_progress') await settleComponentStatuses(w, ctx, componentIds, `maintenance:${maintenanceId}`);
    return after;
  });
}

/** Start a scheduled maintenance now (the manual path, e.g. when `autoTransition` is off). */
export async function startMaintenance(ctx: ServiceContext, maintenanceId: string, now = new Date()): Promise<MaintenanceRecord> {
  requirePermission(ctx, 'write:maintenance');
  return transact(ctx, async (w) => {
    const row = await lockMaintenance(w, ctx, maintenanceId);
    if (row.status !== 'scheduled') throw notEditable(row);
    return begin(w, ctx, row, now);
  });
}

/** Finish an in-progress maintenance now (the manual path). */
export async function completeMaintenance(ctx: ServiceContext, maintenanceId: string, now = new Date()): Promise<MaintenanceRecord> {
  requirePermission(ctx, 'write:maintenance');
  return transact(ctx, async (w) => {
    const row = await lockMaintenance(w, ctx, maintenanceId);
    if (row.status !== 'in_progress') throw notEditable(row);
    return finish(w, ctx, row, now);
  });
}

function notEditable(row: MaintenanceRow): DomainError {
  return new DomainError('maintenance/not_editable', `The maintenance is ${row.status.replace('_', ' ')}`);
}

async function begin(w: Writer, ctx: ServiceContext, row: MaintenanceRow, now: Date): Promise<MaintenanceRecord> {
  const componentIds = await componentIdsOf(w, row.id);
  const [updated] = await w.tx
    .update(maintenances)
    .set({ status: 'in_progress', startedAt: now, updatedAt: sql`now()` })
    .where(eq(maintenances.id, row.id))
    .returning();
  const after = { ...updated!, componentIds };
  await w.record({ action: 'maintenance.started', entityType: 'maintenance', entityId: row.id, before: { ...row, componentIds }, after });
  // NOTE: an unresolved incident's worse status wins over under_maintenance: an outage stays visible.
  await settleComponentStatuses(w, ctx, componentIds, `maintenance:${row.id}`);
  return after;
}

async function finish(w: Writer, ctx: ServiceContext, row: MaintenanceRow, now: Date): Promise<MaintenanceRecord> {
  const componentIds = await componentIdsOf(w, row.id);
  const [updated] = await w.tx
    .update(maintenances)
    .set({ status: 'completed', completedAt: now, updatedAt: sql`now()` })
    .where(eq(maintenances.id, row.id))
    .returning();
  const after = { ...updated!, componentIds };
  await w.record({ action: 'maintenance.completed', entityType: 'maintenance', entityId: row.id, before: { ...row, componentIds }, after });
  await settleComponentStatuses(w, ctx, componentIds, `maintenance:${row.id}`);
  return after;
}

/**
 * The clock: start every auto-transitioning maintenance whose start has come and complete every
 * one whose end has passed (both, when a node was down through the whole window). One
 * transaction per maintenance, each re-checked under a row lock, so nodes ticking at the same
 * time never transition one twice. Returns the maintenances it moved, in their new state.
 */
export async function advanceMaintenances(ctx: ServiceContext, now: Date = new Date()): Promise<MaintenanceRecord[]> {
  requirePermission(ctx, 'write:maintenance');
  const due = await ctx.db
    .select({ id: maintenances.id })
    .from(maintenances)
    .where(
      and(
        eq(maintenances.pageId, ctx.viewer.page.id),
        eq(maintenances.autoTransition, true),
        or(
          and(eq(maintenances.status, 'scheduled'), lte(maintenances.scheduledStart, now)),
          and(eq(maintenances.status, 'in_progress'), lte(maintenances.scheduledEnd, now)),
        ),
      ),
    )
    .orderBy(asc(maintenances.scheduledStart), asc(maintenances.id));
  const moved: MaintenanceRecord[] = [];
  for (const { id: maintenanceId } of due) {
    const result = await transact(ctx, async (w) => {
      let row: MaintenanceRow = await lockMaintenance(w, ctx, maintenanceId);
      let record: MaintenanceRecord | null = null;
      if (!row.autoTransition) return null;
      if (row.status === 'scheduled' && row.scheduledStart <= now) {
        record = await begin(w, ctx, row, now);
        row = record;
      }
      if (row.status === 'in_progress' && row.scheduledEnd <= now) record = await finish(w, ctx, stripIds(row), now);
      return record;
    });
    if (result) moved.push(result);
  }
  return moved;
}

function stripIds(row: MaintenanceRow | MaintenanceRecord): MaintenanceRow {
  const { componentIds: _ignored, ...rest } = row as MaintenanceRecord;
  return rest;
}

