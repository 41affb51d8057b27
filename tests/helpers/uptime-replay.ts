import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { queryRows, type Db } from '../../server/db/client.js';
import { events } from '../../server/db/tables/index.js';
import { componentStatuses, type ComponentStatus } from '../../server/domain/vocabulary.js';
import { dailyUptime, maxUptimeDays, windowStart, type Interval, type UptimeDay } from '../../server/read/uptime.js';

/** The event replay uptime was computed with before the rollup: the reference the rollup must equal. */

const statusActions = ['component.created', 'component.updated', 'component.status_changed', 'component.deleted'];

export interface Change {
  at: number;
  action: string;
  status: ComponentStatus | null;
}

/** The event replay: intervals of constant status, in seq order, up to `now`. */
export function replay(changes: readonly Change[], now: number): Interval[] {
  const intervals: Interval[] = [];
  let open: { from: number; status: ComponentStatus } | null = null;
  for (const change of changes) {
    if (open && change.at > open.from) intervals.push({ from: open.from, to: change.at, status: open.status });
    open = change.action !== 'component.deleted' && change.status ? { from: change.at, status: change.status } : null;
  }
  if (open && now > open.from) intervals.push({ from: open.from, to: now, status: open.status });
  return intervals;
}

export function reference(changes: readonly Change[], now: Date): UptimeDay[] {
  return dailyUptime(replay(changes, now.getTime()), windowStart(now, maxUptimeDays), maxUptimeDays, now.getTime());
}

/** The same days, with floating-point sums compared to a microsecond. */
export function expectSameDays(actual: UptimeDay[], expected: UptimeDay[]): void {
  expect(actual.map((d) => [d.date, d.worstStatus, d.uptimePercent === null])).toEqual(expected.map((d) => [d.date, d.worstStatus, d.uptimePercent === null]));
  actual.forEach((d, i) => {
    const e = expected[i]!;
    expect(Math.abs(d.upMs - e.upMs), `${d.date} upMs`).toBeLessThan(0.001);
    expect(Math.abs(d.downMs - e.downMs), `${d.date} downMs`).toBeLessThan(0.001);
    if (d.uptimePercent !== null) expect(Math.abs(d.uptimePercent - e.uptimePercent!), `${d.date} %`).toBeLessThan(0.001);
  });
}

export async function eventsOf(db: Db, componentId: string): Promise<Change[]> {
  const rows = await queryRows<{ action: string; at_ms: number | string; status: string | null }>(
    db,
    sql`select action, (extract(epoch from created_at) * 1000)::float8 as at_ms, coalesce(after->>'status', before->>'status') as status
      from ${events} where entity_type = 'component' and entity_id = ${componentId}
        and action in (${sql.join(statusActions.map((a) => sql`${a}`), sql`, `)}) order by seq`,
  );
  return rows.map((r) => ({
    action: r.action,
    at: Number(r.at_ms),
    status: (componentStatuses as readonly string[]).includes(r.status ?? '') ? (r.status as ComponentStatus) : null,
  }));
}

