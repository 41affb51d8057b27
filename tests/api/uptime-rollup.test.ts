import { readFileSync } from 'node:fs';
import { asc, eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/db/client.js';
import { componentStatusDays, components, events, type ComponentRow } from '../../server/db/tables/index.js';
import { componentStatuses, type ComponentStatus } from '../../server/domain/vocabulary.js';
import { readUptime } from '../../server/read/uptime.js';
import { encodeUptime } from '../../server/domain/uptime-compact.js';
import { seedDemo } from '../../server/seed.js';
import * as catalog from '../../server/services/catalog.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { eventsOf, expectSameDays, reference, type Change } from '../helpers/uptime-replay.js';

/**
 * The rollup (component_status_days, kept by a trigger on events) must give exactly what replaying
 * the component's events gives (tests/helpers/uptime-replay.ts: the replay the uptime was computed
 * with before the rollup existed).
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;

async function componentRow(db: Db, id: string): Promise<ComponentRow> {
  const [row] = await db.select().from(components).where(eq(components.id, id));
  return row!;
}

let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

describe('component_status_days', () => {
  it('equals the event replay for random sequences of status changes at random times', async () => {
    const now = new Date();
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    // Times from 130 days ago (before the window) to now, often on a midnight or on the previous change.
    const offset = fc.oneof(
      fc.integer({ min: 0, max: 3 * DAY }),
      fc.constant(0),
      fc.integer({ min: 0, max: 6 }).map((h) => h * HOUR),
    );
    const change = fc.record({
      gap: offset,
      status: fc.constantFrom<ComponentStatus | 'deleted' | 'bogus'>(...componentStatuses, 'deleted', 'bogus'),
      action: fc.constantFrom('component.status_changed', 'component.updated'),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 130 }),
        fc.boolean(),
        fc.array(change, { maxLength: 40 }),
        async (startDaysAgo, onMidnight, steps) => {
          const createdAt = today - startDaysAgo * DAY + (onMidnight ? 0 : 7 * HOUR + 13 * 60_000 + 17);
          const id = (await catalog.createComponent({ ...hub.system, eventTime: new Date(Math.min(createdAt, now.getTime())) }, { name: `P${run++}` })).id;
          let at = Math.min(createdAt, now.getTime());
          const changes: Change[] = [{ at, action: 'component.created', status: 'operational' }];
          for (const step of steps) {
            at += step.gap;
            if (at > now.getTime()) break;
            const action = step.status === 'deleted' ? 'component.deleted' : step.action;
            const status = step.status === 'deleted' ? 'operational' : step.status;
            // Raw inserts, as a bulk load would write them: the trigger must keep up with any writer.
            await hub.database.db.insert(events).values({
              pageId: hub.page.id,
              actorType: 'system',
              actorName: 'test',
              action,
              entityType: 'component',
              entityId: id,
              before: { id, status: 'operational' },
              after: action === 'component.deleted' ? null : { id, status },
              createdAt: new Date(at),
            });
            changes.push({ at, action, status: action === 'component.deleted' || status === 'bogus' ? null : (status as ComponentStatus) });
          }
          const [days] = await readUptime(hub.database.db, hub.system.viewer, [await componentRow(hub.database.db, id)], now);
          expectSameDays(days!, reference(changes, now));
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 60) },
    );
  });

  it('follows changes made through the services (incidents, quick status, delete)', async () => {
    const id = (await catalog.createComponent({ ...hub.system, eventTime: new Date(Date.now() - 3 * DAY) }, { name: 'Services' })).id;
    await catalog.setComponentStatus({ ...hub.system, eventTime: new Date(Date.now() - 2 * DAY) }, id, 'major_outage');
    await catalog.setComponentStatus({ ...hub.system, eventTime: new Date(Date.now() - DAY - 5 * HOUR) }, id, 'under_maintenance');
    await catalog.setComponentStatus(hub.system, id, 'partial_outage');
    const now = new Date(Date.now() + 1000);
    const [days] = await readUptime(hub.database.db, hub.system.viewer, [await componentRow(hub.database.db, id)], now);
    expectSameDays(days!, reference(await eventsOf(hub.database.db, id), now));
    expect(days!.at(-1)!.worstStatus).toBe('partial_outage');
  });

  it('the migration\'s backfill rebuilds exactly what the trigger kept', async () => {
    const kept = await hub.database.db.select().from(componentStatusDays).orderBy(asc(componentStatusDays.componentId), asc(componentStatusDays.day));
    expect(kept.length).toBeGreaterThan(0);
    const migration = readFileSync(new URL('../../drizzle/0005_uptime_rollup.sql', import.meta.url), 'utf8');
    const backfill = migration.split('--> statement-breakpoint').at(-1)!;
    expect(backfill).toContain('DO $$');
    await hub.database.db.execute(sql`delete from ${componentStatusDays}`);
    await hub.database.db.execute(sql.raw(backfill));
    const rebuilt = await hub.database.db.select().from(componentStatusDays).orderBy(asc(componentStatusDays.componentId), asc(componentStatusDays.day));
    expect(rebuilt).toEqual(kept);
  });

  it('the demo seed shows the same bars as its events replayed', async () => {
    const demo = await startTestHub();
    try {
      await seedDemo(demo.database.db, demo.page);
      const now = new Date();
      const rows = await demo.database.db.select().from(components).where(eq(components.pageId, demo.page.id));
      const uptime = await readUptime(demo.database.db, demo.system.viewer, rows, now);
      for (const [i, row] of rows.entries()) expectSameDays(uptime[i]!, reference(await eventsOf(demo.database.db, row.id), now));
      const push = uptime[rows.findIndex((r) => r.name === 'Push delivery')]!;
      expect(push.some((d) => d.worstStatus === 'partial_outage')).toBe(true);
    } finally {
      await demo.close();
    }
  });

  it('reads one row per component and day, however many events a day had', async () => {
    const id = (await catalog.createComponent({ ...hub.system, eventTime: new Date(Date.now() - 2 * DAY) }, { name: 'Flapping' })).id;
    const start = Date.now() - DAY - 20 * HOUR;
    const statuses: ComponentStatus[] = ['major_outage', 'operational'];
    for (let i = 0; i < 200; i++) {
      await hub.database.db.insert(events).values({
        pageId: hub.page.id, actorType: 'system', actorName: 'test', action: 'component.status_changed', entityType: 'component',
        entityId: id, before: { status: statuses[(i + 1) % 2] }, after: { status: statuses[i % 2] }, createdAt: new Date(start + i * 60_000),
      });
    }
    const rows = await hub.database.db.select().from(componentStatusDays).where(eq(componentStatusDays.componentId, id));
    expect(rows.length).toBeLessThanOrEqual(2);
    const now = new Date();
    const [days] = await readUptime(hub.database.db, hub.system.viewer, [await componentRow(hub.database.db, id)], now);
    expectSameDays(days!, reference(await eventsOf(hub.database.db, id), now));
  });

  it('Component.uptimeCompact carries the days of Component.uptime', async () => {
    const id = (await catalog.createComponent({ ...hub.system, eventTime: new Date(Date.now() - 4 * DAY) }, { name: 'Compact' })).id;
    await catalog.setComponentStatus({ ...hub.system, eventTime: new Date(Date.now() - 2 * DAY - 3 * HOUR) }, id, 'partial_outage');
    await catalog.setComponentStatus({ ...hub.system, eventTime: new Date(Date.now() - 2 * DAY) }, id, 'under_maintenance');
    await catalog.setComponentStatus({ ...hub.system, eventTime: new Date(Date.now() - DAY) }, id, 'operational');
    const { data, errors } = await hub.gql(
      'query ($id: ID!) { component(id: $id) { uptime { date uptimePercent worstStatus } uptimeCompact { from basisPoints worst } week: uptimeCompact(days: 7) { from worst } } }',
      { id },
    );
    expect(errors).toBeUndefined();
    expect(data.component.uptimeCompact).toEqual(encodeUptime(data.component.uptime));
    expect(data.component.uptimeCompact.basisPoints).toHaveLength(90);
    expect(data.component.week.worst).toHaveLength(7);
    expect(data.component.week.worst).toMatch(/^-+o+[pm]+o+$/);
  });
});
