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
 *
 * Each rule is written twice, side by side: as SQL for reads (`componentVisible`), and for one row
 * held in memory (`componentVisibleTo`) where there is no table row to filter: an event's `before`,
 * judged by server/read/event-visibility.ts for the live hub. The in-memory form takes what the
 * SQL's subquery would find as an argument. tests/isolation/visibility-rules.test.ts checks that
 * the two agree on generated rows for every audience: change them together.
 */

/** The columns the rules read, for a row held in memory (`visibility` as logged: any string). */
export interface GroupFacts {
  visibility: string | null;
  deploymentId: string | null;
}
export interface ComponentFacts {
  visibility: string | null;
  groupId: string | null;
}
export interface StoryFacts {
  visibility: string | null;
  pageWide: boolean;
}

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

export function groupVisibleTo(audience: Audience, group: GroupFacts): boolean {
  if (audience.kind === 'internal') return true;
  return visibilityAdmits(audience, group.visibility) && (group.deploymentId === null || group.deploymentId === deploymentId(audience));
}

export function componentVisible(audience: Audience): SQL | undefined {
  if (audience.kind === 'internal') return undefined;
  const dep = deploymentId(audience);
  return sql`(${components.visibility} = 'public' and (${components.groupId} is null or exists (
    select 1 from ${componentGroups} where ${componentGroups.id} = ${components.groupId}
      and ${componentGroups.visibility} = 'public'
      and (${componentGroups.deploymentId} is null${dep ? sql` or ${componentGroups.deploymentId} = ${dep}` : sql``}))))`;
}

/** `inVisibleGroup`: whether its group (if it has one) is visible (`groupVisibleTo`, or the SQL). */
export function componentVisibleTo(audience: Audience, component: ComponentFacts, inVisibleGroup: boolean): boolean {
  if (audience.kind === 'internal') return true;
  return visibilityAdmits(audience, component.visibility) && (component.groupId === null || inVisibleGroup);
}

export function deploymentVisible(audience: Audience): SQL | undefined {
  if (audience.kind === 'internal') return undefined;
  return audience.kind === 'deployment' ? sql`(${deployments.id} = ${audience.deploymentId})` : sql`false`;
}

export function deploymentVisibleTo(audience: Audience, deployment: { id: string }): boolean {
  if (audience.kind === 'internal') return true;
  return audience.kind === 'deployment' && deployment.id === audience.deploymentId;
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

/**
 * An incident or a maintenance: one rule for both. `seesAnAffectedComponent`: whether a component
 * it affects is visible (`componentVisibleTo`, or the SQL).
 */
export function storyVisibleTo(audience: Audience, story: StoryFacts, seesAnAffectedComponent: boolean): boolean {
  if (audience.kind === 'internal') return true;
  return visibilityAdmits(audience, story.visibility) && (story.pageWide || seesAnAffectedComponent);
}

/**
 * The first condition of the group, component, incident and maintenance rules: a row's own
 * visibility. False means hidden whatever else holds, so a caller may skip reading the rest.
 */
export function visibilityAdmits(audience: Audience, visibility: string | null): boolean {
  return audience.kind === 'internal' || visibility === 'public';
}

export function templateVisible(audience: Audience): SQL | undefined {
  return audience.kind === 'internal' ? undefined : sql`false`;
}
