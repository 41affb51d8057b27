import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db/client.js';
import { events, type ComponentRow } from '../db/tables/index.js';
import type { Viewer } from '../auth/viewer.js';
import { componentStatuses, worstComponentStatus, type ComponentStatus } from '../domain/vocabulary.js';

/**
 * Daily uptime per component, derived from the event table (no table of its own).
 *
 * Every change of a component's status is an event (`component.created`, `component.updated`,
 * `component.status_changed`, `component.deleted`) whose `after` row holds the new `status`.
 * Replaying them in `seq` order gives intervals of constant status; each UTC day is cut out of them.
 *
 * The rule (Statuspage-like):
 * - **up**: `operational` and `degraded_performance` (slow is not down);
 * - **down**: `partial_outage` and `major_outage`;
 * - **excluded**: `under_maintenance` (planned work counts neither way), and any time before the
 *   component existed, after it was deleted, or in the future.
 * - `uptimePercent = up ÷ (up + down) × 100`, i.e. time operational ÷ (time in the day − time under
 *   maintenance); `null` when nothing is left (a day entirely under maintenance, or before the
 *   component existed).
 * - `worstStatus` is the worst status held at any moment of the day (maintenance included, ranked as
 *   in `worstComponentStatus`); `null` for a day the component did not exist.
 *
 * The caller passes components it has already read through the audience-filtered catalog, so
 * this module never decides visibility; it reads the events of those ids only, in one statement.
 */

export const maxUptimeDays = 90;
const dayMs = 86_400_000;

export interface UptimeDay {
  /** UTC day, `YYYY-MM-DD`. */
  date: string;
  uptimePercent: number | null;
  worstStatus: ComponentStatus | null;
  upMs: number;
  downMs: number;
}

const upStatuses = new Set<ComponentStatus>(['operational', 'degraded_performance']);
const downStatuses = new Set<ComponentStatus>(['partial_outage', 'major_outage']);
const statusActions = ['component.created', 'component.updated', 'component.status_changed', 'component.deleted'];

interface StatusEvent {
  entityId: string;
  action: string;
  at: Date;
  status: string | null;
}

interface Interval {
  from: number;
  to: number;
  status: ComponentStatus;
}

function isStatus(value: unknown): value is ComponentStatus {
  return typeof value === 'string' && (componentStatuses as readonly string[]).includes(value);
}

/** Start of the first UTC day of a window of `days` days ending today. */
export function windowStart(now: Date, days: number): number {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return today - (days - 1) * dayMs;
}

/**
 * One statement for every component: the status events inside the window, plus the last one
 * before it per component (the status the window opens with).
 */
async function readStatusEvents(db: Db, viewer: Viewer, ids: readonly string[], from: Date): Promise<StatusEvent[]> {
  if (!ids.length) return [];
  const idList = sql.join(ids.map((id) => sql`${id}`), sql`, `);
  const actionList = sql.join(statusActions.map((a) => sql`${a}`), sql`, `);
  const base = sql`${events.pageId} = ${viewer.page.id} and ${events.entityType} = 'component'
    and ${events.entityId} in (${idList}) and ${events.action} in (${actionList})`;
  const rows = await queryRows<{ entity_id: string; action: string; at_ms: number | string; status: string | null }>(
    db,
    sql`select ${events.entityId} as entity_id, ${events.action} as action, (extract(epoch from ${events.createdAt}) * 1000)::float8 as at_ms,
        coalesce(${events.after}->>'status', ${events.before}->>'status') as status
      from ${events}
      where ${base} and (${events.createdAt} >= ${from.toISOString()}::timestamptz or ${events.seq} in (
        select distinct on (e2.entity_id) e2.seq from ${events} e2
        where e2.page_id = ${viewer.page.id} and e2.entity_type = 'component' and e2.entity_id in (${idList})
          and e2.action in (${actionList}) and e2.created_at < ${from.toISOString()}::timestamptz
        order by e2.entity_id, e2.seq desc))
      order by ${events.seq}`,
  );
  return rows.map((r) => ({ entityId: r.entity_id, action: r.action, at: new Date(Number(r.at_ms)), status: r.status }));
}

