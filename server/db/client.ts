import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { Logger, SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as tables from './tables/index.js';

export type Tables = typeof tables;
export type Db = PgDatabase<PgQueryResultHKT, Tables>;
/** A transaction handle: anything a service writes with. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Every statement drizzle sends increments this; tests use it to keep N+1 out. */
  queries: { count: number };
  /** The raw postgres.js client (postgres mode only), for LISTEN/NOTIFY. */
  sql?: postgres.Sql;
  pglite?: PGlite;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; without it an embedded PGlite database is used. */
  url?: string;
  /** Where PGlite persists; `memory://` keeps it in memory. */
  dataDir?: string;
  poolSize?: number;
}

const casing = 'snake_case' as const;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const queries = { count: 0 };
  const logger: Logger = { logQuery: () => void queries.count++ };

  if (options.url) {
    // At least two: migrations hold one reserved connection (the lock) and run on another.
    const sql = postgres(options.url, { max: Math.max(2, options.poolSize ?? 10), onnotice: () => {} });
    const db = drizzlePostgres(sql, { schema: tables, casing, logger }) as unknown as Db;
    // NOTE: several nodes may start at once; a session-level advisory lock on one reserved
    // connection serialises their migrations.
    const lockConn = await sql.reserve();
    try {
      await lockConn`select pg_advisory_lock(727274)`;
      await migratePostgres(db as never, { migrationsFolder });
    } finally {
      await lockConn`select pg_advisory_unlock(727274)`;
      lockConn.release();
    }
    return { db, kind: 'postgres', queries, sql, close: () => sql.end({ timeout: 5 }) };
  }

  const dataDir = options.dataDir ?? './data/pglite';
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const pglite = new PGlite(dataDir);
  const db = drizzlePglite(pglite, { schema: tables, casing, logger }) as unknown as Db;
  await migratePglite(db as never, { migrationsFolder });
  return { db, kind: 'pglite', queries, pglite, close: () => pglite.close() };
}

/** Raw SQL rows, whichever driver is underneath (postgres.js returns an array, PGlite `{ rows }`). */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
