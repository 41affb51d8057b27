import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll } from 'vitest';
import { migrationsFolder, type Db } from '../../server/db/client.js';
import * as tables from '../../server/db/tables/index.js';

/**
 * Upgrade tests: a copy of drizzle/ that stops before the migration `tag`, and an empty database
 * (PostgreSQL when DATABASE_URL is set, in-memory PGlite otherwise) to migrate by hand, first to
 * that folder, then to the real one. Everything is removed after the test file.
 */
export function upgradeFixture(tag: string): { before: string; open(): Promise<{ db: Db; migrate(folder: string): Promise<void> }> } {
  const before = mkdtempSync(path.join(tmpdir(), 'statushub-migrations-'));
  cpSync(migrationsFolder, before, { recursive: true });
  const journalPath = path.join(before, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === tag));
  writeFileSync(journalPath, JSON.stringify(journal));

  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
    rmSync(before, { recursive: true, force: true });
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
    const name = `statushub_t_upgrade_${randomBytes(3).toString('hex')}`;
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

  return { before, open };
}
