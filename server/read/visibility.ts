import { sql, type SQL } from 'drizzle-orm';
import { componentGroups, components, incidentComponents, incidents, maintenanceComponents, maintenances } from '../db/tables/index.js';
import type { Audience } from '../auth/audience.js';

/**
 * The data-layer half of audience isolation: SQL conditions that every read for a
 * non-internal audience is filtered by. `undefined` means "no filter" (staff).
 *
 * Rules:
 * - a group is visible when it is public and shared (no deployment) or owned by the viewer's deployment;
 * - a component is visible when it is public and its group (if any) is visible;
 * - an incident or maintenance is visible when it is public and it affects no component,
 *   or at least one component the viewer can see; only those components are listed.
 */

function deploymentId(audience: Audience): string | null {
  return audience.kind === 'deployment' ? audience.deploymentId : null;
}

export function groupVisible(audience: Audience): SQL | undefined {
  if (audience.kind === 'internal') return undefined;
  const dep = deploymentId(audience);
  return sql`(${componentGroups.visibility} = 'public' and (${componentGroups.deploymentId} is null${
    dep ? sql` or ${componentGroups.deploymentId} = ${dep}` : sql``
  }))`;
}

export function componentVisible(audience: Audience): SQL | undefined {
  if (audience.kind === 'internal') return undefined;
  const dep = deploymentId(audience);
  return sql`(${components.visibility} = 'public' and (${components.groupId} is null or exists (
    select 1 from ${componentGroups} where ${componentGroups.id} = ${components.groupId}
      and ${componentGroups.visibility} = 'public'
      and (${componentGroups.deploymentId} is null${dep ? sql` or ${componentGroups.deploymentId} = ${dep}` : sql``}))))`;
}

export function incidentVisible(audience: Audience): SQL | undefined {
  if (audience.kind === 'internal') return undefined;
  return sql`(${incidents.visibility} = 'public' and (
    not exists (select 1 from ${incidentComponents} where ${incidentComponents.incidentId} = ${incidents.id})
    or exists (select 1 from ${incidentComponents} join ${components} on ${components.id} = ${incidentComponents.componentId}
      where ${incidentComponents.incidentId} = ${incidents.id} and ${componentVisible(audience)})))`;
}

export function maintenanceVisible(audience: Audience): SQL | undefined {
  if (audience.kind === 'internal') return undefined;
  return sql`(${maintenances.visibility} = 'public' and (
    not exists (select 1 from ${maintenanceComponents} where ${maintenanceComponents.maintenanceId} = ${maintenances.id})
    or exists (select 1 from ${maintenanceComponents} join ${components} on ${components.id} = ${maintenanceComponents.componentId}
      where ${maintenanceComponents.maintenanceId} = ${maintenances.id} and ${componentVisible(audience)})))`;
}
