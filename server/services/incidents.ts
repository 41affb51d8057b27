import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  components,
  incidentComponents,
  incidentRoles,
  incidents,
  incidentUpdates,
  templates,
  type ComponentChange,
  type IncidentRow,
  type IncidentUpdateRow,
} from '../db/tables/index.js';
import { DomainError, InvalidInputError, invalidInput, notFound, type FieldIssue } from '../domain/errors.js';
import { id, inputSchema, isId, parseInput, text } from '../domain/validate.js';
import {
  componentStatuses,
  impacts,
  incidentRoles as roleNames,
  severities,
  updateStatuses,
  visibilities,
  type ComponentStatus,
  type IncidentRole,
} from '../domain/vocabulary.js';
import { actorRef } from '../auth/viewer.js';
import type { IncidentRecord, LoggedIncidentUpdate } from '../domain/events.js';
import { componentVisible, incidentVisible, templateVisible } from '../read/visibility.js';
import { applyComponentStatus, settleComponentStatuses } from './catalog.js';
import { requirePermission, transact, type ServiceContext, type Writer } from './context.js';
import { guardPublication, type PublishOptions } from './publication.js';
import { renderTemplate, type TemplateVars } from './templates.js';

/** Writes to incidents: their timeline, affected components, roles and postmortem. */

const closedStatuses = ['resolved', 'postmortem'] as const;
const isClosed = (status: IncidentRow['status']) => (closedStatuses as readonly string[]).includes(status);

// ── input ──────────────────────────────────────────────────────────────────────

const roleList = z
  .array(z.object({ role: z.enum(roleNames), assignee: text.name }))
  .max(roleNames.length, `must list at most ${roleNames.length} roles`)
  .superRefine((roles, issue) => {
    const seen = new Set<string>();
    roles.forEach((r, i) => {
      if (seen.has(r.role)) issue.addIssue({ code: 'custom', path: [i, 'role'], message: 'is assigned twice' });
      seen.add(r.role);
    });
  });

const componentList = z
  .array(z.object({ componentId: id, status: z.enum(componentStatuses) }))
  .max(500, 'must list at most 500 components')
  .superRefine((list, issue) => {
    const seen = new Set<string>();
    list.forEach((c, i) => {
      if (seen.has(c.componentId)) issue.addIssue({ code: 'custom', path: [i, 'componentId'], message: 'is listed twice' });
      seen.add(c.componentId);
    });
  });

const templateVars = z.object({
  service: z.string().max(200).nullish(),
  impact: z.string().max(200).nullish(),
  next_update: z.string().max(200).nullish(),
});

const createInput = inputSchema(
  {
    // Optional because a template can supply them; required otherwise (checked after rendering).
    title: text.title.optional(),
    message: text.message.optional(),
    templateId: id.nullable(),
    templateVars: templateVars.nullable(),
    status: z.enum(updateStatuses).optional(),
    impact: z.enum(impacts).optional(),
    visibility: z.enum(visibilities),
    // Defaults to true only for an incident declared without components (see pageWideFor).
    pageWide: z.boolean().optional(),
    severity: z.enum(severities).nullable(),
    warRoomUrl: text.url.nullable(),
    nextUpdateDueAt: z.date().nullable(),
    // Declared after the fact: response metrics measure from when it began, not from now.
    startedAt: z
      .date()
      .refine((d) => d.getTime() <= Date.now() + 60_000, 'must not be in the future')
      .nullable(),
    roles: roleList,
    components: componentList,
    internalNote: text.note.nullable(),
  },
  {
    templateId: null,
    templateVars: null,
    visibility: 'public',
    severity: null,
    warRoomUrl: null,
    nextUpdateDueAt: null,
    startedAt: null,
    roles: [],
    components: [],
    internalNote: null,
  },
);

