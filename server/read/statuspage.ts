import type { ComponentGroupRow, ComponentRow, IncidentRow, IncidentUpdateRow, MaintenanceRow, PageRow } from '../db/tables/index.js';
import { worstComponentStatus, type ComponentStatus, type Impact } from '../domain/vocabulary.js';

/**
 * The Statuspage v2 read model (https://developer.statuspage.io/#tag/pages, the public
 * `/api/v2/*.json` documents), mapped from rows one audience has already read. Pure: everything
 * it is given was filtered by server/read/*.ts for that audience, and it adds nothing the rows do
 * not hold. Field names and values follow Statuspage so existing consumers read it unchanged.
 */

export interface SpPage {
  id: string;
  name: string;
  url: string;
  time_zone: string;
  updated_at: string;
}

export interface SpStatus {
  indicator: Impact;
  description: string;
}

export interface SpComponent {
  id: string;
  name: string;
  status: ComponentStatus;
  created_at: string;
  updated_at: string;
  position: number;
  description: string | null;
  showcase: boolean;
  start_date: string | null;
  group_id: string | null;
  page_id: string;
  group: boolean;
  only_show_if_degraded: boolean;
  /** Group rows only: the ids of the components in it that the audience can see. */
  components?: string[];
}

export interface SpAffectedComponent {
  code: string;
  name: string;
  old_status: ComponentStatus;
  new_status: ComponentStatus;
}

export interface SpIncidentUpdate {
  id: string;
  status: string;
  body: string;
  incident_id: string;
  created_at: string;
  updated_at: string;
  display_at: string;
  affected_components: SpAffectedComponent[] | null;
  deliver_notifications: boolean;
}

export interface SpIncident {
  id: string;
  name: string;
  status: string;
  impact: Impact | 'maintenance';
  created_at: string;
  updated_at: string;
  monitoring_at: string | null;
  resolved_at: string | null;
  started_at: string;
  shortlink: string;
  page_id: string;
  components: SpComponent[];
  incident_updates: SpIncidentUpdate[];
}

export interface SpMaintenance extends SpIncident {
  scheduled_for: string;
  scheduled_until: string;
}

export const spMaintenanceStatuses = ['scheduled', 'in_progress', 'verifying', 'completed'] as const;

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null | undefined) => (date ? date.toISOString() : null);
const latest = (dates: (Date | null | undefined)[], fallback: Date) =>
  dates.reduce<Date>((max, d) => (d && d.getTime() > max.getTime() ? d : max), fallback);

/** Where this audience's page lives: the deployment's own page for a deployment view. */
export interface SpContext {
  page: PageRow;
  origin: string;
  /** The deployment whose view this is, or null for the public page. */
  deploymentSlug: string | null;
}

/** The web page this audience reads: `/` or `/d/<slug>`. */
const pageUrl = (ctx: SpContext) => (ctx.deploymentSlug ? `${ctx.origin}/d/${encodeURIComponent(ctx.deploymentSlug)}` : `${ctx.origin}/`);

export function spPage(ctx: SpContext, updatedAt: Date): SpPage {
  return { id: ctx.page.id, name: ctx.page.name, url: pageUrl(ctx), time_zone: ctx.page.timeZone, updated_at: iso(updatedAt) };
}

/**
 * Components in display order, each group as a row of its own followed by its components
 * (`group_id`), then the components in no group. A group's status is the worst of the components
 * in it that the audience can see; a group with none of them is left out.
 */
export function spComponents(ctx: SpContext, groups: ComponentGroupRow[], components: ComponentRow[]): SpComponent[] {
  const rows: SpComponent[] = [];
  const component = (c: ComponentRow): SpComponent => ({
    id: c.id,
    name: c.name,
    status: c.status,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    position: rows.length + 1,
    description: c.description || null,
    showcase: true,
    start_date: c.createdAt.toISOString().slice(0, 10),
    group_id: c.groupId,
    page_id: ctx.page.id,
    group: false,
    only_show_if_degraded: false,
  });
  for (const group of groups) {
    const children = components.filter((c) => c.groupId === group.id);
    if (!children.length) continue;
    rows.push({
      id: group.id,
      name: group.name,
      status: worstComponentStatus(children.map((c) => c.status)),
      created_at: iso(group.createdAt),
      updated_at: iso(latest(children.map((c) => c.updatedAt), group.createdAt)),
      position: rows.length + 1,
      description: group.description || null,
      showcase: false,
      start_date: null,
      group_id: null,
      page_id: ctx.page.id,
      group: true,
      only_show_if_degraded: false,
      components: children.map((c) => c.id),
    });
    for (const child of children) rows.push(component(child));
  }
  const grouped = new Set(groups.map((g) => g.id));
  for (const c of components) if (!c.groupId || !grouped.has(c.groupId)) rows.push(component({ ...c, groupId: c.groupId && grouped.has(c.groupId) ? c.groupId : null }));
  return rows;
}

