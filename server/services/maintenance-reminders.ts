import { and, asc, eq, gt, lte, sql } from 'drizzle-orm';
import { events, maintenanceComponents, maintenances } from '../db/tables/index.js';
import { requirePermission, transact, type ServiceContext } from './context.js';

/** A reminder before a maintenance window: `label` as configured (`24h`), `ms` before its start. */
export interface ReminderOffset {
  label: string;
  ms: number;
}

/**
 * Record the reminders that are due now as `maintenance.reminder` events (the notifier sends them
 * like any other news). For each scheduled window, only the nearest offset that has come is sent,
 * and only when the window was announced before that offset (a window scheduled 30 minutes ahead
 * gets no "1 hour before" reminder: its announcement is the news). Each (window, offset) once,
 * checked under the window's row lock, so several workers never record one twice.
 * Returns how many it recorded.
 */
export async function recordMaintenanceReminders(ctx: ServiceContext, offsets: ReminderOffset[], now: Date = new Date()): Promise<number> {
  requirePermission(ctx, 'write:maintenance');
  if (!offsets.length) return 0;
  const longest = Math.max(...offsets.map((o) => o.ms));
  const candidates = await ctx.db
    .select({ id: maintenances.id, scheduledStart: maintenances.scheduledStart, createdAt: maintenances.createdAt })
    .from(maintenances)
    .where(
      and(
        eq(maintenances.pageId, ctx.viewer.page.id),
        eq(maintenances.status, 'scheduled'),
        gt(maintenances.scheduledStart, now),
        lte(maintenances.scheduledStart, new Date(now.getTime() + longest)),
      ),
    )
    .orderBy(asc(maintenances.scheduledStart));
  let recorded = 0;
  for (const candidate of candidates) {
    const due = offsets
      .filter((o) => candidate.scheduledStart.getTime() - o.ms <= now.getTime() && candidate.createdAt.getTime() < candidate.scheduledStart.getTime() - o.ms)
      .sort((a, b) => a.ms - b.ms)[0];
    if (!due) continue;
    const done = await transact(ctx, async (w) => {
      const [row] = await w.tx
        .select()
        .from(maintenances)
        .where(and(eq(maintenances.id, candidate.id), eq(maintenances.pageId, ctx.viewer.page.id)))
        .for('update');
      if (!row || row.status !== 'scheduled') return false;
      const [sent] = await w.tx
        .select({ seq: events.seq })
        .from(events)
        .where(and(eq(events.entityType, 'maintenance'), eq(events.entityId, row.id), eq(events.action, 'maintenance.reminder'), sql`${events.after}->>'reminder' = ${due.label}`))
        .limit(1);
      if (sent) return false;
      const componentIds = (await w.tx.select({ id: maintenanceComponents.componentId }).from(maintenanceComponents).where(eq(maintenanceComponents.maintenanceId, row.id))).map((c) => c.id);
      await w.record({ action: 'maintenance.reminder', entityType: 'maintenance', entityId: row.id, after: { ...row, componentIds, reminder: due.label } });
      return true;
    });
    if (done) recorded++;
  }
  return recorded;
}
