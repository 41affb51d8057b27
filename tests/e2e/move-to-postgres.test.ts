import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { systemViewer } from '../../server/auth/viewer.js';
import { verifyChain } from '../../server/db/audit-chain.js';
import { openDatabase, queryRows, type Database } from '../../server/db/client.js';
import { embeddedMarker, embeddedPostgresUnavailable } from '../../server/db/embedded-postgres.js';
import { pages } from '../../server/db/tables/index.js';
import { seedDemo } from '../../server/seed.js';
import * as catalog from '../../server/services/catalog.js';

// An upgrade from a version whose embedded database was PGlite: `npm run db:move-to-postgres`
// copies it into the embedded PostgreSQL, row for row, the audit chain intact.
const root = fileURLToPath(new URL('../..', import.meta.url));
const slow = 180_000;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'statushub-move-'));
  chmodSync(dir, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const unavailable = embeddedPostgresUnavailable(join(tmpdir(), 'x'));

async function counts(database: Database): Promise<Record<string, number>> {
  const tables = await queryRows<{ name: string }>(database.db, sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`);
  const out: Record<string, number> = {};
  for (const { name } of tables) {
    if (name === 'rate_limits') continue;
    out[name] = (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from ${sql.identifier(name)}`))[0]!.n;
  }
  return out;
}

function move(env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.DATABASE_URL;
    delete childEnv.EMBEDDED_DB;
    execFile(process.execPath, ['--import', 'tsx', 'server/move-to-postgres.ts'], { cwd: root, env: childEnv, timeout: slow - 10_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

describe.skipIf(unavailable)(`db:move-to-postgres${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('moves a PGlite DATA_DIR into the embedded PostgreSQL in its place, every row and the audit chain intact', async () => {
    const dataDir = join(dir, 'data');
    const pglite = await openDatabase({ embedded: 'pglite', dataDir });
    const { page } = await ensureDefaultPage(pglite.db);
    await seedDemo(pglite.db, page);
    const before = await counts(pglite);
    const head = (await queryRows<{ seq: number; hash: string }>(pglite.db, sql`select seq::int, hash from events order by seq desc limit 1`))[0]!;
    await pglite.close();
    expect(before.events).toBeGreaterThan(20);

    const run = await move({ DATA_DIR: dataDir });
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/audit log intact/);
    // The PGlite directory was kept aside; DATA_DIR now holds the PostgreSQL.
    expect(existsSync(join(dataDir, embeddedMarker))).toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith('data.pglite-'))).toHaveLength(1);

    const moved = await openDatabase({ embedded: 'postgres', dataDir });
    try {
      expect(await counts(moved)).toEqual(before);
      expect((await verifyChain(moved.db)).ok).toBe(true);
      expect((await queryRows<{ seq: number; hash: string }>(moved.db, sql`select seq::int, hash from events order by seq desc limit 1`))[0]).toEqual(head);
      // Sequences go on where they were: the next event follows the moved head.
      const [movedPage] = await moved.db.select().from(pages);
      await catalog.createGroup({ db: moved.db, viewer: systemViewer(movedPage!, 'test') }, { name: 'After the move' });
      const next = (await queryRows<{ seq: number }>(moved.db, sql`select seq::int from events order by seq desc limit 1`))[0]!;
      expect(next.seq).toBe(head.seq + 1);
      expect((await verifyChain(moved.db)).ok).toBe(true);
    } finally {
      await moved.close();
    }
  }, slow);

  it('refuses, changing nothing, when there is no PGlite database', async () => {
    const run = await move({ DATA_DIR: join(dir, 'nothing') });
    expect(run.code).toBe(1);
    expect(run.out).toContain('no PGlite database');
  }, slow);
});
