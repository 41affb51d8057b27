import { existsSync } from 'node:fs';
import { loadConfig } from './config.js';
import { verifyChain } from './db/audit-chain.js';
import { openDatabase } from './db/client.js';

/**
 * `npm run audit:verify [-- --json]`: recompute the audit log's hash chain (server/db/audit-chain.ts)
 * in the database `npm start` would use (DATABASE_URL, else the PGlite directory DATA_DIR).
 * Exit 0: intact; 1: broken, naming the first row that does not hold; 2: could not check.
 */

const json = process.argv.includes('--json');
const config = loadConfig();

async function main(): Promise<number> {
  if (!config.DATABASE_URL && !config.DATA_DIR.startsWith('memory://') && !existsSync(config.DATA_DIR)) {
    console.error(`audit:verify: no database at DATA_DIR=${config.DATA_DIR} (and DATABASE_URL is not set)`);
    return 2;
  }
  // NOTE: PGlite is single-process: stop the server before verifying its data directory.
  // Opening applies pending migrations, as `npm start` would (which needs two connections: one
  // holds the migration lock while the other migrates).
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 2 });
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