const updateInput = inputSchema(
  {
    status: z.enum(updateStatuses),
    message: text.message,
    internalNote: text.note.nullable(),
    /** When given, the complete new set of affected components. */
    components: componentList.optional(),
    nextUpdateDueAt: z.date().nullable().optional(),
    /** Statuspage's `deliver_notifications`: false posts it without telling subscribers. */
    deliverNotifications: z.boolean(),
  },
  { internalNote: null, deliverNotifications: true },
);

const patchInput = inputSchema(
  {
    title: text.title,
    impact: z.enum(impacts),
    severity: z.enum(severities).nullable(),
    visibility: z.enum(visibilities),
    pageWide: z.boolean(),
    warRoomUrl: text.url.nullable(),
    nextUpdateDueAt: z.date().nullable(),
    roles: roleList,
  },
  {},
);

const resolveInput = inputSchema({ message: text.message, internalNote: text.note.nullable() }, { message: 'This incident has been resolved.', internalNote: null });

const postmortemInput = inputSchema({ body: text.body.trim().min(1, 'must not be empty') }, {});

const backfillInput = inputSchema(
  {
    title: text.title,
    impact: z.enum(impacts),
    visibility: z.enum(visibilities),
    pageWide: z.boolean().optional(),
    severity: z.enum(severities).nullable(),
    warRoomUrl: text.url.nullable(),
    roles: roleList,
    components: componentList,
    startedAt: z.date(),
    resolvedAt: z.date(),
    updates: z
      .array(z.object({ status: z.enum(updateStatuses), message: text.message, internalNote: text.note.nullish(), at: z.date() }))
      .min(1, 'must have at least one update')
      .max(200, 'must have at most 200 updates'),
    postmortem: text.body.nullable(),
  },
  { impact: 'none', visibility: 'public', severity: null, warRoomUrl: null, roles: [], components: [], postmortem: null },
);

type CreateInput<S extends { create: (i: never) => unknown }> = Parameters<S['create']>[0];
type PatchInput<S extends { patch: (i: never) => unknown }> = Parameters<S['patch']>[0];

export type CreateIncidentInput = CreateInput<typeof createInput>;
export type IncidentUpdateInput = CreateInput<typeof updateInput>;
export type IncidentPatch = PatchInput<typeof patchInput>;
export type BackfillIncidentInput = CreateInput<typeof backfillInput>;

type AffectedInput = { componentId: string; status: ComponentStatus }[];
type RolesInput = { role: IncidentRole; assignee: string }[];

// ── helpers ────────────────────────────────────────────────────────────────────

const emptyToNull = (note: string | null | undefined) => (note && note.trim() ? note : null);

/**
 * Page-wide unless it names components, or as staff chose. Only creation picks a default: later
 * edits to the component list never change it, so emptying the list hides rather than widens.
 */
const pageWideFor = (chosen: boolean | undefined, list: AffectedInput) => chosen ?? list.length === 0;

async function lockIncident(w: Writer, ctx: ServiceContext, incidentId: string): Promise<IncidentRow> {
  if (!isId(incidentId)) throw notFound('incident');
  const [row] = await w.tx
    .select()
    .from(incidents)
    .where(and(eq(incidents.id, incidentId), eq(incidents.pageId, ctx.viewer.page.id), incidentVisible(ctx.viewer.audience)))
    .for('update');
  if (!row) throw notFound('incident');
  return row;
}

/** Every component must be this page's and visible to the caller; all unknown ones are named, by their list position. */
async function assertComponentsExist(w: Writer, ctx: ServiceContext, list: AffectedInput, field = 'components'): Promise<void> {
  if (!list.length) return;
  const found = await w.tx
    .select({ id: components.id })
    .from(components)
    .where(and(eq(components.pageId, ctx.viewer.page.id), inArray(components.id, list.map((c) => c.componentId)), componentVisible(ctx.viewer.audience)));
  const known = new Set(found.map((c) => c.id));
  const issues: FieldIssue[] = list.flatMap((c, i) => (known.has(c.componentId) ? [] : [{ field: `${field}.${i}.componentId`, message: 'no such component' }]));
  if (issues.length) throw new InvalidInputError(issues);
}

