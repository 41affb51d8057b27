import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemViewer } from '../../server/auth/viewer.js';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { openDatabase } from '../../server/db/client.js';
import { embeddedPostgresUnavailable } from '../../server/db/embedded-postgres.js';
import * as catalog from '../../server/services/catalog.js';
import { createTestDatabase } from '../helpers/database.js';
import { root, spawnServer } from '../helpers/live.js';

/** `npm run snapshot` (server/snapshot/cli.ts) as a child process, as an operator runs it. */

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'statushub-snapshot-cli-'));
  // As root the embedded PostgreSQL runs as the postgres user, which must reach its data directory.
  chmodSync(work, 0o755);
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/snapshot/cli.ts', ...args], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`snapshot CLI still running after 60 s:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const embeddedUnavailable = process.platform === 'linux' ? embeddedPostgresUnavailable(join(tmpdir(), 'x')) : 'reads /proc';

describe('npm run snapshot', () => {
  it.skipIf(!process.env.DATABASE_URL)('writes the snapshot from DATABASE_URL, and a second run finds nothing to rewrite', async () => {
    const database = await createTestDatabase();
    try {
      const { page } = await ensureDefaultPage(database.db);
      await catalog.createComponent({ db: database.db, viewer: systemViewer(page, 'test') }, { name: 'CLI component' });
      const dir = join(work, 'from-postgres');
      const env = { DATABASE_URL: database.url!, SNAPSHOT_ORIGIN: 'https://status.example.test' };
      const first = await runCli([dir], env);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/snapshot: acme:public → .*: 9 written, 0 unchanged, 0 removed/);
      expect(readFileSync(join(dir, 'index.html'), 'utf8')).toContain('CLI component');
      expect(JSON.parse(readFileSync(join(dir, 'api/v2/summary.json'), 'utf8')).page.url).toBe('https://status.example.test/');
      const second = await runCli([dir], env);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/0 written, 9 unchanged, 0 removed/);
    } finally {
      await database.destroy();
    }
  }, 120_000);

  it('reads an embedded PGlite database that no hub holds', async () => {
    const dataDir = join(work, 'pglite');
    const database = await openDatabase({ dataDir });
    const { page } = await ensureDefaultPage(database.db);
    await catalog.createComponent({ db: database.db, viewer: systemViewer(page, 'test') }, { name: 'PGlite component' });
    await database.close();
    const dir = join(work, 'from-pglite');
    const result = await runCli([dir], { DATABASE_URL: '', EMBEDDED_DB: 'pglite', DATA_DIR: dataDir });
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).toContain('PGlite component');
  }, 120_000);

  it.skipIf(embeddedUnavailable)("reads a running hub's embedded PostgreSQL through its socket", async () => {
    const dataDir = join(work, 'embedded');
    const env = { DATABASE_URL: '', EMBEDDED_DB: 'postgres', DATA_DIR: dataDir };
    const hub = await spawnServer({ ...env, SEED: 'true' }, 90_000);
    try {
      const dir = join(work, 'from-embedded');
      const result = await runCli([dir], env);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('acme:public');
      // The demo seed's open deployments, read from the hub's own database while it runs.
      expect(result.stdout).toContain('acme:deployment:eu-1');
      expect(existsSync(join(dir, 'd/eu-1/index.html'))).toBe(true);
      expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);
    } finally {
      await hub.stop();
    }
  }, 180_000);

  it('refuses a PGlite database a running hub holds, and says to use SNAPSHOT_DIR on the hub', async () => {
    // What a hub on PGlite leaves in its data directory while it runs.
    const dataDir = join(work, 'pglite-in-use');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'PG_VERSION'), '17\n');
    writeFileSync(join(dataDir, 'postmaster.pid'), '-42\n/pglite/data\n');
    const dir = join(work, 'refused');
    const result = await runCli([dir], { DATABASE_URL: '', EMBEDDED_DB: 'pglite', DATA_DIR: dataDir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is in use');
    expect(result.stderr).toContain(`SNAPSHOT_DIR=${dir}`);
    expect(existsSync(dir)).toBe(false);
    // Nothing touched the data directory.
    expect(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8')).toBe('-42\n/pglite/data\n');
  }, 60_000);
});
