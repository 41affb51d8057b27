import { isId } from '../domain/validate.js';
import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import {
  components,
  incidentComponents,
  incidentRoles,
  incidents,
  incidentUpdates,
  type ComponentChange,
  type ComponentRow,
  type IncidentRow,
  type IncidentUpdateRow,
} from '../db/tables/index.js';
import { invalidInput } from '../domain/errors.js';
import { incidentStatuses, type ComponentStatus, type IncidentRole } from '../domain/vocabulary.js';
import { isInternal, type Viewer } from '../auth/viewer.js';
import { componentColumns } from './catalog.js';
import { componentVisible, incidentVisible } from './visibility.js';

/** Audience-filtered reads of incidents, their timelines, affected components and roles. */

export type IncidentState = 'active' | 'resolved' | 'all';

/** Statuses after which an incident no longer affects anything. */
export const closedIncidentStatuses = ['resolved', 'postmortem'] as const;
/** The others. Reads of open incidents name these (`status in (…)`): the (page, status) index serves that, not a `not in`. */
export const openIncidentStatuses = incidentStatuses.filter((s) => !(closedIncidentStatuses as readonly string[]).includes(s));

/**
 * The public read model is an allow-list: these columns, and nothing else, leave the database
 * for a non-internal audience. Severity and the war-room link are staff-only.
 */
const publicIncidentColumns = {
  id: incidents.id,
  pageId: incidents.pageId,
  title: incidents.title,
  status: incidents.status,
  impact: incidents.impact,
  visibility: incidents.visibility,
  pageWide: incidents.pageWide,
  nextUpdateDueAt: incidents.nextUpdateDueAt,
  startedAt: incidents.startedAt,
  resolvedAt: incidents.resolvedAt,
  postmortemBody: incidents.postmortemBody,
  postmortemPublishedAt: incidents.postmortemPublishedAt,
  createdAt: incidents.createdAt,
  updatedAt: incidents.updatedAt,
};

function stateFilter(state: IncidentState): SQL | undefined {
  if (state === 'active') return inArray(incidents.status, openIncidentStatuses);
  if (state === 'resolved') return inArray(incidents.status, [...closedIncidentStatuses]);
  return undefined;
}

