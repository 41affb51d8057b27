import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db/client.js';
import { componentStatusDays, type ComponentRow } from '../db/tables/index.js';
import type { Viewer } from '../auth/viewer.js';
import { worstComponentStatus, type ComponentStatus } from '../domain/vocabulary.js';

/**
 * Daily uptime per component, read from the `component_status_days` rollup
 * (server/db/tables/uptime.ts), which a trigger keeps current from the same `component.*` events
 * (`component.created`, `component.updated`, `component.status_changed`, `component.deleted`, whose
 * `after` row holds the new `status`) in the transaction that records them. A read costs
 * O(components × days) however long the event log is.
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
 * this module never decides visibility; it reads the rollup rows of those ids only, in one statement.
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

/** A time during which a component held one status (the event replay's unit; tests recompute with it). */
export interface Interval {
  from: number;
  to: number;
  status: ComponentStatus;
}

/** Start of the first UTC day of a window of `days` days ending today. */
export function windowStart(now: Date, days: number): number {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return today - (days - 1) * dayMs;
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

interface RollupDay {
  day: string;
  upMs: number;
  downMs: number;
  worstClosed: ComponentStatus | null;
  lastStatus: ComponentStatus | null;
  lastMs: number;
}

/**
 * One statement for every component: its rollup rows inside the window, plus its last row before
 * the window (the status the window opens with), found through the primary key per component.
 */
async function readRollup(db: Db, ids: readonly string[], startDay: string): Promise<Map<string, { before: RollupDay | null; days: Map<string, RollupDay> }>> {
  const byId = new Map<string, { before: RollupDay | null; days: Map<string, RollupDay> }>(ids.map((id) => [id, { before: null, days: new Map() }]));
  if (!ids.length) return byId;
  const idList = sql.join(ids.map((id) => sql`${id}`), sql`, `);
  const d = componentStatusDays;
  const columns = sql`${d.componentId} as component_id, ${d.day}::text as day, ${d.upMs} as up_ms, ${d.downMs} as down_ms,
    ${d.worstClosed} as worst_closed, ${d.lastStatus} as last_status, (extract(epoch from ${d.lastAt}) * 1000)::float8 as last_ms`;
  // NOTE: a row per component with arrays, not a row per day: the drivers (PGlite above all)
  // spend more on hundreds of small rows than PostgreSQL spends finding them.
  const rows = await queryRows<{
    component_id: string;
    before: boolean;
    days: string[];
    up_ms: number[];
    down_ms: number[];
    // '' for null: postgres.js reads a NULL element of a text array as the string 'NULL'.
    worst_closed: (ComponentStatus | '')[];
    last_status: (ComponentStatus | '')[];
    last_ms: number[];
  }>(
    db,
    sql`select r.component_id, r.before, array_agg(r.day) as days, array_agg(r.up_ms) as up_ms, array_agg(r.down_ms) as down_ms,
        array_agg(coalesce(r.worst_closed::text, '')) as worst_closed, array_agg(coalesce(r.last_status::text, '')) as last_status, array_agg(r.last_ms) as last_ms
      from (
        select ${columns}, false as before from ${d} where ${d.componentId} in (${idList}) and ${d.day} >= ${startDay}::date
        union all
        select p.*, true as before from unnest(array[${idList}]::text[]) as c(id)
          cross join lateral (select ${columns} from ${d} where ${d.componentId} = c.id and ${d.day} < ${startDay}::date order by ${d.day} desc limit 1) p
      ) r group by r.component_id, r.before`,
  );
  for (const r of rows) {
    const entry = byId.get(r.component_id)!;
    r.days.forEach((date, i) => {
      const day: RollupDay = { day: date, upMs: Number(r.up_ms[i]), downMs: Number(r.down_ms[i]), worstClosed: r.worst_closed[i] || null, lastStatus: r.last_status[i] || null, lastMs: Number(r.last_ms[i]) };
      if (r.before) entry.before = day;
      else entry.days.set(date, day);
    });
  }
  return byId;
}

/**
 * The window's days from a component's rollup rows. A day with a row: the time it closed, plus its
 * last status from `lastAt` to the end of the day (or now). A day without one: the status the
 * previous row ended with, all day.
 */
function daysFromRollup(rollup: { before: RollupDay | null; days: Map<string, RollupDay> }, start: number, days: number, now: number): UptimeDay[] {
  const result: UptimeDay[] = [];
  let carry = rollup.before?.lastStatus ?? null;
  for (let i = 0; i < days; i++) {
    const dayStart = start + i * dayMs;
    const dayEnd = Math.min(dayStart + dayMs, now);
    const date = isoDate(dayStart);
    const row = rollup.days.get(date);
    let upMs = row?.upMs ?? 0;
    let downMs = row?.downMs ?? 0;
    let worst: ComponentStatus | null = row?.worstClosed ?? null;
    const open = row ? row.lastStatus : carry;
    const openMs = dayEnd - Math.max(row ? row.lastMs : dayStart, dayStart);
    if (open && openMs > 0) {
      if (upStatuses.has(open)) upMs += openMs;
      else if (downStatuses.has(open)) downMs += openMs;
      worst = worst ? worstComponentStatus([worst, open]) : open;
    }
    if (row) carry = row.lastStatus;
    const known = upMs + downMs;
    result.push({ date, uptimePercent: known > 0 ? round((upMs / known) * 100) : null, worstStatus: worst, upMs, downMs });
  }
  return result;
}

/**
 * The last `maxUptimeDays` UTC days (oldest first, today last) for each component, in one query.
 * Fields that want fewer days take the tail. A component without any rollup row (written around
 * the services and their events) shows its current status since its creation.
 */
export async function readUptime(db: Db, _viewer: Viewer, componentRows: readonly ComponentRow[], now = new Date()): Promise<UptimeDay[][]> {
  const start = windowStart(now, maxUptimeDays);
  const rollups = await readRollup(db, [...new Set(componentRows.map((c) => c.id))], isoDate(start));
  return componentRows.map((c) => {
    const rollup = rollups.get(c.id)!;
    if (!rollup.before && !rollup.days.size) {
      return dailyUptime([{ from: c.createdAt.getTime(), to: now.getTime(), status: c.status }], start, maxUptimeDays, now.getTime());
    }
    return daysFromRollup(rollup, start, maxUptimeDays, now.getTime());
  });
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
