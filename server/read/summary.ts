import { and, eq, inArray, sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db/client.js';
import { components, incidents, maintenances } from '../db/tables/index.js';
import type { Viewer } from '../auth/viewer.js';
import {
  impactOfComponentStatus,
  indicatorDescriptions,
  maintenanceDescription,
  worstImpact,
  type ComponentStatus,
  type Impact,
} from '../domain/vocabulary.js';
import { openIncidentStatuses } from './incidents.js';
import { componentVisible, incidentVisible, maintenanceVisible } from './visibility.js';

export interface PageStatus {
  indicator: Impact;
  description: string;
}

/**
 * The overall indicator, computed only from what the viewer can see: the worst of its visible
 * components' statuses and its visible unresolved incidents' impacts. One statement: it runs for
 * every audience on every live event.
 */
export async function readPageStatus(db: Db, viewer: Viewer): Promise<PageStatus> {
  const { audience, page } = viewer;
  const [row] = await queryRows<{ statuses: ComponentStatus[] | null; impacts: Impact[] | null; maintenance: boolean }>(
    db,
    sql`select
      (select array_agg(distinct ${components.status}::text) from ${components}
        where ${and(eq(components.pageId, page.id), componentVisible(audience))}) as statuses,
      (select array_agg(distinct ${incidents.impact}::text) from ${incidents}
        where ${and(eq(incidents.pageId, page.id), inArray(incidents.status, openIncidentStatuses), incidentVisible(audience))}) as impacts,
      exists (select 1 from ${maintenances}
        where ${and(eq(maintenances.pageId, page.id), eq(maintenances.status, 'in_progress'), maintenanceVisible(audience))}) as maintenance`,
  );
  const statuses = row?.statuses ?? [];
  const indicator = worstImpact([...statuses.map((s) => impactOfComponentStatus[s]), ...(row?.impacts ?? [])]);
  const underMaintenance = Boolean(row?.maintenance) || statuses.includes('under_maintenance');
  const description = indicator === 'none' && underMaintenance ? maintenanceDescription : indicatorDescriptions[indicator];
  return { indicator, description };
}

const statusMemo = new WeakMap<object, Promise<PageStatus>>();

/** `readPageStatus`, computed at most once per context (a live payload asks once per audience). */
export function readPageStatusOnce(ctx: { db: Db; viewer: Viewer }): Promise<PageStatus> {
  let status = statusMemo.get(ctx);
  if (!status) statusMemo.set(ctx, (status = readPageStatus(ctx.db, ctx.viewer)));
  return status;
}