async function loadRecord(w: Writer, row: IncidentRow): Promise<IncidentRecord> {
  const affected = await w.tx
    .select({ componentId: incidentComponents.componentId, status: incidentComponents.status })
    .from(incidentComponents)
    .where(eq(incidentComponents.incidentId, row.id))
    .orderBy(asc(incidentComponents.componentId));
  const roles = await w.tx
    .select({ role: incidentRoles.role, assignee: incidentRoles.assignee })
    .from(incidentRoles)
    .where(eq(incidentRoles.incidentId, row.id))
    .orderBy(asc(incidentRoles.role));
  return { ...row, components: affected, roles };
}

async function replaceAffected(w: Writer, incidentId: string, list: AffectedInput): Promise<void> {
  await w.tx.delete(incidentComponents).where(eq(incidentComponents.incidentId, incidentId));
  if (list.length) await w.tx.insert(incidentComponents).values(list.map((c) => ({ incidentId, ...c })));
}

async function replaceRoles(w: Writer, incidentId: string, roles: RolesInput): Promise<void> {
  await w.tx.delete(incidentRoles).where(eq(incidentRoles.incidentId, incidentId));
  if (roles.length) await w.tx.insert(incidentRoles).values(roles.map((r) => ({ incidentId, ...r })));
}

/** Give components the status this (open) incident says they have. */
async function applyAffected(w: Writer, ctx: ServiceContext, incidentId: string, list: AffectedInput): Promise<void> {
  // NOTE: sorted, so two writers touching the same components lock them in the same order.
  for (const c of [...list].sort((a, b) => (a.componentId < b.componentId ? -1 : 1))) {
    await applyComponentStatus(w, ctx, c.componentId, c.status, `incident:${incidentId}`);
  }
}

/** "May 4, 14:30 UTC" in the page's time zone, for `{next_update}`. */
function formatNextUpdate(at: Date, timeZone: string): string {
  const options: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' };
  try {
    return new Intl.DateTimeFormat('en-US', { ...options, timeZone }).format(at);
  } catch {
    return new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' }).format(at);
  }
}

async function insertUpdate(
  w: Writer,
  ctx: ServiceContext,
  incidentId: string,
  update: {
    status: IncidentUpdateRow['status'];
    message: string;
    internalNote?: string | null;
    createdAt?: Date;
    componentChanges?: ComponentChange[];
    deliverNotifications?: boolean;
  },
): Promise<IncidentUpdateRow> {
  const [row] = await w.tx
    .insert(incidentUpdates)
    .values({
      incidentId,
      status: update.status,
      message: update.message,
      internalNote: emptyToNull(update.internalNote),
      createdAt: update.createdAt,
      createdBy: actorRef(ctx.viewer.actor).actorName,
      componentChanges: update.componentChanges ?? [],
      deliverNotifications: update.deliverNotifications,
    })
    .returning();
  return row!;
}

/**
 * The live statuses (and names) of components, locked in id order like every other writer that
 * locks components, to compare before and after an update's writes.
 */
async function componentStates(w: Writer, ids: readonly string[]): Promise<Map<string, { name: string; status: ComponentStatus }>> {
  const unique = [...new Set(ids)].sort();
  if (!unique.length) return new Map();
  const rows = await w.tx
    .select({ id: components.id, name: components.name, status: components.status })
    .from(components)
    .where(inArray(components.id, unique))
    .orderBy(asc(components.id))
    .for('update');
  return new Map(rows.map((r) => [r.id, { name: r.name, status: r.status }]));
}

