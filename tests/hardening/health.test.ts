import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { isPageRoute } from '../../server/http/web-routes.js';
import { expectedMigrations } from '../../server/http/health.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { root, startTestNode, type TestNode } from '../helpers/live.js';

let database: TestDatabase;
let node: TestNode;

beforeAll(async () => {
  database = await createTestDatabase();
  node = await startTestNode(database);
});
afterAll(async () => {
  await node?.close();
  await database?.destroy();
});

describe('health endpoints', () => {
  it('/healthz answers 200 while the process serves HTTP', async () => {
    const response = await fetch(`${node.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');
  });

  it('/readyz answers 200 with every check passing when the database is reachable and migrated', async () => {
    const response = await fetch(`${node.url}/readyz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await response.json();
    expect(body.ready).toBe(true);
    expect(body.checks.database).toEqual({ ok: true });
    expect(body.checks.migrations).toEqual({ ok: true });
    if (database.kind === 'postgres') expect(body.checks.listen).toEqual({ ok: true });
  });

  it('/readyz answers 503 naming the migrations when one is missing', async () => {
    const [last] = expectedMigrations().slice(-1);
    await database.db.execute(sql`update drizzle.__drizzle_migrations set created_at = 0 where created_at = ${last}`);
    try {
      const response = await fetch(`${node.url}/readyz`);
      expect(response.status).toBe(503);
      const body = await response.json();
      expect(body.ready).toBe(false);
      expect(body.checks.migrations).toEqual({ ok: false, reason: `1 of ${expectedMigrations().length} migrations not applied` });
    } finally {
      await database.db.execute(sql`update drizzle.__drizzle_migrations set created_at = ${last} where created_at = 0`);
    }
    expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
  });
});

describe('unknown paths', () => {
  it.each(['/readyz/', '/foo.php', '/wp-login.php', '/.env', '/incidents', '/incidents/1/edit', '/d', '/d/eu-1/extra', '/history/2', '/assets', '/graphqlx'])(
    '%s is 404 text, not the web app',
    async (path) => {
      const response = await fetch(`${node.url}${path}`);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text()).not.toContain('<html');
    },
  );

  it.each(['/', '/history', '/history/', '/incidents/abc', '/d/eu-1', '/internal', '/internal/incidents/new', '/internal/audit'])('%s is the web app', async (path) => {
    const response = await fetch(`${node.url}${path}`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('a built file outside /assets is served as itself', async () => {
    const response = await fetch(`${node.url}/index.html`);
    expect(response.status).toBe(200);
  });

  it('the page routes match web/src/router.ts', () => {
    const router = readFileSync(`${root}/web/src/router.ts`, 'utf8');
    const top = [...router.matchAll(/^ {2}\{ path: '([^']+)'|^ {4}path: '([^']+)'/gm)].map((m) => m[1] ?? m[2]);
    expect(top).toEqual(['/', '/history', '/incidents/:id', '/d/:deployment', '/internal', '/:path(.*)*']);
    for (const path of ['/', '/history', '/incidents/x', '/d/x', '/internal', '/internal/x/y']) expect(isPageRoute(path)).toBe(true);
    expect(isPageRoute('/x')).toBe(false);
  });
});
