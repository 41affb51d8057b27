import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import type { ComponentRow, IncidentRow, MaintenanceRow } from '../db/tables/index.js';
import type { AudienceEntityKind } from '../domain/events.js';
import type { ComponentStatus } from '../domain/vocabulary.js';
import { listGroupsByIds } from '../read/catalog.js';
import { findVisibleEntity } from '../read/event-visibility.js';
import { listAffectedComponents, listUpdatesOfIncidents } from '../read/incidents.js';
import { listMaintenanceComponents } from '../read/maintenance.js';
import { spComponents, spIncident, spMaintenance, spPage, type SpContext } from '../read/statuspage.js';
import { readPageStatus } from '../read/summary.js';

/**
 * One audience's message about one event: Statuspage's webhook body (docs/API.md, *Webhooks*)
 * without `meta`, which is per subscriber. Everything in it is read as the audience
 * (`audienceViewer`), through the same reads and mappers as `/api/v2/*.json`, once per audience
 * and event — never per recipient. `null`: the audience cannot see what the event is about (now).
 */
export interface AudienceMessage {
  body: Record<string, unknown>;
  /** What the message is about, for subscribers who follow only some components or groups. */
  componentIds: string[];
  groupIds: string[];
  /** Page-wide (an incident published to the whole page): every subscriber of the audience follows it. */
  everyone: boolean;
}

export interface LoggedEvent {
  seq: number;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
  createdAt: Date;
}

export async function renderMessage(db: Db, viewer: Viewer, event: LoggedEvent, origin: string): Promise<AudienceMessage | null> {
  const kind = event.entityType as AudienceEntityKind;
  if (kind !== 'component' && kind !== 'incident' && kind !== 'maintenance') return null;
  const visible = await findVisibleEntity(db, viewer, kind, event.entityId);
  if (!visible) return null;
  const ctx: SpContext = { page: viewer.page, origin, deploymentSlug: viewer.audience.kind === 'deployment' ? viewer.audience.slug : null };
  const status = await readPageStatus(db, viewer);
  // `name` and `url` (the audience's page) are statushub's additions to Statuspage's `page`: chat and SMS messages name and link it.
  const { name, url } = spPage(ctx, event.createdAt);
  const page = { id: viewer.page.id, name, url, status_indicator: status.indicator, status_description: status.description };
  const groupsOf = (rows: ComponentRow[]) => [...new Set(rows.map((c) => c.groupId).filter((g): g is string => g !== null))];
  // Component rows as `/api/v2/components.json` shows them (with `group_id` when the audience sees the group).
  const spRows = async (rows: ComponentRow[]) => spComponents(ctx, await listGroupsByIds(db, viewer, groupsOf(rows)), rows).filter((c) => !c.group);

  if (kind === 'component') {
    const component = visible as ComponentRow;
    const before = event.before as { status?: ComponentStatus } | null;
    const after = event.after as { status?: ComponentStatus } | null;
    return {
      body: {
        page,
        component_update: {
          id: `${event.seq}`,
          created_at: event.createdAt.toISOString(),
          old_status: before?.status ?? component.status,
          new_status: after?.status ?? component.status,
          component_id: component.id,
        },
        component: (await spRows([component]))[0],
      },
      componentIds: [component.id],
      groupIds: groupsOf([component]),
      everyone: false,
    };
  }

  if (kind === 'incident') {
    const incident = visible as IncidentRow;
    const [updates, affected] = await Promise.all([listUpdatesOfIncidents(db, viewer, [incident.id]), listAffectedComponents(db, viewer, [incident.id])]);
    const components = affected.map((a) => a.component);
    return {
      body: { page, incident: spIncident(ctx, incident, updates, components, await spRows(components)) },
      componentIds: components.map((c) => c.id),
      groupIds: groupsOf(components),
      everyone: incident.pageWide,
    };
  }

  const maintenance = visible as MaintenanceRow;
  const components: ComponentRow[] = await listMaintenanceComponents(db, viewer, [maintenance.id]);
  return {
    body: { page, incident: spMaintenance(ctx, maintenance, components, await spRows(components)) },
    componentIds: components.map((c) => c.id),
    groupIds: groupsOf(components),
    everyone: maintenance.pageWide,
  };
}

/** Whether a subscriber following these components and groups (both empty: everything) wants this message. */
export function follows(subscriber: { componentIds: string[]; groupIds: string[] }, message: AudienceMessage): boolean {
  if (!subscriber.componentIds.length && !subscriber.groupIds.length) return true;
  if (message.everyone) return true;
  return message.componentIds.some((id) => subscriber.componentIds.includes(id)) || message.groupIds.some((id) => subscriber.groupIds.includes(id));
}