/** The components an incident or maintenance affects, as component rows (no group rows). */
function affectedRows(ctx: SpContext, affected: ComponentRow[], all: SpComponent[]): SpComponent[] {
  const byId = new Map(all.map((c) => [c.id, c]));
  return affected.map((c) => byId.get(c.id) ?? spComponents(ctx, [], [c])[0]!);
}

export function spIncident(
  ctx: SpContext,
  incident: IncidentRow,
  updates: IncidentUpdateRow[],
  affected: ComponentRow[],
  allComponents: SpComponent[],
): SpIncident {
  const newestFirst = [...updates].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const monitoring = newestFirst.filter((u) => u.status === 'monitoring').at(-1);
  return {
    id: incident.id,
    name: incident.title,
    status: incident.status,
    impact: incident.impact,
    created_at: iso(incident.createdAt),
    updated_at: iso(latest([incident.updatedAt, ...updates.map((u) => u.createdAt)], incident.createdAt)),
    monitoring_at: isoOrNull(monitoring?.createdAt),
    resolved_at: isoOrNull(incident.resolvedAt),
    started_at: iso(incident.startedAt),
    // A deployment's incidents open on the incident page read as that deployment.
    shortlink: `${ctx.origin}/incidents/${encodeURIComponent(incident.id)}${ctx.deploymentSlug ? `?deployment=${encodeURIComponent(ctx.deploymentSlug)}` : ''}`,
    page_id: ctx.page.id,
    components: affectedRows(ctx, affected, allComponents),
    incident_updates: newestFirst.map((u) => ({
      id: u.id,
      status: u.status,
      body: u.message,
      incident_id: incident.id,
      created_at: iso(u.createdAt),
      updated_at: iso(u.createdAt),
      display_at: iso(u.createdAt),
      affected_components: u.componentChanges.length
        ? u.componentChanges.map((c) => ({ code: c.componentId, name: c.name, old_status: c.from, new_status: c.to }))
        : null,
      deliver_notifications: u.deliverNotifications,
    })),
  };
}

/**
 * A maintenance as a Statuspage scheduled maintenance. Cancelled windows have no Statuspage status
 * and are not listed (the caller leaves them out); `verifying` is never reached here. The
 * timeline is made of the states it reached: scheduled (with its description), in progress,
 * completed.
 */
export function spMaintenance(ctx: SpContext, m: MaintenanceRow, affected: ComponentRow[], allComponents: SpComponent[]): SpMaintenance {
  const status = m.status === 'cancelled' ? 'completed' : m.status;
  const steps: { key: string; status: string; body: string; at: Date }[] = [{ key: 'scheduled', status: 'scheduled', body: m.body || m.title, at: m.createdAt }];
  if (m.startedAt) steps.push({ key: 'in_progress', status: 'in_progress', body: 'Scheduled maintenance is in progress.', at: m.startedAt });
  if (m.completedAt && m.status === 'completed') steps.push({ key: 'completed', status: 'completed', body: 'The scheduled maintenance has been completed.', at: m.completedAt });
  return {
    id: m.id,
    name: m.title,
    status,
    impact: 'maintenance',
    created_at: iso(m.createdAt),
    updated_at: iso(m.updatedAt),
    monitoring_at: null,
    resolved_at: m.status === 'completed' ? isoOrNull(m.completedAt ?? m.scheduledEnd) : null,
    started_at: iso(m.startedAt ?? m.scheduledStart),
    // The web app has no page per maintenance: the page that shows it.
    shortlink: pageUrl(ctx),
    page_id: ctx.page.id,
    components: affectedRows(ctx, affected, allComponents),
    scheduled_for: iso(m.scheduledStart),
    scheduled_until: iso(m.scheduledEnd),
    incident_updates: steps.reverse().map((s) => ({
      id: `${m.id}:${s.key}`,
      status: s.status,
      body: s.body,
      incident_id: m.id,
      created_at: iso(s.at),
      updated_at: iso(s.at),
      display_at: iso(s.at),
      affected_components: null,
      deliver_notifications: true,
    })),
  };
}
