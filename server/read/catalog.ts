import { and, asc, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { componentGroups, components, deployments, type ComponentGroupRow, type ComponentRow, type DeploymentRow } from '../db/tables/index.js';
import { isInternal, type Viewer } from '../auth/viewer.js';
import { componentVisible, deploymentVisible, groupVisible } from './visibility.js';
import { isId } from '../domain/validate.js';

/** Audience-filtered reads of deployments, groups and components. */

const { sloTarget: staffOnlySloTarget, ...sharedComponentColumns } = getTableColumns(components);

/**
 * A component's columns as this viewer may read them: the staff-only SLO target never leaves the
 * database for anyone else (it reads as null), like an incident's internal columns.
 */
export function componentColumns(viewer: Viewer) {
  return { ...sharedComponentColumns, sloTarget: isInternal(viewer) ? staffOnlySloTarget : sql<number | null>`null::double precision` };
}

export function listGroups(db: Db, viewer: Viewer, filter: { deploymentIds?: readonly string[] } = {}): Promise<ComponentGroupRow[]> {
  return db
    .select()
    .from(componentGroups)
    .where(
      and(
        eq(componentGroups.pageId, viewer.page.id),
        filter.deploymentIds ? inArray(componentGroups.deploymentId, [...filter.deploymentIds]) : undefined,
        groupVisible(viewer.audience),
      ),
    )
    .orderBy(asc(componentGroups.sortOrder), asc(componentGroups.name));
}

export function listGroupsByIds(db: Db, viewer: Viewer, ids: readonly string[]): Promise<ComponentGroupRow[]> {
  return db
    .select()
    .from(componentGroups)
    .where(and(eq(componentGroups.pageId, viewer.page.id), inArray(componentGroups.id, ids.filter(isId)), groupVisible(viewer.audience)));
}

export function listComponents(db: Db, viewer: Viewer, filter: { ids?: readonly string[]; groupIds?: readonly string[] } = {}): Promise<ComponentRow[]> {
  return db
    .select(componentColumns(viewer))
    .from(components)
    .where(
      and(
        eq(components.pageId, viewer.page.id),
        filter.ids ? inArray(components.id, filter.ids.filter(isId)) : undefined,
        filter.groupIds ? inArray(components.groupId, [...filter.groupIds]) : undefined,
        componentVisible(viewer.audience),
      ),
    )
    .orderBy(asc(components.sortOrder), asc(components.name));
}

export async function findComponent(db: Db, viewer: Viewer, id: string): Promise<ComponentRow | undefined> {
  return (await listComponents(db, viewer, { ids: [id] }))[0];
}

export async function findGroup(db: Db, viewer: Viewer, id: string): Promise<ComponentGroupRow | undefined> {
  return (await listGroupsByIds(db, viewer, [id]))[0];
}

/** Staff see every deployment; a deployment's audience sees only its own; the public sees none. */
export function listDeployments(db: Db, viewer: Viewer, ids?: readonly string[]): Promise<DeploymentRow[]> {
  if (viewer.audience.kind === 'public') return Promise.resolve([]);
  return db
    .select()
    .from(deployments)
    .where(
      and(
        eq(deployments.pageId, viewer.page.id),
        deploymentVisible(viewer.audience),
        ids ? inArray(deployments.id, ids.filter(isId)) : undefined,
      ),
    )
    .orderBy(asc(deployments.sortOrder), asc(deployments.slug));
}
