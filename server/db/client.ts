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
import { holdsEmbeddedPostgres, startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
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
  /** The embedded PostgreSQL server this process started (`embedded: 'postgres'`); `close` stops it. */
  embedded?: EmbeddedPostgres;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; without it (and without `socket`) an embedded database is used. */
  url?: string;
  /** A PostgreSQL server on a Unix socket: a running embedded PostgreSQL (`runningEmbeddedPostgres`). */
  socket?: { host: string; port: number; user: string; database: string };
  /**
   * Without `url`: `postgres` starts the embedded PostgreSQL (server/db/embedded-postgres.ts) in
   * `dataDir`; `pglite` (the default here; `npm start` chooses in server/db/embedded.ts) opens PGlite.
   */
  embedded?: 'postgres' | 'pglite';
  /** Where the embedded database persists; `memory://` keeps PGlite in memory. */
  dataDir?: string;
  /** Extra settings for the embedded PostgreSQL (`name=value`). */
  embeddedSettings?: string[];
  /** The embedded PostgreSQL's warnings and errors. */
  onEmbeddedLog?: (line: string, level: 'info' | 'warn') => void;
  poolSize?: number;
}

const casing = 'snake_case' as const;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const queries = { count: 0 };
  const logger: Logger = { logQuery: () => void queries.count++ };

  if (options.url || options.socket) {
    // At least two: migrations hold one reserved connection (the lock) and run on another.
    const max = Math.max(2, options.poolSize ?? 10);
    const sql = options.url ? postgres(options.url, { max, onnotice: () => {} }) : postgres({ ...options.socket, max, onnotice: () => {} });
    const db = await migratedPostgres(sql, logger);
    return { db, kind: 'postgres', queries, sql, close: () => sql.end({ timeout: 5 }) };
  }

  if (options.embedded === 'postgres') {
    const server = await startEmbeddedPostgres({ dataDir: options.dataDir ?? './data/postgres', settings: options.embeddedSettings, onLog: options.onEmbeddedLog });
    try {
      // One process on a small machine: fewer connections (each is a PostgreSQL process).
      const sql = postgres({ ...server.connection, max: Math.max(2, options.poolSize ?? 5), onnotice: () => {} });
      const db = await migratedPostgres(sql, logger);
      const close = async () => {
        await sql.end({ timeout: 5 });
        await server.stop();
      };
      return { db, kind: 'postgres', queries, sql, embedded: server, close };
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  const dataDir = options.dataDir ?? './data/pglite';
  if (holdsEmbeddedPostgres(dataDir)) throw new Error(`${dataDir} holds the embedded PostgreSQL, not PGlite (open it with embedded: 'postgres')`);
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const pglite = new PGlite(dataDir);
  const db = drizzlePglite(pglite, { schema: tables, casing, logger }) as unknown as Db;
  await migratePglite(db as never, { migrationsFolder });
  return { db, kind: 'pglite', queries, pglite, close: () => pglite.close() };
}

async function migratedPostgres(sql: postgres.Sql, logger: Logger): Promise<Db> {
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
  return db;
}

/** Raw SQL rows, whichever driver is underneath (postgres.js returns an array, PGlite `{ rows }`). */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
