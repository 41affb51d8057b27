import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { systemViewer } from '../../server/auth/viewer.js';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { openDatabase, type Database } from '../../server/db/client.js';
import * as catalog from '../../server/services/catalog.js';
import { createTestDatabase } from '../helpers/database.js';
import { asSuperuserBypassingTriggers, storedEvents } from './helpers.js';

// `npm run audit:verify` as an operator runs it: a real child process, pointed at the database the
// way `npm start` is (DATABASE_URL, else DATA_DIR). Exit 0 intact, 1 broken, 2 could not check.
// Each run starts npm, tsx and a database client: seconds apiece on a busy CI machine.
const slow = 120_000;

const root = path.resolve(import.meta.dirname, '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function verify(env: { DATABASE_URL?: string; DATA_DIR?: string }, args: string[] = []): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
  delete childEnv.DATABASE_URL;
  Object.assign(childEnv, env);
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'audit:verify', '--', ...args], { cwd: root, env: childEnv, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

async function writeSome(database: Database, n: number): Promise<void> {
  const { page } = await ensureDefaultPage(database.db);
  const ctx = { db: database.db, viewer: systemViewer(page, 'cli test') };
  for (let i = 0; i < n; i++) await catalog.createComponent(ctx, { name: `C${i}` });
}

describe.runIf(process.env.DATABASE_URL)('against PostgreSQL (DATABASE_URL)', () => {
  it('exits 0 on an intact log and 1 naming the first broken row', async () => {
    const database = await createTestDatabase();
    try {
      await writeSome(database, 6);
      const ok = await verify({ DATABASE_URL: database.url! });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^audit log intact: 6 events checked from the first event in \d+ ms; head seq 6 [0-9a-f]{64}\n$/);

      const victim = (await storedEvents(database.db))[2]!;
      await asSuperuserBypassingTriggers(database.db, [sql`update events set actor_name = 'mallory' where seq = ${victim.seq}`]);
      const broken = await verify({ DATABASE_URL: database.url! });
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain(`audit log BROKEN at event seq ${victim.seq}: its content does not match its hash`);

      const json = await verify({ DATABASE_URL: database.url! }, ['--json']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, checked: 6, broken: { seq: victim.seq } });
    } finally {
      await database.destroy();
    }
  }, slow);

  it('exits 2 when it cannot reach the database', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = '/statushub_no_such_database';
    const run = await verify({ DATABASE_URL: url.toString() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('could not check');
  }, slow);
});

describe('against the embedded database (DATA_DIR)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'statushub-audit-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('exits 0 on an intact log and 1 naming the first broken row', async () => {
    let database = await openDatabase({ dataDir });
    await writeSome(database, 4);
    await database.close();
    // NOTE: PGlite is single-process, so the verifier runs while nothing else has it open.
    const ok = await verify({ DATA_DIR: dataDir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^audit log intact: 4 events checked/);

    database = await openDatabase({ dataDir });
    const victim = (await storedEvents(database.db))[1]!;
    await asSuperuserBypassingTriggers(database.db, [sql`update events set entity_id = 'elsewhere' where seq = ${victim.seq}`]);
    await database.close();
    const broken = await verify({ DATA_DIR: dataDir });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`audit log BROKEN at event seq ${victim.seq}`);
  }, slow);

  it('exits 2 when there is no database at DATA_DIR', async () => {
    const run = await verify({ DATA_DIR: path.join(dataDir, 'missing') });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no database at DATA_DIR');
  }, slow);
});
