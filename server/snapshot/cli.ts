import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, snapshotOrigin } from '../config.js';
import { openDatabase, type Database } from '../db/client.js';
import { chooseEmbedded } from '../db/embedded.js';
import { holdsEmbeddedPostgres, runningEmbeddedPostgres } from '../db/embedded-postgres.js';
import { writeSnapshot } from './write.js';

/**
 * `npm run snapshot [-- <dir>]`: write the static snapshot once (server/snapshot/write.ts) into
 * <dir>, else SNAPSHOT_DIR, else ./snapshot, from the database `npm start` would use
 * (DATABASE_URL, else the embedded one: its PostgreSQL, through the running hub's socket or
 * started for the run, or PGlite in DATA_DIR when no hub holds it).
 * Exit 0: written; 1: failed; 2: no database to read.
 */

const config = loadConfig();
const dir = path.resolve(process.argv[2] ?? config.SNAPSHOT_DIR ?? './snapshot');

async function open(): Promise<Database | string> {
  if (config.DATABASE_URL) return openDatabase({ url: config.DATABASE_URL, poolSize: 2 });
  const { engine, dataDir } = chooseEmbedded(config);
  if (engine === 'pglite') {
    if (!dataDir.startsWith('memory://') && !existsSync(dataDir)) return `no database at DATA_DIR=${dataDir} (and DATABASE_URL is not set)`;
    // NOTE: PGlite belongs to one process. While a hub runs on it, its directory holds
    // postmaster.pid; opening it a second time could damage the database.
    if (existsSync(path.join(dataDir, 'postmaster.pid')))
      return (
        `the PGlite database in ${dataDir} is in use (a hub is running on it, or one stopped without closing it).\n` +
        `  Start that hub with SNAPSHOT_DIR=${dir} instead: it writes the snapshot itself and again after every public change.`
      );
    return openDatabase({ embedded: 'pglite', dataDir });
  }
  if (!holdsEmbeddedPostgres(dataDir)) return `no database at DATA_DIR=${dataDir} (and DATABASE_URL is not set)`;
  // A running hub's PostgreSQL answers on its socket; otherwise it is started for this run.
  const socket = runningEmbeddedPostgres(dataDir);
  return socket ? openDatabase({ socket, poolSize: 2 }) : openDatabase({ embedded: 'postgres', dataDir, poolSize: 2 });
}

const started = performance.now();
const database = await open();
if (typeof database === 'string') {
  console.error(`snapshot: ${database}`);
  process.exit(2);
}
try {
  const result = await writeSnapshot(database.db, dir, { origin: snapshotOrigin(config) });
  console.log(
    `snapshot: ${result.audiences.join(', ') || 'no audience'} → ${dir}: ` +
      `${result.written.length} written, ${result.unchanged} unchanged, ${result.removed.length} removed, ${Math.round(performance.now() - started)} ms`,
  );
} catch (error) {
  console.error('snapshot: failed:', error);
  process.exitCode = 1;
} finally {
  await database.close();
}
