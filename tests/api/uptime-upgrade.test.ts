import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { eq, sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, expect, it } from 'vitest';
import { ensureDefaultPage, systemViewer } from '../../server/bootstrap.js';
import { migrationsFolder, queryRows, type Db } from '../../server/db/client.js';
import * as tables from '../../server/db/tables/index.js';
import { readUptime } from '../../server/read/uptime.js';
import { seedDemo } from '../../server/seed.js';
import { eventsOf, expectSameDays, reference } from '../helpers/uptime-replay.js';

// A database upgraded from before the rollup: migration 0005 replays the events already recorded,
// so it shows the same bars as the replay did.

const beforeRollup = mkdtempSync(path.join(tmpdir(), 'statushub-migrations-'));
cpSync(migrationsFolder, beforeRollup, { recursive: true });
const journalPath = path.join(beforeRollup, 'meta/_journal.json');
const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === '0005_uptime_rollup'));
writeFileSync(journalPath, JSON.stringify(journal));

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
  rmSync(beforeRollup, { recursive: true, force: true });
});

async function open(): Promise<{ db: Db; migrate(folder: string): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  const options = { schema: tables, casing: 'snake_case' as const };
  if (!url) {
    const pglite = new PGlite('memory://');
    cleanup.push(() => pglite.close());
    const db = drizzlePglite(pglite, options) as unknown as Db;
    return { db, migrate: (folder) => migratePglite(db as never, { migrationsFolder: folder }) };
  }
  const name = `statushub_t_uptime_upgrade_${randomBytes(3).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const testUrl = new URL(url);
  testUrl.pathname = `/${name}`;
  const client = postgres(testUrl.toString(), { max: 2, onnotice: () => {} });
  cleanup.push(async () => {
    await client.end();
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  });
  const db = drizzlePostgres(client, options) as unknown as Db;
  return { db, migrate: (folder) => migratePostgres(db as never, { migrationsFolder: folder }) };
}

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