/** Record on the update what its writes did to the components' live statuses (old → new). */
async function recordComponentChanges(w: Writer, updateId: string, before: Map<string, { name: string; status: ComponentStatus }>): Promise<void> {
  const after = await componentStates(w, [...before.keys()]);
  const changes: ComponentChange[] = [];
  for (const [componentId, was] of before) {
    const now = after.get(componentId);
    if (now && now.status !== was.status) changes.push({ componentId, name: now.name, from: was.status, to: now.status });
  }
  if (changes.length) await w.tx.update(incidentUpdates).set({ componentChanges: changes }).where(eq(incidentUpdates.id, updateId));
}

/** The update as the event log records it; its component changes are the `component.status_changed` events that follow. */
const loggedUpdate = ({ componentChanges: _changes, ...update }: IncidentUpdateRow): LoggedIncidentUpdate => update;

// ── writes ─────────────────────────────────────────────────────────────────────

/**
 * Declare an incident: the incident row, its first public update, affected components (whose live
 * status changes in the same transaction) and role assignments. With `templateId` the template's
 * title, message, status and impact fill whatever the input leaves out, placeholders rendered
 * from `templateVars` (`{next_update}` defaults to `nextUpdateDueAt`). A public incident's title
 * and message pass the publication guard (`options.allowLeakOverride` publishes anyway, logged).
 */
export async function createIncident(ctx: ServiceContext, input: CreateIncidentInput, options: PublishOptions = {}): Promise<IncidentRecord> {
  requirePermission(ctx, 'write:incidents');
  const data = createInput.create(input);
  return transact(ctx, async (w) => {
    let { title, message, status, impact } = data;
    if (data.templateId) {
      const [template] = await w.tx
        .select()
        .from(templates)
        .where(and(eq(templates.id, data.templateId), eq(templates.pageId, ctx.viewer.page.id), eq(templates.kind, 'incident'), templateVisible(ctx.viewer.audience)));
      if (!template) throw invalidInput('templateId', 'no such incident template');
      const vars: TemplateVars = { ...data.templateVars };
      if (!vars.next_update && data.nextUpdateDueAt) vars.next_update = formatNextUpdate(data.nextUpdateDueAt, ctx.viewer.page.timeZone);
      title ??= renderTemplate(template.title, vars);
      message ??= renderTemplate(template.body, vars);
      status ??= template.status && template.status !== 'postmortem' ? template.status : undefined;
      impact ??= template.impact ?? undefined;
    }
    if (title === undefined) throw invalidInput('title', 'is required (or give a templateId)');
    if (message === undefined) throw invalidInput('message', 'is required (or give a templateId)');
    // Rendering can lengthen the text: check the result against the same limits.
    ({ title, message } = parseInput(z.object({ title: text.title, message: text.message }), { title, message }));
    status ??= 'investigating';
    const guard = data.visibility === 'public' ? guardPublication([{ field: 'title', text: title }, { field: 'message', text: message }], options) : {};
    await assertComponentsExist(w, ctx, data.components);

    const resolved = status === 'resolved';
    const [row] = await w.tx
      .insert(incidents)
      .values({
        pageId: ctx.viewer.page.id,
        title,
        status,
        impact: impact ?? 'none',
        visibility: data.visibility,
        pageWide: pageWideFor(data.pageWide, data.components),
        severity: data.severity,
        warRoomUrl: data.warRoomUrl,
        nextUpdateDueAt: resolved ? null : data.nextUpdateDueAt,
        // A start a few seconds ahead (clock skew) is taken as now.
        startedAt: data.startedAt && data.startedAt.getTime() < Date.now() ? data.startedAt : sql`now()`,
        resolvedAt: resolved ? sql`now()` : null,
      })
      .returning();
    const update = await insertUpdate(w, ctx, row!.id, { status, message, internalNote: data.internalNote });
    await replaceAffected(w, row!.id, data.components);
    await replaceRoles(w, row!.id, data.roles);
    const record = await loadRecord(w, row!);
    await w.record({ action: 'incident.created', entityType: 'incident', entityId: row!.id, after: { ...record, update: loggedUpdate(update), ...guard } });
    // An incident declared already resolved is a record of the past: live statuses stay as they are.
    if (!resolved) {
      const states = await componentStates(w, data.components.map((c) => c.componentId));
      await applyAffected(w, ctx, row!.id, data.components);
      await recordComponentChanges(w, update.id, states);
    }
    return record;
  });
}

