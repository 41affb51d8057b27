import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from './config.js';
import { defaultDataDirs } from './db/embedded.js';
import { holdsPgliteDatabase } from './db/embedded-postgres.js';
import { moveToPostgres } from './db/move-to-postgres.js';

/**
 * `npm run db:move-to-postgres`: move the PGlite database of an earlier statushub into the
 * embedded PostgreSQL (server/db/move-to-postgres.ts). Stop the hub first (PGlite is
 * single-process).
 *
 * - DATA_DIR unset: ./data/pglite is copied into a new ./data/postgres, which the hub opens from
 *   then on; ./data/pglite is left as it was (delete it once you are satisfied).
 * - DATA_DIR set (and holding PGlite): the copy is made beside it, then DATA_DIR is renamed to
 *   `<DATA_DIR>.pglite-<time>` and the copy takes its place, so the same DATA_DIR opens it.
 *
 * Exit 0: moved and checked (row counts, audit chain); 1: not moved (nothing changed).
 */

const config = loadConfig();
const from = path.resolve(config.DATA_DIR ?? defaultDataDirs.pglite);
const finalDir = path.resolve(config.DATA_DIR ?? defaultDataDirs.postgres);
const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19);
const to = config.DATA_DIR ? `${finalDir}.postgres-${stamp}` : finalDir;

async function main(): Promise<number> {
  if (config.DATABASE_URL) return fail('DATABASE_URL is set: the hub does not use an embedded database');
  if (!holdsPgliteDatabase(from)) return fail(`no PGlite database in ${from}`);
  if (existsSync(to)) return fail(`${to} exists already: move or delete it first`);
  if (existsSync(path.join(from, 'postmaster.pid'))) return fail(`${from} is in use (postmaster.pid): stop the hub first`);
  console.log(`copying ${from} into a new embedded PostgreSQL in ${to}`);
  let report;
  try {
    report = await moveToPostgres(from, to, (line) => console.log(`  ${line}`));
  } catch (error) {
    // A half-made copy must not be taken for the database at the next start.
    rmSync(to, { recursive: true, force: true });
    throw error;
  }
  if (config.DATA_DIR) {
    const aside = `${from}.pglite-${stamp}`;
    renameSync(from, aside);
    try {
      renameSync(to, finalDir);
    } catch (error) {
      renameSync(aside, from);
      rmSync(to, { recursive: true, force: true });
      throw error;
    }
    console.log(`${from} (PGlite) is now ${aside}; the embedded PostgreSQL took its place`);
  }
  const rows = report.tables.reduce((n, t) => n + t.rows, 0);
  console.log(
    `moved ${rows} rows of ${report.tables.length} tables and ${report.sequences} sequences in ${(report.ms / 1000).toFixed(1)} s; ` +
      `audit log intact (${report.events} events). The hub opens ${finalDir} from now on.` +
      (config.DATA_DIR ? '' : ` ${from} was left as it was: delete it once you are satisfied.`),
  );
  return 0;
}

function fail(message: string): number {
  console.error(`db:move-to-postgres: ${message}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('db:move-to-postgres failed; nothing was changed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
