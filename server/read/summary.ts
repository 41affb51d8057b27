import { and, eq, notInArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { components, incidents, maintenances } from '../db/tables/index.js';
import type { Viewer } from '../auth/viewer.js';
import {
  impactOfComponentStatus,
  indicatorDescriptions,
  maintenanceDescription,
  worstImpact,
  type Impact,
} from '../domain/vocabulary.js';
import { componentVisible, incidentVisible, maintenanceVisible } from './visibility.js';

export interface PageStatus {
  indicator: Impact;
  description: string;
}

/**
 * The overall indicator, computed only from what the viewer can see: the worst of its visible
 * components' statuses and its visible unresolved incidents' impacts.
 */
export async function readPageStatus(db: Db, viewer: Viewer): Promise<PageStatus> {
  const { audience, page } = viewer;
  const [componentRows, incidentRows, maintenanceRows] = await Promise.all([
    db.select({ status: components.status }).from(components).where(and(eq(components.pageId, page.id), componentVisible(audience))),
    db
      .select({ impact: incidents.impact })
      .from(incidents)
      .where(and(eq(incidents.pageId, page.id), notInArray(incidents.status, ['resolved', 'postmortem']), incidentVisible(audience))),
    db
      .select({ id: maintenances.id })
      .from(maintenances)
      .where(and(eq(maintenances.pageId, page.id), eq(maintenances.status, 'in_progress'), maintenanceVisible(audience)))
      .limit(1),
  ]);
  const indicator = worstImpact([
    ...componentRows.map((c) => impactOfComponentStatus[c.status]),
    ...incidentRows.map((i) => i.impact),
  ]);
  const underMaintenance = maintenanceRows.length > 0 || componentRows.some((c) => c.status === 'under_maintenance');
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
