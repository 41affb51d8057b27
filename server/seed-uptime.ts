import { and, eq } from 'drizzle-orm';
import { actorRef } from './auth/viewer.js';
import type { Db } from './db/client.js';
import { components, events } from './db/tables/index.js';
import type { ComponentStatus } from './domain/vocabulary.js';
import type { ServiceContext } from './services/context.js';

/** Midnight UTC 90 days ago: the seeded catalog's events are recorded at this time (server/seed.ts). */
export function uptimeHistoryStart(): Date {
  const since = new Date(Date.now() - 90 * 86_400_000);
  since.setUTCHours(0, 0, 0, 0);
  return since;
}

/**
 * Ninety days of status history for the demo, so its uptime bars show what a page in use shows.
 * Uptime is replayed from `component.*` events (server/read/uptime.ts): the seed records the
 * components' creation at `uptimeHistoryStart()` (events are append-only, so they are written
 * backdated rather than moved), this dates the component rows to match and records the outages of
 * the two seeded past incidents as status changes at the times those incidents give. It must run
 * right after the components are created and before anything else is recorded, so that sequence
 * order stays time order.
 */
export async function seedUptimeHistory(ctx: ServiceContext): Promise<void> {
  const { db } = ctx;
  const pageId = ctx.viewer.page.id;
  const since = ctx.eventTime ?? uptimeHistoryStart();
  await db.update(components).set({ createdAt: since, updatedAt: since }).where(eq(components.pageId, pageId));

  // The seeded past incidents (server/seed-incidents.ts), as the components lived them.
  const outages: { name: string; status: ComponentStatus; from: Date; to: Date }[] = [
    { name: 'EU-1 API', status: 'degraded_performance', from: daysAgoAt(23, 8, 17), to: daysAgoAt(23, 9, 2) },
    { name: 'Push delivery', status: 'partial_outage', from: daysAgoAt(9, 13, 52), to: daysAgoAt(9, 16, 10) },
    { name: 'Job queue', status: 'degraded_performance', from: daysAgoAt(9, 13, 52), to: daysAgoAt(9, 16, 10) },
  ];
  for (const outage of outages) {
    const [row] = await db
      .select()
      .from(components)
      .where(and(eq(components.pageId, pageId), eq(components.name, outage.name)));
    if (!row) continue;
    await recordStatus(db, ctx, row, 'operational', outage.status, outage.from);
    await recordStatus(db, ctx, row, outage.status, 'operational', outage.to);
  }
}

async function recordStatus(db: Db, ctx: ServiceContext, row: typeof components.$inferSelect, from: ComponentStatus, to: ComponentStatus, at: Date) {
  await db.insert(events).values({
    pageId: ctx.viewer.page.id,
    ...actorRef(ctx.viewer.actor),
    action: 'component.status_changed',
    entityType: 'component',
    entityId: row.id,
    before: { ...row, status: from },
    after: { ...row, status: to, cause: 'demo history' },
    createdAt: at,
  });
}

function daysAgoAt(days: number, hour: number, minute: number): Date {
  const at = new Date(Date.now() - days * 86_400_000);
  at.setUTCHours(hour, minute, 0, 0);
  return at;
}
