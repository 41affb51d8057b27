import { eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { upgradeFixture } from '../helpers/upgrade.js';
import { systemViewer } from '../../server/auth/viewer.js';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { migrationsFolder, queryRows } from '../../server/db/client.js';
import * as tables from '../../server/db/tables/index.js';
import { readUptime } from '../../server/read/uptime.js';
import { seedDemo } from '../../server/seed.js';
import { eventsOf, expectSameDays, reference } from '../helpers/uptime-replay.js';

// A database upgraded from before the rollup: migration 0005 replays the events already recorded,
// so it shows the same bars as the replay did.

const { before: beforeRollup, open } = upgradeFixture('0005_uptime_rollup');

it('an upgraded database shows the uptime its events gave before the rollup existed', async () => {
  const { db, migrate } = await open();
  await migrate(beforeRollup);
  const { page } = await ensureDefaultPage(db);
  await seedDemo(db, page);
  const [api] = await db.select().from(tables.components).where(eq(tables.components.name, 'API'));
  // Some flapping yesterday, and a deleted component, recorded before the upgrade.
  const yesterday = Date.now() - 86_400_000;
  for (let i = 0; i < 20; i++) {
    await db.insert(tables.events).values({
      pageId: page.id, actorType: 'system', actorName: 'old', action: 'component.status_changed', entityType: 'component', entityId: api!.id,
      before: { status: 'operational' }, after: { status: i % 2 ? 'operational' : 'major_outage' }, createdAt: new Date(yesterday + i * 600_000),
    });
  }
  const [missing] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from information_schema.tables where table_name = 'component_status_days'`);
  expect(missing!.n).toBe(0);

  await migrate(migrationsFolder);
  const now = new Date();
  const rows = await db.select().from(tables.components).where(eq(tables.components.pageId, page.id));
  const uptime = await readUptime(db, systemViewer(page, 'test'), rows, now);
  for (const [i, row] of rows.entries()) expectSameDays(uptime[i]!, reference(await eventsOf(db, row.id), now));
  expect(uptime[rows.findIndex((r) => r.id === api!.id)]!.at(-2)!.worstStatus).toBe('major_outage');
});