/**
 * The shared body of posting an update: new timeline entry, incident status, optionally a new
 * set of affected components, and the live component statuses that follow from all of it.
 */
async function postUpdate(
  w: Writer,
  ctx: ServiceContext,
  before: IncidentRow,
  data: {
    status: (typeof updateStatuses)[number];
    message: string;
    internalNote: string | null;
    components?: AffectedInput;
    nextUpdateDueAt?: Date | null;
    deliverNotifications?: boolean;
  },
  options: PublishOptions,
): Promise<IncidentRecord> {
  // Before any write: a refused message leaves nothing behind.
  const guard = before.visibility === 'public' ? guardPublication([{ field: 'message', text: data.message }], options) : {};
  const beforeRecord = await loadRecord(w, before);
  if (data.components) {
    await assertComponentsExist(w, ctx, data.components);
    await replaceAffected(w, before.id, data.components);
  }
  const wasOpen = !isClosed(before.status);
  const resolving = data.status === 'resolved';
  const update = await insertUpdate(w, ctx, before.id, data);
  const [row] = await w.tx
    .update(incidents)
    .set({
      // A postmortem stays published when a late "resolved" note is added.
      status: resolving && before.status === 'postmortem' ? 'postmortem' : data.status,
      resolvedAt: resolving ? (before.resolvedAt ?? sql`now()`) : null,
      // Nothing more is due once resolved.
      nextUpdateDueAt: resolving ? null : data.nextUpdateDueAt === undefined ? before.nextUpdateDueAt : data.nextUpdateDueAt,
      updatedAt: sql`now()`,
    })
    .where(eq(incidents.id, before.id))
    .returning();
  const after = await loadRecord(w, row!);
  await w.record({ action: 'incident.update_posted', entityType: 'incident', entityId: before.id, before: beforeRecord, after: { ...after, update: loggedUpdate(update), ...guard } });
  if (resolving && wasOpen) await w.record({ action: 'incident.resolved', entityType: 'incident', entityId: before.id, before: beforeRecord, after });

  const previousIds = beforeRecord.components.map((c) => c.componentId);
  const states = await componentStates(w, [...previousIds, ...after.components.map((c) => c.componentId)]);
  if (!resolving) {
    // Open (or reopened): affected components show this incident's statuses; dropped ones settle.
    if (data.components || !wasOpen) await applyAffected(w, ctx, before.id, after.components);
    const kept = new Set(after.components.map((c) => c.componentId));
    if (wasOpen) await settleComponentStatuses(w, ctx, previousIds.filter((c) => !kept.has(c)), `incident:${before.id}`);
  } else if (wasOpen) {
    await settleComponentStatuses(w, ctx, [...previousIds, ...after.components.map((c) => c.componentId)], `incident:${before.id}`);
  }
  await recordComponentChanges(w, update.id, states);
  return after;
}

/**
 * Post a timeline update. `status: resolved` resolves the incident (resolvedAt set, components
 * settle); a non-resolved status on a resolved incident reopens it. `components`, when given,
 * replaces the set of affected components and their statuses. On a public incident the message
 * passes the publication guard.
 */
export async function postIncidentUpdate(ctx: ServiceContext, incidentId: string, input: IncidentUpdateInput, options: PublishOptions = {}): Promise<IncidentRecord> {
  requirePermission(ctx, 'write:incidents');
  const data = updateInput.create(input);
  return transact(ctx, async (w) => postUpdate(w, ctx, await lockIncident(w, ctx, incidentId), data, options));
}

/**
 * Change an incident's details; `roles`, when given, replaces the whole set. A new title of a
 * public incident passes the publication guard; an internal incident made public has its title,
 * every update's message and its postmortem checked.
 */
