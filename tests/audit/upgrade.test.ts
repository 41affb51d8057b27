import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, expect, it } from 'vitest';
import { genesisHash, verifyChain } from '../../server/db/audit-chain.js';
import { migrationsFolder, type Db } from '../../server/db/client.js';
import * as tables from '../../server/db/tables/index.js';
import { storedEvents } from './helpers.js';

// A database with events written before the audit chain existed: the migration chains them in
// seq order, so audit:verify passes right after the upgrade.

const beforeChain = mkdtempSync(path.join(tmpdir(), 'statushub-migrations-'));
cpSync(migrationsFolder, beforeChain, { recursive: true });
const journalPath = path.join(beforeChain, 'meta/_journal.json');
const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
const chainAt = journal.entries.findIndex((e) => e.tag === '0003_audit_chain');
journal.entries = journal.entries.slice(0, chainAt);
writeFileSync(journalPath, JSON.stringify(journal));

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
  rmSync(beforeChain, { recursive: true, force: true });
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

it('events recorded before the upgrade are chained by the migration, in seq order', async () => {
  const { db, migrate } = await open();
  await migrate(beforeChain);
  await db.execute(sql`insert into pages (slug, name) values ('old', 'Old page')`);
  for (let i = 0; i < 5; i++) {
    await db.execute(sql`insert into events (page_id, actor_type, actor_name, action, entity_type, entity_id, after, created_at)
      select id, 'system', 'before the chain', 'component.created', 'component', ${`c${i}`}, ${JSON.stringify({ n: i, name: 'ü' })}::jsonb,
             now() - ${`${5 - i} days`}::interval from pages`);
  }

  await migrate(migrationsFolder);
  const rows = await storedEvents(db);
  expect(rows).toHaveLength(5);
  expect(rows[0]!.prev_hash).toBe(genesisHash);
  for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
  expect(await verifyChain(db)).toMatchObject({ ok: true, checked: 5, head: { seq: rows[4]!.seq, hash: rows[4]!.hash } });

  // New events continue the same chain.
  await db.execute(sql`insert into events (page_id, actor_type, actor_name, action, entity_type, entity_id)
    select id, 'system', 'after the chain', 'component.created', 'component', 'c5' from pages`);
  const after = await storedEvents(db);
  expect(after.at(-1)!.prev_hash).toBe(rows[4]!.hash);
  expect(await verifyChain(db)).toMatchObject({ ok: true, checked: 6 });
});