// NOTE: a cursor keeps the microseconds PostgreSQL stores; a JS Date would round them away and
// make rows started within the same millisecond repeat or vanish between pages.
const startedAtKey = sql<string>`to_char(${incidents.startedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

interface CursorKey {
  startedAt: string;
  id: string;
}

export function encodeIncidentCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.startedAt, key.id])).toString('base64url');
}

function decodeIncidentCursor(cursor: string, field: string): CursorKey {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(value[0]) &&
      typeof value[1] === 'string' &&
      /^[0-9a-f-]{36}$/i.test(value[1])
    ) {
      return { startedAt: value[0], id: value[1] };
    }
  } catch {
    // fall through: any malformed cursor gets the same answer
  }
  throw invalidInput(field, 'is not a valid cursor');
}

/** Select incident rows for the viewer: full rows for staff, the public allow-list otherwise. */
async function selectIncidents(
  db: Db,
  viewer: Viewer,
  where: (SQL | undefined)[],
  page?: { limit: number },
): Promise<{ row: IncidentRow; key: CursorKey }[]> {
  const condition = and(eq(incidents.pageId, viewer.page.id), incidentVisible(viewer.audience), ...where);
  const order = [desc(incidents.startedAt), desc(incidents.id)];
  if (isInternal(viewer)) {
    const query = db.select({ row: incidents, startedAtKey }).from(incidents).where(condition).orderBy(...order);
    const rows = page ? await query.limit(page.limit) : await query;
    return rows.map(({ row, startedAtKey: s }) => ({ row, key: { startedAt: s, id: row.id } }));
  }
  const query = db
    .select({ ...publicIncidentColumns, startedAtKey })
    .from(incidents)
    .where(condition)
    .orderBy(...order);
  const rows = page ? await query.limit(page.limit) : await query;
  return rows.map(({ startedAtKey: s, ...row }) => ({
    row: { ...row, severity: null, warRoomUrl: null },
    key: { startedAt: s, id: row.id },
  }));
}

export interface IncidentPage {
  edges: { node: IncidentRow; cursor: string }[];
  hasNextPage: boolean;
}

/**
 * Newest first, by (startedAt desc, id desc), with a keyset cursor: rows inserted while a client
 * pages never shift what it sees next.
 */
export async function listIncidents(
  db: Db,
  viewer: Viewer,
  options: { state?: IncidentState; first?: number | null; after?: string | null } = {},
): Promise<IncidentPage> {
  const first = options.first ?? 20;
  if (!Number.isInteger(first) || first < 0 || first > 100) throw invalidInput('first', 'must be between 0 and 100');
  const after = options.after ? decodeIncidentCursor(options.after, 'after') : undefined;
  const afterCondition = after
    ? sql`(${incidents.startedAt}, ${incidents.id}) < (${after.startedAt}::timestamptz, ${after.id}::uuid)`
    : undefined;
  const rows = await selectIncidents(db, viewer, [stateFilter(options.state ?? 'all'), afterCondition], { limit: first + 1 });
  return {
    edges: rows.slice(0, first).map(({ row, key }) => ({ node: row, cursor: encodeIncidentCursor(key) })),
    hasNextPage: rows.length > first,
  };
}

/** Every unresolved incident the viewer can see, newest first. */
export async function listActiveIncidents(db: Db, viewer: Viewer): Promise<IncidentRow[]> {
  return (await selectIncidents(db, viewer, [stateFilter('active')])).map((r) => r.row);
}

export async function listIncidentsByIds(db: Db, viewer: Viewer, ids: readonly string[]): Promise<IncidentRow[]> {
  if (!ids.length) return [];
  return (await selectIncidents(db, viewer, [inArray(incidents.id, [...ids])])).map((r) => r.row);
}

/** Every incident the viewer can see that started at or after `since`, newest first. */
export async function listIncidentsStartedSince(db: Db, viewer: Viewer, since: Date): Promise<IncidentRow[]> {
  return (await selectIncidents(db, viewer, [sql`${incidents.startedAt} >= ${since.toISOString()}::timestamptz`])).map((r) => r.row);
}

/** The incident, or undefined when it does not exist or the viewer may not see it. */
export async function findIncident(db: Db, viewer: Viewer, id: string): Promise<IncidentRow | undefined> {
  if (!isId(id)) return undefined;
  return (await listIncidentsByIds(db, viewer, [id]))[0];
}

/**
 * An update's component changes as this viewer may read them: only components it can see, under
 * their current names, in the order the update recorded them.
 */
function visibleComponentChanges(viewer: Viewer) {
  return sql<ComponentChange[]>`coalesce((
    select jsonb_agg(jsonb_set(e.change, '{name}', to_jsonb(${components.name})) order by e.ord)
    from jsonb_array_elements(${incidentUpdates.componentChanges}) with ordinality as e(change, ord)
    join ${components} on ${components.id}::text = e.change->>'componentId'
    where ${and(eq(components.pageId, viewer.page.id), componentVisible(viewer.audience))}), '[]'::jsonb)`;
}

/**
 * Timeline entries of many incidents, newest first. For non-internal audiences the internal
 * note column is never selected, and only updates of incidents the viewer can see are returned.
 */
export async function listUpdatesOfIncidents(db: Db, viewer: Viewer, incidentIds: readonly string[]): Promise<IncidentUpdateRow[]> {
  if (!incidentIds.length) return [];
  const condition = and(
    inArray(incidentUpdates.incidentId, [...incidentIds]),
    eq(incidents.pageId, viewer.page.id),
    incidentVisible(viewer.audience),
  );
  const order = [desc(incidentUpdates.createdAt), desc(incidentUpdates.id)];
  if (isInternal(viewer)) {
    const rows = await db
      .select({ update: incidentUpdates, componentChanges: visibleComponentChanges(viewer) })
      .from(incidentUpdates)
      .innerJoin(incidents, eq(incidents.id, incidentUpdates.incidentId))
      .where(condition)
      .orderBy(...order);
    return rows.map((r) => ({ ...r.update, componentChanges: r.componentChanges }));
  }
  const rows = await db
    .select({
      id: incidentUpdates.id,
      incidentId: incidentUpdates.incidentId,
      status: incidentUpdates.status,
      message: incidentUpdates.message,
      createdAt: incidentUpdates.createdAt,
      componentChanges: visibleComponentChanges(viewer),
      deliverNotifications: incidentUpdates.deliverNotifications,
    })
    .from(incidentUpdates)
    .innerJoin(incidents, eq(incidents.id, incidentUpdates.incidentId))
    .where(condition)
    .orderBy(...order);
  // The author is staff-only too.
  return rows.map((r) => ({ ...r, internalNote: null, createdBy: null }));
}

export interface AffectedComponent {
  incidentId: string;
  /** The status this incident gave the component. */
  status: ComponentStatus;
  component: ComponentRow;
}

/** Components many incidents affect, limited to the ones the viewer can see, in display order. */
export async function listAffectedComponents(db: Db, viewer: Viewer, incidentIds: readonly string[]): Promise<AffectedComponent[]> {
  if (!incidentIds.length) return [];
  return db
    .select({ incidentId: incidentComponents.incidentId, status: incidentComponents.status, component: componentColumns(viewer) })
    .from(incidentComponents)
    .innerJoin(components, eq(components.id, incidentComponents.componentId))
    .innerJoin(incidents, eq(incidents.id, incidentComponents.incidentId))
    .where(
      and(
        inArray(incidentComponents.incidentId, [...incidentIds]),
        eq(incidents.pageId, viewer.page.id),
        incidentVisible(viewer.audience),
        componentVisible(viewer.audience),
      ),
    )
    .orderBy(asc(components.sortOrder), asc(components.name));
}

export interface IncidentRoleAssignment {
  incidentId: string;
  role: IncidentRole;
  assignee: string;
}

/** Role assignments are staff-only: other audiences get none, without a query. */
export async function listRolesOfIncidents(db: Db, viewer: Viewer, incidentIds: readonly string[]): Promise<IncidentRoleAssignment[]> {
  if (!isInternal(viewer) || !incidentIds.length) return [];
  return db
    .select({ incidentId: incidentRoles.incidentId, role: incidentRoles.role, assignee: incidentRoles.assignee })
    .from(incidentRoles)
    .innerJoin(incidents, eq(incidents.id, incidentRoles.incidentId))
    .where(and(inArray(incidentRoles.incidentId, [...incidentIds]), eq(incidents.pageId, viewer.page.id)))
    .orderBy(asc(incidentRoles.role));
}
