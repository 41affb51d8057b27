import { existsSync } from 'node:fs';
import { openDatabase, type Database } from './client.js';
import { embeddedPostgresUnavailable, holdsEmbeddedPostgres, holdsPgliteDatabase, runningEmbeddedPostgres } from './embedded-postgres.js';

export type EmbeddedEngine = 'postgres' | 'pglite';

export interface EmbeddedChoice {
  engine: EmbeddedEngine;
  dataDir: string;
  /** Why the choice is not the default (a PGlite database from an earlier statushub, no PostgreSQL here): log it. */
  notice?: string;
}

export const defaultDataDirs: Record<EmbeddedEngine, string> = { postgres: './data/postgres', pglite: './data/pglite' };

/**
 * Which embedded database `npm start` opens when there is no DATABASE_URL.
 *
 * - `EMBEDDED_DB` decides when set (`postgres` fails rather than fall back).
 * - Otherwise the embedded PostgreSQL in `DATA_DIR` (default ./data/postgres), except: a PGlite
 *   database from an earlier statushub (in DATA_DIR, or in ./data/pglite when DATA_DIR is unset
 *   and ./data/postgres does not exist) stays on PGlite, so an upgrade never loses data; and
 *   where PostgreSQL cannot run (no binaries for this platform, root without a `postgres` user),
 *   PGlite, with a notice that says why.
 */
export function chooseEmbedded(env: { EMBEDDED_DB?: EmbeddedEngine; DATA_DIR?: string }): EmbeddedChoice {
  const dir = env.DATA_DIR;
  if (env.EMBEDDED_DB) return { engine: env.EMBEDDED_DB, dataDir: dir ?? defaultDataDirs[env.EMBEDDED_DB] };
  if (dir?.startsWith('memory://')) return { engine: 'pglite', dataDir: dir };

  const legacy = dir ?? (existsSync(defaultDataDirs.postgres) ? null : defaultDataDirs.pglite);
  if (legacy && holdsPgliteDatabase(legacy)) {
    return {
      engine: 'pglite',
      dataDir: legacy,
      notice:
        `${legacy} holds a PGlite database (the embedded database of earlier statushub versions), so PGlite stays in use; ` +
        `it needs several times the memory (about 0.4 GB). To move the data to the embedded PostgreSQL, stop the hub and run ` +
        `\`npm run db:move-to-postgres\`${dir ? ` with DATA_DIR=${dir}` : ''}; set EMBEDDED_DB=pglite to keep PGlite without this notice.`,
    };
  }

  const dataDir = dir ?? defaultDataDirs.postgres;
  const unavailable = embeddedPostgresUnavailable(dataDir);
  if (unavailable) {
    return {
      engine: 'pglite',
      dataDir: dir ?? defaultDataDirs.pglite,
      notice: `the embedded PostgreSQL cannot run here (${unavailable}), so PGlite is used instead; it needs several times the memory (about 0.4 GB). Set EMBEDDED_DB=pglite to choose it without this notice.`,
    };
  }
  return { engine: 'postgres', dataDir };
}

/** `EMBEDDED_POSTGRES_SETTINGS="shared_buffers=32MB work_mem=8MB"` as a list. */
export function parseSettings(text: string | undefined): string[] {
  return (text ?? '').split(/\s+/).filter((s) => /^[a-z_.]+=/.test(s));
}

interface StorageEnv {
  DATABASE_URL?: string;
  EMBEDDED_DB?: EmbeddedEngine;
  DATA_DIR?: string;
  EMBEDDED_POSTGRES_SETTINGS?: string;
}

/**
 * The database `npm start` opens, for a tool run beside the hub or instead of it (`npm run
 * audit:verify`): DATABASE_URL; else the embedded PostgreSQL, through the running hub's socket
 * when a hub has it open, or started for the tool (and stopped by its `close`); else PGlite
 * (single-process: stop the hub first). A sentence instead when there is no database yet.
 */
export async function openExistingDatabase(env: StorageEnv, poolSize = 2): Promise<Database | string> {
  if (env.DATABASE_URL) return openDatabase({ url: env.DATABASE_URL, poolSize });
  const { engine, dataDir } = chooseEmbedded(env);
  if (engine === 'pglite') {
    if (!dataDir.startsWith('memory://') && !existsSync(dataDir)) return `no database at DATA_DIR=${dataDir}`;
    return openDatabase({ embedded: 'pglite', dataDir });
  }
  if (!holdsEmbeddedPostgres(dataDir)) return `no database at DATA_DIR=${dataDir}`;
  const socket = runningEmbeddedPostgres(dataDir);
  if (socket) return openDatabase({ socket, poolSize });
  return openDatabase({ embedded: 'postgres', dataDir, poolSize, embeddedSettings: parseSettings(env.EMBEDDED_POSTGRES_SETTINGS) });
}
