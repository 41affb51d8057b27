import { eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { upgradeFixture } from '../helpers/upgrade.js';
import { systemViewer } from '../../server/auth/viewer.js';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { migrationsFolder, queryRows, type Db } from '../../server/db/client.js';
import * as tables from '../../server/db/tables/index.js';
import { uptimeHistoryStart } from '../../server/seed-uptime.js';
import { readUptime } from '../../server/read/uptime.js';
import { eventsOf, expectSameDays, reference } from '../helpers/uptime-replay.js';

// A database upgraded from before the rollup: migration 0005 replays the events already recorded,
// so it shows the same bars as the replay did.
//
// NOTE: the history is written with SQL naming only the columns that existed before 0005, not
// through today's services or seed, which write columns and tables later migrations added.

const { before: beforeRollup, open } = upgradeFixture('0005_uptime_rollup');

const day = 86_400_000;

async function component(db: Db, pageId: string, name: string, since: Date): Promise<string> {
  const [row] = await queryRows<{ id: string }>(db, sql`insert into components (page_id, name, status, created_at, updated_at) values (${pageId}, ${name}, 'operational', ${since.toISOString()}::timestamptz, ${since.toISOString()}::timestamptz) returning id`);
  await change(db, pageId, row!.id, 'component.created', null, 'operational', since);
  return row!.id;
}

async function change(db: Db, pageId: string, id: string, action: string, from: string | null, to: string | null, at: Date): Promise<void> {
  const before = from === null ? null : JSON.stringify({ id, status: from });
  const after = to === null ? null : JSON.stringify({ id, status: to });
  await db.execute(sql`insert into events (page_id, actor_type, actor_name, action, entity_type, entity_id, before, after, created_at)
    values (${pageId}, 'system', 'old', ${action}, 'component', ${id}, ${before}::jsonb, ${after}::jsonb, ${at.toISOString()}::timestamptz)`);
}

it('an upgraded database shows the uptime its events gave before the rollup existed', async () => {
  const { db, migrate } = await open();
  await migrate(beforeRollup);
  const { page } = await ensureDefaultPage(db);
  const since = uptimeHistoryStart();
  const at = (daysAgo: number, hour: number) => new Date(Date.now() - daysAgo * day - (Date.now() % day) + hour * 3_600_000);

  // Ninety days of an older hub's history: outages on a few days, some flapping yesterday, and a
  // component deleted halfway (its history must not disturb the others).
  const api = await component(db, page.id, 'API', since);
  const web = await component(db, page.id, 'Web', since);
  const queue = await component(db, page.id, 'Job queue', since);
  const gone = await component(db, page.id, 'Legacy', since);
  await change(db, page.id, web, 'component.status_changed', 'operational', 'partial_outage', at(23, 8));
  await change(db, page.id, web, 'component.status_changed', 'partial_outage', 'operational', at(23, 10));
  await change(db, page.id, queue, 'component.status_changed', 'operational', 'degraded_performance', at(9, 13));
  await change(db, page.id, queue, 'component.status_changed', 'degraded_performance', 'under_maintenance', at(9, 15));
  await change(db, page.id, queue, 'component.status_changed', 'under_maintenance', 'operational', at(8, 2));
  await change(db, page.id, gone, 'component.status_changed', 'operational', 'major_outage', at(50, 3));
  await change(db, page.id, gone, 'component.deleted', 'major_outage', null, at(45, 12));
  await db.execute(sql`delete from components where id = ${gone}`);
  const yesterday = at(1, 0).getTime();
  for (let i = 0; i < 20; i++) {
    await change(db, page.id, api, 'component.status_changed', i % 2 ? 'major_outage' : 'operational', i % 2 ? 'operational' : 'major_outage', new Date(yesterday + i * 600_000));
  }
  const [missing] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from information_schema.tables where table_name = 'component_status_days'`);
  expect(missing!.n).toBe(0);

  await migrate(migrationsFolder);
  const now = new Date();
  const rows = await db.select().from(tables.components).where(eq(tables.components.pageId, page.id));
  expect(rows).toHaveLength(3);
  const uptime = await readUptime(db, systemViewer(page, 'test'), rows, now);
  for (const [i, row] of rows.entries()) expectSameDays(uptime[i]!, reference(await eventsOf(db, row.id), now));
  expect(uptime[rows.findIndex((r) => r.id === api)]!.at(-2)!.worstStatus).toBe('major_outage');
  expect(uptime[rows.findIndex((r) => r.id === web)]!.at(-24)!.worstStatus).toBe('partial_outage');
});
