import { date, doublePrecision, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { componentStatusEnum } from './enums.js';

/**
 * Daily uptime per component, kept current on write: one row per component and UTC day on which
 * its status changed (or it was created or deleted). Days without a row continue the status the
 * previous row ended with, so a read needs the window's rows plus the last row before it:
 * O(components × days), however many events there are.
 *
 * Maintained by the `statushub_uptime_apply` trigger on `events` (drizzle/0005_uptime_rollup.sql)
 * from the same `component.*` events the uptime used to be replayed from, in the inserting
 * transaction, whoever inserts them; the migration replays the existing events once. Read by
 * server/read/uptime.ts.
 */
export const componentStatusDays = pgTable(
  'component_status_days',
  {
    /** `events.entity_id` of the component (no foreign key: `component.deleted` is recorded after the row is gone). */
    componentId: text().notNull(),
    /** UTC day. */
    day: date({ mode: 'string' }).notNull(),
    /** Time in the day before `lastAt`, in milliseconds, by kind: up (operational, degraded), down (partial, major outage), maintenance. */
    upMs: doublePrecision().notNull().default(0),
    downMs: doublePrecision().notNull().default(0),
    maintenanceMs: doublePrecision().notNull().default(0),
    /** Worst status held for a positive time before `lastAt`; null if none. */
    worstClosed: componentStatusEnum(),
    /** The status from `lastAt` on (to the end of the day, or the next row); null once deleted. */
    lastStatus: componentStatusEnum(),
    lastAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.componentId, t.day] })],
);

export type ComponentStatusDayRow = typeof componentStatusDays.$inferSelect;
