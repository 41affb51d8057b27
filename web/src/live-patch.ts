import { lastUptimeDay, statusOfWorstCode, withLastWorst } from '../../server/domain/uptime-compact';
import { worstComponentStatus, type ComponentStatus } from '../../server/domain/vocabulary';
import type { StatusPageEvent } from './graphql/live';
import type { IncidentItem, MaintenanceItem, StatusPageSummary, UptimeComponentItem, UptimeGroupItem } from './graphql/summary';

/**
 * Applies one live event to a status page's summary, so a change shows without asking the server
 * again: with thousands of viewers, a refetch per change and viewer is a storm. Returns null when
 * the event changes the page's shape in a way the payload cannot describe (a component or group
 * appearing, leaving or moving; a deployment change; a resync): the caller refetches then.
 * Every patch sets absolute values, so applying an event twice is harmless.
 */
export function applyPageEvent(summary: StatusPageSummary, event: StatusPageEvent, now = new Date()): StatusPageSummary | null {
  if (event.resync) return null;
  // Past midnight UTC the bars need a new day: the server draws it.
  if (event.kind === 'component' && !sameUtcDay(summary, now)) return null;
  const next: StatusPageSummary = { ...summary, status: event.status };
  switch (event.kind) {
    case 'component':
      return patchComponent(next, event);
    case 'incident':
      return { ...next, activeIncidents: patchIncidents(next.activeIncidents, event) };
    case 'maintenance':
      return { ...next, maintenances: patchMaintenances(next.maintenances, event) };
    case 'group':
    case 'deployment':
      return null;
    default:
      return next;
  }
}

function patchComponent(summary: StatusPageSummary, event: StatusPageEvent): StatusPageSummary | null {
  const changed = event.component;
  if (event.removed || !changed) return null;
  const update = (component: UptimeComponentItem): UptimeComponentItem =>
    component.id === changed.id ? { ...component, name: changed.name, status: changed.status, uptimeCompact: withToday(component.uptimeCompact, changed.status) } : component;

  const groupId = changed.group?.id ?? null;
  if (groupId === null) {
    if (!summary.ungroupedComponents.some((c) => c.id === changed.id)) return null;
    return { ...summary, ungroupedComponents: summary.ungroupedComponents.map(update) };
  }
  const group = summary.groups.find((g) => g.id === groupId);
  if (!group?.components.some((c) => c.id === changed.id)) return null;
  const groups = summary.groups.map(
    (g): UptimeGroupItem => (g.id === groupId ? { ...g, status: changed.group!.status, components: g.components.map(update) } : g),
  );
  return { ...summary, groups };
}

/** Whether the uptime bars' last day is today (UTC); true when there are no bars. */
function sameUtcDay(summary: StatusPageSummary, now: Date): boolean {
  const first = summary.ungroupedComponents[0] ?? summary.groups.find((g) => g.components.length)?.components[0];
  const last = first ? lastUptimeDay(first.uptimeCompact) : null;
  return !last || last === now.toISOString().slice(0, 10);
}

/** Today's bar shows the worst status of the day so far. */
function withToday(uptime: UptimeComponentItem['uptimeCompact'], status: ComponentStatus): UptimeComponentItem['uptimeCompact'] {
  if (!uptime.worst.length) return uptime;
  const today = statusOfWorstCode(uptime.worst.at(-1));
  const worst = today ? worstComponentStatus([today, status]) : status;
  return worst === today ? uptime : withLastWorst(uptime, worst);
}

const closedIncident = new Set(['resolved', 'postmortem']);
const closedMaintenance = new Set(['completed', 'cancelled']);

/** Active incidents, newest first: an open one is added or replaced, a closed or hidden one leaves. */
function patchIncidents(list: IncidentItem[], event: StatusPageEvent): IncidentItem[] {
  const rest = list.filter((i) => i.id !== event.entityId);
  const incident = event.incident;
  if (event.removed || !incident || closedIncident.has(incident.status)) return rest;
  return [...rest, incident].sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
}

/** Upcoming and in-progress maintenance, soonest first. */
function patchMaintenances(list: MaintenanceItem[], event: StatusPageEvent): MaintenanceItem[] {
  const rest = list.filter((m) => m.id !== event.entityId);
  const window = event.maintenance;
  if (event.removed || !window || closedMaintenance.has(window.status)) return rest;
  return [...rest, window].sort((a, b) => a.scheduledStart.localeCompare(b.scheduledStart) || a.id.localeCompare(b.id));
}