export async function updateIncident(ctx: ServiceContext, incidentId: string, patch: IncidentPatch, options: PublishOptions = {}): Promise<IncidentRecord> {
  requirePermission(ctx, 'write:incidents');
  const { roles, ...fields } = patchInput.patch(patch);
  return transact(ctx, async (w) => {
    const before = await loadRecord(w, await lockIncident(w, ctx, incidentId));
    let guard = {};
    if (fields.visibility === 'public' && before.visibility !== 'public') {
      const timeline = await w.tx
        .select({ message: incidentUpdates.message })
        .from(incidentUpdates)
        .where(eq(incidentUpdates.incidentId, incidentId))
        .orderBy(asc(incidentUpdates.createdAt), asc(incidentUpdates.id));
      guard = guardPublication(
        [
          { field: 'title', text: fields.title ?? before.title },
          ...timeline.map((u, i) => ({ field: `updates.${i}.message`, text: u.message })),
          { field: 'postmortem', text: before.postmortemBody },
        ],
        options,
      );
    } else if ((fields.visibility ?? before.visibility) === 'public') {
      guard = guardPublication([{ field: 'title', text: fields.title }], options);
    }
    const [row] = await w.tx
      .update(incidents)
      .set({ ...fields, updatedAt: sql`now()` })
      .where(eq(incidents.id, incidentId))
      .returning();
    if (roles) await replaceRoles(w, incidentId, roles);
    const after = await loadRecord(w, row!);
    await w.record({ action: 'incident.updated', entityType: 'incident', entityId: incidentId, before, after: { ...after, ...guard } });
    return after;
  });
}

/**
 * Resolve: a final public update, resolvedAt now, and every affected component back to
 * operational unless another unresolved incident (or a running maintenance) still holds it.
 */
export async function resolveIncident(ctx: ServiceContext, incidentId: string, input: CreateInput<typeof resolveInput> = {}, options: PublishOptions = {}): Promise<IncidentRecord> {
  requirePermission(ctx, 'write:incidents');
  const data = resolveInput.create(input);
  return transact(ctx, async (w) => {
    const before = await lockIncident(w, ctx, incidentId);
    if (isClosed(before.status)) throw new DomainError('incident/already_resolved', 'The incident is already resolved');
    return postUpdate(w, ctx, before, { status: 'resolved', ...data }, options);
  });
}

/**
 * Publish (or revise) the postmortem of a resolved incident; its status becomes `postmortem`. On a
 * public incident the body passes the publication guard.
 */
export async function publishPostmortem(ctx: ServiceContext, incidentId: string, input: CreateInput<typeof postmortemInput>, options: PublishOptions = {}): Promise<IncidentRecord> {
  requirePermission(ctx, 'write:incidents');
  const { body } = postmortemInput.create(input);
  return transact(ctx, async (w) => {
    const before = await loadRecord(w, await lockIncident(w, ctx, incidentId));
    if (!isClosed(before.status)) throw new DomainError('incident/not_resolved', 'Resolve the incident before publishing a postmortem');
    const guard = before.visibility === 'public' ? guardPublication([{ field: 'body', text: body }], options) : {};
    const [row] = await w.tx
      .update(incidents)
      .set({ status: 'postmortem', postmortemBody: body, postmortemPublishedAt: before.postmortemPublishedAt ?? sql`now()`, updatedAt: sql`now()` })
      .where(eq(incidents.id, incidentId))
      .returning();
    const after = await loadRecord(w, row!);
    await w.record({ action: 'incident.postmortem_published', entityType: 'incident', entityId: incidentId, before, after: { ...after, ...guard } });
    return after;
  });
}

/**
 * Record a past incident with its whole timeline (for history imported from elsewhere). Live
 * component statuses are not touched, and it is logged as `incident.backfilled` so notifiers
 * can tell it from a new incident. A public one's title, messages and postmortem pass the
 * publication guard.
 */
