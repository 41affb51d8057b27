import { isId } from '../domain/validate.js';
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { components, maintenanceComponents, maintenances, type ComponentRow, type MaintenanceRow } from '../db/tables/index.js';
import type { Viewer } from '../auth/viewer.js';
import { componentColumns } from './catalog.js';
import { componentVisible, maintenanceVisible } from './visibility.js';

/** Audience-filtered reads of scheduled maintenance. */

export const maintenanceWindows = ['upcoming_or_active', 'past'] as const;
export type MaintenanceWindow = (typeof maintenanceWindows)[number];

export interface MaintenanceFilter {
  window?: MaintenanceWindow;
  ids?: readonly string[];
  /** Applies to `past` (newest first); upcoming windows are few by nature and come whole. */
  limit?: number;
}

export function listMaintenances(db: Db, viewer: Viewer, filter: MaintenanceFilter = {}): Promise<MaintenanceRow[]> {
  const { window, ids } = filter;
  const query = db
    .select()
    .from(maintenances)
    .where(
      and(
        eq(maintenances.pageId, viewer.page.id),
        ids ? inArray(maintenances.id, ids.filter(isId)) : undefined,
        window === 'upcoming_or_active' ? inArray(maintenances.status, ['scheduled', 'in_progress']) : undefined,
        window === 'past' ? inArray(maintenances.status, ['completed', 'cancelled']) : undefined,
        maintenanceVisible(viewer.audience),
      ),
    );
  if (window === 'past') {
    return query.orderBy(desc(maintenances.scheduledEnd), desc(maintenances.id)).limit(filter.limit ?? 20);
  }
  return query.orderBy(asc(maintenances.scheduledStart), asc(maintenances.id));
}

export async function findMaintenance(db: Db, viewer: Viewer, id: string): Promise<MaintenanceRow | undefined> {
  return (await listMaintenances(db, viewer, { ids: [id] }))[0];
}

export type MaintenanceComponentRow = ComponentRow & { maintenanceId: string };

/** The affected components of many maintenances, only those the viewer can see, in display order. */
export async function listMaintenanceComponents(db: Db, viewer: Viewer, maintenanceIds: readonly string[]): Promise<MaintenanceComponentRow[]> {
  const rows = await db
    .select({ maintenanceId: maintenanceComponents.maintenanceId, component: componentColumns(viewer) })
    .from(maintenanceComponents)
    .innerJoin(components, eq(components.id, maintenanceComponents.componentId))
    .where(
      and(
        inArray(maintenanceComponents.maintenanceId, [...maintenanceIds]),
        eq(components.pageId, viewer.page.id),
        componentVisible(viewer.audience),
      ),
    )
    .orderBy(asc(components.sortOrder), asc(components.name));
  return rows.map((r) => ({ ...r.component, maintenanceId: r.maintenanceId }));
}
