import pino from 'pino';
import { loadConfig, snapshotOrigin } from '../config.js';
import { openDatabase } from '../db/client.js';
import { chooseEmbedded } from '../db/embedded.js';
import { runningEmbeddedPostgres } from '../db/embedded-postgres.js';
import { notifyConfigFromEnv } from './config.js';
import { startNotifier } from './start.js';

/**
 * `npm run worker`: the notification worker as a process of its own, for larger setups (run the
 * hub with NOTIFY_WORKER=off, or not: several workers share the work without sending twice).
 * Needs a PostgreSQL server: DATABASE_URL, or a running hub's embedded PostgreSQL (its socket).
 * PGlite belongs to the hub's process, whose in-process worker does the work.
 */

const config = loadConfig();
const logger = pino({ level: config.LOG_LEVEL });

async function open() {
  if (config.DATABASE_URL) return openDatabase({ url: config.DATABASE_URL, poolSize: 4 });
  const { engine, dataDir } = chooseEmbedded(config);
  const socket = engine === 'postgres' ? runningEmbeddedPostgres(dataDir) : null;
  if (!socket) {
    console.error('worker: set DATABASE_URL, or start the hub first (its embedded PostgreSQL); PGlite runs its worker in the hub');
    process.exit(2);
  }
  return openDatabase({ socket, poolSize: 4 });
}

const database = await open();
const notifier = startNotifier(database.db, { ...notifyConfigFromEnv(), enabled: true }, snapshotOrigin(config), logger);
logger.info('notification worker started');

async function shutdown() {
  await notifier?.stop();
  await database.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