export async function backfillIncident(ctx: ServiceContext, input: BackfillIncidentInput, options: PublishOptions = {}): Promise<IncidentRecord> {
  requirePermission(ctx, 'write:incidents');
  const data = backfillInput.create(input);
  const issues: FieldIssue[] = [];
  if (data.resolvedAt.getTime() > Date.now()) issues.push({ field: 'resolvedAt', message: 'must be in the past' });
  if (data.startedAt.getTime() > data.resolvedAt.getTime()) issues.push({ field: 'startedAt', message: 'must be before resolvedAt' });
  data.updates.forEach((u, i) => {
    if (u.at.getTime() < data.startedAt.getTime() || u.at.getTime() > data.resolvedAt.getTime()) {
      issues.push({ field: `updates.${i}.at`, message: 'must be between startedAt and resolvedAt' });
    }
  });
  if (issues.length) throw new InvalidInputError(issues);
  const guard =
    data.visibility === 'public'
      ? guardPublication(
          [{ field: 'title', text: data.title }, ...data.updates.map((u, i) => ({ field: `updates.${i}.message`, text: u.message })), { field: 'postmortem', text: data.postmortem }],
          options,
        )
      : {};

  return transact(ctx, async (w) => {
    await assertComponentsExist(w, ctx, data.components);
    const [row] = await w.tx
      .insert(incidents)
      .values({
        pageId: ctx.viewer.page.id,
        title: data.title,
        status: data.postmortem ? 'postmortem' : 'resolved',
        impact: data.impact,
        visibility: data.visibility,
        pageWide: pageWideFor(data.pageWide, data.components),
        severity: data.severity,
        warRoomUrl: data.warRoomUrl,
        startedAt: data.startedAt,
        resolvedAt: data.resolvedAt,
        postmortemBody: data.postmortem,
        postmortemPublishedAt: data.postmortem ? data.resolvedAt : null,
      })
      .returning();
    // Live statuses stay as they are, but the timeline tells the story it imports: the first
    // update took the components to the statuses the incident gave them, the resolving one back.
    const names = await componentStates(w, data.components.map((c) => c.componentId));
    const changed = data.components.filter((c) => c.status !== 'operational');
    const toChanges = (back: boolean): ComponentChange[] =>
      changed.map((c) => ({ componentId: c.componentId, name: names.get(c.componentId)?.name ?? '', from: back ? c.status : 'operational', to: back ? 'operational' : c.status }));
    const sorted = [...data.updates].sort((a, b) => a.at.getTime() - b.at.getTime());
    const lastResolving = sorted.findLastIndex((u) => u.status === 'resolved');
    const updates = [];
    for (const [i, u] of sorted.entries()) {
      const componentChanges = i === 0 && i !== lastResolving ? toChanges(false) : i === lastResolving && i !== 0 ? toChanges(true) : [];
      updates.push(await insertUpdate(w, ctx, row!.id, { ...u, createdAt: u.at, componentChanges }));
    }
    await replaceAffected(w, row!.id, data.components);
    await replaceRoles(w, row!.id, data.roles);
    const record = await loadRecord(w, row!);
    await w.record({ action: 'incident.backfilled', entityType: 'incident', entityId: row!.id, after: { ...record, updates, ...guard } });
    return record;
  });
}

/** Delete an incident and its timeline; if it was still open, its components settle. */
export async function deleteIncident(ctx: ServiceContext, incidentId: string): Promise<IncidentRecord> {
  requirePermission(ctx, 'write:incidents');
  return transact(ctx, async (w) => {
    const before = await loadRecord(w, await lockIncident(w, ctx, incidentId));
    await w.tx.delete(incidents).where(eq(incidents.id, incidentId));
    await w.record({ action: 'incident.deleted', entityType: 'incident', entityId: incidentId, before });
    if (!isClosed(before.status)) await settleComponentStatuses(w, ctx, before.components.map((c) => c.componentId), `incident:${incidentId}`);
    return before;
  });
}
