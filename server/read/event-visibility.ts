import { and, eq } from 'drizzle-orm';
import { internalAudience, publicAudience } from '../auth/audience.js';
import { audienceViewer, type Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { componentGroups, components, deployments, events, incidents, maintenances } from '../db/tables/index.js';
import { audienceEntityKinds, type AudienceEntityKind, type CommittedEvent, type DetachedScope, type IncidentRecord, type Logged, type LoggedBefore, type MaintenanceRecord } from '../domain/events.js';
import { listComponents, listDeployments, listGroupsByIds } from './catalog.js';
import { listIncidentsByIds } from './incidents.js';
import { findMaintenance } from './maintenance.js';
import {
  componentVisible,
  componentVisibleTo,
  deploymentVisible,
  deploymentVisibleTo,
  groupVisible,
  groupVisibleTo,
  incidentVisible,
  maintenanceVisible,
  storyVisibleTo,
  visibilityAdmits,
} from './visibility.js';

/**
 * What one audience may see of the event log: the questions a consumer of committed events (the
 * live hub, the notifier) asks per audience, answered with the rules of server/read/visibility.ts
 * — the SQL ones for what the tables hold now, their in-memory twins for an event's `before`.
 * Asked once per audience, never per recipient: the viewer is `audienceViewer`'s.
 */

/** How an entity is named in `visibleEntityKeys`: `<kind>:<id>`. */
export function entityKey(kind: AudienceEntityKind, id: string): string {
  return `${kind}:${id}`;
}

/** Everything of its page the audience can see right now, as `entityKey`s. */
export async function visibleEntityKeys(db: Db, viewer: Viewer): Promise<Set<string>> {
  const page = viewer.page.id;
  const { audience } = viewer;
  const [c, g, d, i, m] = await Promise.all([
    db.select({ id: components.id }).from(components).where(and(eq(components.pageId, page), componentVisible(audience))),
    db.select({ id: componentGroups.id }).from(componentGroups).where(and(eq(componentGroups.pageId, page), groupVisible(audience))),
    db.select({ id: deployments.id }).from(deployments).where(and(eq(deployments.pageId, page), deploymentVisible(audience))),
    db.select({ id: incidents.id }).from(incidents).where(and(eq(incidents.pageId, page), incidentVisible(audience))),
    db.select({ id: maintenances.id }).from(maintenances).where(and(eq(maintenances.pageId, page), maintenanceVisible(audience))),
  ]);
  const keys = new Set<string>();
  for (const [kind, rows] of [['component', c], ['group', g], ['deployment', d], ['incident', i], ['maintenance', m]] as const) {
    for (const row of rows) keys.add(entityKey(kind, row.id));
  }
  return keys;
}

/** The entity as the audience sees it now, or undefined when it cannot (or it is gone). */
export async function findVisibleEntity(db: Db, viewer: Viewer, kind: AudienceEntityKind, id: string): Promise<object | undefined> {
  switch (kind) {
    case 'component':
      return (await listComponents(db, viewer, { ids: [id] }))[0];
    case 'group':
      return (await listGroupsByIds(db, viewer, [id]))[0];
    case 'deployment':
      return (await listDeployments(db, viewer, [id]))[0];
    case 'incident':
      return (await listIncidentsByIds(db, viewer, [id]))[0];
    case 'maintenance':
      return findMaintenance(db, viewer, id);
  }
}

/**
 * For an entity the audience cannot see now: could it have seen it before this change? Judged
 * from the event's `before` row and the entity's parents as they are now (a parent that changed
 * in between has an event of its own, judged the same way). Errs towards yes where the log cannot
 * tell (a component deleted since), so a caller that answers yes with a resync is always safe;
 * another deployment's rows and internal rows answer no.
 */
export async function mayHaveSeen(db: Db, viewer: Viewer, kind: AudienceEntityKind, event: CommittedEvent): Promise<boolean> {
  const { audience } = viewer;
  // Every rule admits staff: nothing to read.
  if (audience.kind === 'internal') return true;
  if (kind === 'deployment') return deploymentVisibleTo(audience, { id: event.entityId });
  if (!visibilityAdmits(audience, event.beforeVisibility)) return false;
  const [row] = await db.select({ before: events.before }).from(events).where(eq(events.seq, event.seq));
  if (!row?.before) return false;
  const visibility = event.beforeVisibility;
  switch (kind) {
    case 'group': {
      const before = row.before as NonNullable<LoggedBefore<'group'>>;
      return groupVisibleTo(audience, { visibility, deploymentId: before.deploymentId || null });
    }
    case 'component': {
      const before = row.before as NonNullable<LoggedBefore<'component'>>;
      const groupId = before.groupId || null;
      const inVisibleGroup = groupId !== null && (await listGroupsByIds(db, viewer, [groupId])).length > 0;
      return componentVisibleTo(audience, { visibility, groupId }, inVisibleGroup);
    }
    case 'incident':
    case 'maintenance': {
      const before = row.before as LoggedStory;
      const ids = before.components?.map((c) => c.componentId) ?? before.componentIds ?? [];
      // NOTE: events written before `pageWide` existed lack it: no components then meant every audience.
      const story = { visibility, pageWide: before.pageWide ?? ids.length === 0 };
      if (storyVisibleTo(audience, story, false)) return true;
      if (!ids.length) return false;
      // A component deleted since may have been how this audience saw it: only a resync is safe.
      const existing = await listComponents(db, audienceViewer(viewer.page, internalAudience), { ids });
      if (existing.length < ids.length) return true;
      return storyVisibleTo(audience, story, (await listComponents(db, viewer, { ids })).length > 0);
    }
  }
}

/**
 * An incident's or maintenance's `before` as events of every version logged it: the record
 * (`components` for incidents, `componentIds` for maintenance and detached components), older
 * ones without some of these fields.
 */
type LoggedStory = Partial<Pick<Logged<IncidentRecord>, 'components' | 'pageWide'> & Pick<Logged<MaintenanceRecord | DetachedScope>, 'componentIds'>>;

/**
 * Whether an event can change what any audience other than staff reads (the answer cache keeps
 * only those audiences' answers). Only groups, components, deployments, incidents and maintenance
 * are ever shown outside staff, and a row whose visibility was not public before the change and
 * is not public after it is shown to no such audience (`visibilityAdmits`); a change it makes
 * elsewhere (a component settling) is an event of its own. Unknown visibility (a row without one:
 * deployments; a change with neither side recorded) counts as concerning them.
 */
export function mayConcernOutsiders(event: Pick<CommittedEvent, 'entityType' | 'beforeVisibility' | 'afterVisibility'>): boolean {
  if (!(audienceEntityKinds as readonly string[]).includes(event.entityType)) return false;
  const recorded = [event.beforeVisibility, event.afterVisibility].filter((v): v is string => v !== null);
  if (event.entityType === 'deployment' || recorded.length === 0) return true;
  return recorded.some((visibility) => visibilityAdmits(publicAudience, visibility));
}
