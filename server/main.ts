import pino from 'pino';
import { ensureAdmin, ensureDefaultPage } from './bootstrap.js';
import { loadConfig, loadLimits, snapshotOrigin } from './config.js';
import { openDatabase } from './db/client.js';
import { chooseEmbedded, parseSettings } from './db/embedded.js';
import { createNode } from './node.js';
import { seedDemo } from './seed.js';
import { pages } from './db/tables/index.js';
import { startMaintenanceTicker } from './workers/maintenance.js';
import { startSnapshotWriter } from './snapshot/watch.js';
import { notifyConfigFromEnv } from './notify/config.js';
import { startNotifier } from './notify/start.js';

const config = loadConfig();
const logger = pino({ level: config.LOG_LEVEL });
let stopping = false;

// Without DATABASE_URL: the embedded PostgreSQL (a child process, stopped with the hub), or PGlite.
const embedded = config.DATABASE_URL ? undefined : chooseEmbedded(config);
if (embedded?.notice) logger.warn(embedded.notice);
const database = await openDatabase({
  url: config.DATABASE_URL,
  embedded: embedded?.engine,
  dataDir: embedded?.dataDir,
  embeddedSettings: parseSettings(config.EMBEDDED_POSTGRES_SETTINGS),
  onEmbeddedLog: (line, level) => logger[level]({ postgres: line }, 'embedded PostgreSQL'),
});
logger.info({ storage: embedded ? `embedded ${embedded.engine}` : 'postgres', dataDir: embedded?.dataDir }, 'database ready');
// The hub cannot go on without its database: exit, so whatever supervises it starts both again.
void database.embedded?.exited.then(({ code, signal }) => {
  if (stopping) return;
  logger.fatal({ code, signal, log: database.embedded!.log().split('\n').slice(-10) }, 'the embedded PostgreSQL stopped; exiting');
  process.exit(1);
});

const { page, created } = await ensureDefaultPage(database.db);
if (created && config.SEED === 'true') {
  await seedDemo(database.db, page);
  logger.info('seeded demo data');
}
const admin = await ensureAdmin(database.db, page, config.ADMIN_EMAIL, config.ADMIN_PASSWORD);
if (admin?.generatedPassword) {
  // Printed once, on the start that created the admin; it is stored only as a hash.
  console.log(`\n  First admin created: ${admin.email} / ${admin.generatedPassword}\n  (set ADMIN_EMAIL and ADMIN_PASSWORD to choose them)\n`);
}

// Notifications (server/notify/): in process unless NOTIFY_WORKER=off (then `npm run worker`).
const notifier = startNotifier(database.db, notifyConfigFromEnv(), snapshotOrigin(config), logger);
const node = await createNode({
  afterCommit: () => notifier?.wake(),
  database,
  logger,
  cookieSecure: config.COOKIE_SECURE === 'true',
  redisUrl: config.REDIS_URL,
  liveDebug: config.LIVE_DEBUG === 'true',
  limits: loadLimits(config),
});
// Scheduled maintenance starts and ends on time, every page, every 15 seconds.
const maintenanceTicker = startMaintenanceTicker(database.db, () => database.db.select().from(pages), 15_000, { logger, onCommit: node.onCommit });
// The static snapshot (server/snapshot/): written now and after every public change.
const snapshots = config.SNAPSHOT_DIR ? startSnapshotWriter({ db: database.db, dir: config.SNAPSHOT_DIR, origin: snapshotOrigin(config), events: node.answers, logger }) : null;
const port = await node.listen(config.PORT, config.HOST);
logger.info(`statushub listening on http://localhost:${port} (GraphQL, SSE and WebSocket at /graphql)`);

// Graceful: stop accepting, tell live subscribers to reconnect elsewhere (WebSocket 1012, SSE
// `live/restarting`), let in-flight requests finish, exit within SHUTDOWN_TIMEOUT_MS whatever
// happens. A second signal exits at once.
async function shutdown(signal: string) {
  if (stopping) process.exit(1);
  stopping = true;
  const timeoutMs = config.SHUTDOWN_TIMEOUT_MS;
  logger.info({ signal, timeoutMs }, 'shutting down');
  setTimeout(() => {
    logger.warn({ timeoutMs }, 'shutdown deadline passed; exiting');
    process.exit(1);
  }, timeoutMs).unref();
  // Leave a little of the deadline for the ticker and the database.
  await node.close({ graceMs: Math.max(0, timeoutMs - 500) });
  await maintenanceTicker.stop();
  await notifier?.stop();
  await snapshots?.stop();
  await database.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
