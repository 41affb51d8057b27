import { loadConfig } from './config.js';
import { verifyChain } from './db/audit-chain.js';
import { openExistingDatabase } from './db/embedded.js';

/**
 * `npm run audit:verify [-- --json]`: recompute the audit log's hash chain (server/db/audit-chain.ts)
 * in the database `npm start` would use (DATABASE_URL, else the embedded database: its PostgreSQL,
 * through the running hub's socket or started for the check, or PGlite in DATA_DIR).
 * Exit 0: intact; 1: broken, naming the first row that does not hold; 2: could not check.
 */

const json = process.argv.includes('--json');
const config = loadConfig();

async function main(): Promise<number> {
  // Opening applies pending migrations, as `npm start` would (which needs two connections: one
  // holds the migration lock while the other migrates).
  const database = await openExistingDatabase(config, 2);
  if (typeof database === 'string') {
    console.error(`audit:verify: ${database} (and DATABASE_URL is not set)`);
    return 2;
  }
  try {
    const started = performance.now();
    const report = await verifyChain(database.db);
    const ms = Math.round(performance.now() - started);
    if (json) {
      console.log(JSON.stringify({ ...report, ms }));
    } else {
      const from = report.checkpoint ? `from the checkpoint at seq ${report.checkpoint.seq}` : 'from the first event';
      const head = report.head ? `head seq ${report.head.seq} ${report.head.hash}` : 'no events';
      if (report.ok) console.log(`audit log intact: ${report.checked} events checked ${from} in ${ms} ms; ${head}`);
      else console.error(`audit log BROKEN at event seq ${report.broken!.seq}: ${report.broken!.reason} (checked ${from})`);
    }
    return report.ok ? 0 : 1;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('audit:verify could not check the audit log:', error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