/** Replay a component's events (in seq order) into intervals of constant status, up to `now`. */
function intervalsOf(component: ComponentRow, list: StatusEvent[], now: number): Interval[] {
  const intervals: Interval[] = [];
  // No event at all (data written around the services): the current status since creation.
  if (!list.length) return [{ from: component.createdAt.getTime(), to: now, status: component.status }];
  let open: { from: number; status: ComponentStatus } | null = null;
  for (const event of list) {
    const at = event.at.getTime();
    if (open && at > open.from) intervals.push({ from: open.from, to: at, status: open.status });
    if (open) open = null;
    if (event.action !== 'component.deleted' && isStatus(event.status)) open = { from: at, status: event.status };
  }
  if (open && now > open.from) intervals.push({ from: open.from, to: now, status: open.status });
  return intervals;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Cut intervals into the UTC days of the window. */
export function dailyUptime(intervals: readonly Interval[], start: number, days: number, now: number): UptimeDay[] {
  const result: UptimeDay[] = [];
  for (let d = 0; d < days; d++) {
    const dayStart = start + d * dayMs;
    const dayEnd = Math.min(dayStart + dayMs, now);
    let upMs = 0;
    let downMs = 0;
    const seen: ComponentStatus[] = [];
    for (const i of intervals) {
      const from = Math.max(i.from, dayStart);
      const to = Math.min(i.to, dayEnd);
      if (to <= from) continue;
      seen.push(i.status);
      if (upStatuses.has(i.status)) upMs += to - from;
      else if (downStatuses.has(i.status)) downMs += to - from;
    }
    const known = upMs + downMs;
    result.push({
      date: isoDate(dayStart),
      uptimePercent: known > 0 ? round((upMs / known) * 100) : null,
      worstStatus: seen.length ? worstComponentStatus(seen) : null,
      upMs,
      downMs,
    });
  }
  return result;
}

/** Overall uptime of some days: up ÷ (up + down), maintenance and unknown time excluded. */
export function overallUptime(days: readonly UptimeDay[]): number | null {
  let up = 0;
  let down = 0;
  for (const d of days) {
    up += d.upMs;
    down += d.downMs;
  }
  return up + down > 0 ? round((up / (up + down)) * 100) : null;
}

function round(percent: number): number {
  return Math.round(percent * 10_000) / 10_000;
}

/**
 * The last `maxUptimeDays` UTC days (oldest first, today last) for each component, in one query.
 * Fields that want fewer days take the tail.
 */
export async function readUptime(db: Db, viewer: Viewer, componentRows: readonly ComponentRow[], now = new Date()): Promise<UptimeDay[][]> {
  const start = windowStart(now, maxUptimeDays);
  const list = await readStatusEvents(db, viewer, [...new Set(componentRows.map((c) => c.id))], new Date(start));
  const byId = new Map<string, StatusEvent[]>();
  for (const e of list) {
    let l = byId.get(e.entityId);
    if (!l) byId.set(e.entityId, (l = []));
    l.push(e);
  }
  return componentRows.map((c) => dailyUptime(intervalsOf(c, byId.get(c.id) ?? [], now.getTime()), start, maxUptimeDays, now.getTime()));
}

/**
 * How much of an objective's error budget is left, in percent: the budget is the downtime the
 * target allows (100 − target), the spend is the downtime measured (100 − uptime).
 */
export function errorBudgetRemaining(sloTarget: number | null, uptimePercent: number | null): number | null {
  if (sloTarget === null || uptimePercent === null) return null;
  const budget = 100 - sloTarget;
  const spent = 100 - uptimePercent;
  return Math.round((1 - spent / budget) * 100 * 100) / 100;
}
