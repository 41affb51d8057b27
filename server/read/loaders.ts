import DataLoader from 'dataloader';
import type { Db } from '../db/client.js';
import type { ComponentGroupRow, ComponentRow, DeploymentRow, IncidentUpdateRow } from '../db/tables/index.js';
import type { Viewer } from '../auth/viewer.js';
import { listComponents, listDeployments, listGroups, listGroupsByIds } from './catalog.js';
import { listAffectedComponents, listRolesOfIncidents, listUpdatesOfIncidents, type AffectedComponent, type IncidentRoleAssignment } from './incidents.js';
import { listMaintenanceComponents, type MaintenanceComponentRow } from './maintenance.js';
import { readUptime, type UptimeDay } from './uptime.js';

/**
 * Per-request batch loaders. Each one is built for one viewer and calls the audience-filtered
 * read functions, so batching can never widen what a viewer sees. One SQL query per loader
 * per tick keeps N+1 out of every nested field.
 */

/** Load many parents' children with one query, then split by parent. */
export function groupedLoader<T>(fetch: (keys: readonly string[]) => Promise<T[]>, keyOf: (row: T) => string): DataLoader<string, T[]> {
  return new DataLoader(async (keys) => {
    const byKey = new Map<string, T[]>(keys.map((k) => [k, []]));
    for (const row of await fetch(keys)) byKey.get(keyOf(row))?.push(row);
    return keys.map((k) => byKey.get(k)!);
  });
}

/** Load rows by id with one query; an id the viewer cannot see loads as null. */
export function byIdLoader<T extends { id: string }>(fetch: (ids: readonly string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const byId = new Map((await fetch(ids)).map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

export function createLoaders(db: Db, viewer: Viewer) {
  return {
    componentsByGroup: groupedLoader<ComponentRow>((groupIds) => listComponents(db, viewer, { groupIds }), (c) => c.groupId!),
    groupsByDeployment: groupedLoader<ComponentGroupRow>((deploymentIds) => listGroups(db, viewer, { deploymentIds }), (g) => g.deploymentId!),
    group: byIdLoader<ComponentGroupRow>((ids) => listGroupsByIds(db, viewer, ids)),
    deployment: byIdLoader<DeploymentRow>((ids) => listDeployments(db, viewer, ids)),
    updatesByIncident: groupedLoader<IncidentUpdateRow>((ids) => listUpdatesOfIncidents(db, viewer, ids), (u) => u.incidentId),
    affectedComponentsByIncident: groupedLoader<AffectedComponent>((ids) => listAffectedComponents(db, viewer, ids), (a) => a.incidentId),
    rolesByIncident: groupedLoader<IncidentRoleAssignment>((ids) => listRolesOfIncidents(db, viewer, ids), (r) => r.incidentId),
    componentsByMaintenance: groupedLoader<MaintenanceComponentRow>((ids) => listMaintenanceComponents(db, viewer, ids), (c) => c.maintenanceId),
    /** The last 90 UTC days of a component (one events query per tick); keys are rows the viewer already read. */
    uptime: new DataLoader<ComponentRow, UptimeDay[], string>((rows) => readUptime(db, viewer, rows), { cacheKeyFn: (row) => row.id }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
