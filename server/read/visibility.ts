import { sql, type SQL } from 'drizzle-orm';
import { componentGroups, components, deployments, incidentComponents, incidents, maintenanceComponents, maintenances } from '../db/tables/index.js';
import type { Audience } from '../auth/audience.js';

/**
 * The data-layer half of audience isolation: SQL conditions that every read for a
 * non-internal audience is filtered by. `undefined` means "no filter" (staff).
 *
 * Rules:
 * - a group is visible when it is public and shared (no deployment) or owned by the viewer's deployment;
 * - a component is visible when it is public and its group (if any) is visible;
 * - an incident or maintenance is visible when it is public and either staff published it
 *   page-wide (`page_wide`, an explicit, audited choice) or it affects at least one component the
 *   viewer can see; only those components are listed;
 * - a deployment is visible to its own audience only;
 * - templates are staff tooling: only the internal audience sees them.
 *
 * Visibility never widens by accident: every rule is an `and` of explicit staff choices, and no
 * rule reads the absence of a row as permission. Deleting a component, emptying an incident's
 * component list or deleting a group can only take audiences away; widening takes an explicit
 * write (visibility, group, deployment, `pageWide`), which is an event in the audit log.
 *
 * Writes use the same rules: a service only touches (and a mutation only answers with) rows the
 * caller's audience can see, so a mutation's answer is never a way to read anything else.
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

export function deploymentVisible(audience: Audience): SQL | undefined {
  if (audience.kind === 'internal') return undefined;
  return audience.kind === 'deployment' ? sql`(${deployments.id} = ${audience.deploymentId})` : sql`false`;
}

export function incidentVisible(audience: Audience): SQL | undefined {
  if (audience.kind === 'internal') return undefined;
  return sql`(${incidents.visibility} = 'public' and (
    ${incidents.pageWide}
    or exists (select 1 from ${incidentComponents} join ${components} on ${components.id} = ${incidentComponents.componentId}
      where ${incidentComponents.incidentId} = ${incidents.id} and ${componentVisible(audience)})))`;
}

export function maintenanceVisible(audience: Audience): SQL | undefined {
  if (audience.kind === 'internal') return undefined;
  return sql`(${maintenances.visibility} = 'public' and (
    ${maintenances.pageWide}
    or exists (select 1 from ${maintenanceComponents} join ${components} on ${components.id} = ${maintenanceComponents.componentId}
      where ${maintenanceComponents.maintenanceId} = ${maintenances.id} and ${componentVisible(audience)})))`;
}

export function templateVisible(audience: Audience): SQL | undefined {
  return audience.kind === 'internal' ? undefined : sql`false`;
}
