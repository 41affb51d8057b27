import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseEmbedded } from '../../server/db/embedded.js';
import { embeddedMarker, embeddedPostgresUnavailable } from '../../server/db/embedded-postgres.js';

// Which embedded database a start opens without DATABASE_URL (server/db/embedded.ts): an
// upgrade from a version that kept PGlite in ./data/pglite must keep its data.
let dir: string;
const cwd = process.cwd();
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'statushub-choice-'));
  // As root the postgres user must reach it, or the choice falls back to PGlite.
  chmodSync(dir, 0o755);
  process.chdir(dir);
});
afterAll(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

/** A data directory as PGlite leaves it (PG_VERSION), or as the embedded PostgreSQL does (its marker too). */
function database(path: string, kind: 'pglite' | 'postgres') {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'PG_VERSION'), '18\n');
  if (kind === 'postgres') writeFileSync(join(path, embeddedMarker), '');
}

const postgresHere = embeddedPostgresUnavailable(join(tmpdir(), 'x')) === null;

describe('chooseEmbedded', () => {
  it('follows EMBEDDED_DB, and keeps memory:// on PGlite', () => {
    expect(chooseEmbedded({ EMBEDDED_DB: 'pglite' })).toEqual({ engine: 'pglite', dataDir: './data/pglite' });
    expect(chooseEmbedded({ EMBEDDED_DB: 'postgres', DATA_DIR: '/srv/db' })).toEqual({ engine: 'postgres', dataDir: '/srv/db' });
    expect(chooseEmbedded({ DATA_DIR: 'memory://' })).toEqual({ engine: 'pglite', dataDir: 'memory://' });
  });

  it.skipIf(!postgresHere)('defaults to the embedded PostgreSQL in ./data/postgres on a fresh machine', () => {
    expect(chooseEmbedded({})).toEqual({ engine: 'postgres', dataDir: './data/postgres' });
    expect(chooseEmbedded({ DATA_DIR: join(dir, 'new') })).toEqual({ engine: 'postgres', dataDir: join(dir, 'new') });
  });

  it('keeps an earlier version’s PGlite database, saying how to move it', () => {
    database(join(dir, 'data/pglite'), 'pglite');
    const kept = chooseEmbedded({});
    expect(kept).toMatchObject({ engine: 'pglite', dataDir: './data/pglite' });
    expect(kept.notice).toContain('npm run db:move-to-postgres');

    database(join(dir, 'legacy'), 'pglite');
    const explicit = chooseEmbedded({ DATA_DIR: join(dir, 'legacy') });
    expect(explicit).toMatchObject({ engine: 'pglite', dataDir: join(dir, 'legacy') });
    expect(explicit.notice).toContain(`DATA_DIR=${join(dir, 'legacy')}`);
  });

  it.skipIf(!postgresHere)('opens the embedded PostgreSQL once it exists beside the old PGlite directory (after a move)', () => {
    database(join(dir, 'data/pglite'), 'pglite');
    database(join(dir, 'data/postgres'), 'postgres');
    expect(chooseEmbedded({})).toEqual({ engine: 'postgres', dataDir: './data/postgres' });
  });
});
