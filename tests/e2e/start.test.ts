import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedMarker, embeddedPostgresUnavailable } from '../../server/db/embedded-postgres.js';

// The newcomer path: `npm start` on a bare machine (the embedded PostgreSQL, demo data) must
// answer within a minute. This runs the same entry point `npm start` runs, after `npm run build:web`.
const root = fileURLToPath(new URL('../..', import.meta.url));
const startBudgetMs = 60_000;

let child: ChildProcess;
let dataDir: string;
let baseUrl: string;
let output = '';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'statushub-e2e-'));
  // As root the embedded PostgreSQL runs as the postgres user, which must reach its directory.
  chmodSync(dataDir, 0o755);
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: join(dataDir, 'db'), PORT: String(port), HOST: '127.0.0.1', SEED: 'true', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.EMBEDDED_DB;
  delete env.ADMIN_PASSWORD;
  child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start on a bare machine', () => {
  it('serves the seeded summary over GraphQL within a minute', async () => {
    const started = Date.now();
    const query = '{ summary { status { indicator } groups { name } } }';
    let summary: { status: { indicator: string }; groups: { name: string }[] } | undefined;
    while (Date.now() - started < startBudgetMs && child.exitCode === null) {
      try {
        const response = await fetch(`${baseUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        });
        const body = (await response.json()) as { data?: { summary: typeof summary } };
        if (body.data?.summary?.groups.length) {
          summary = body.data.summary;
          break;
        }
      } catch {
        // Not listening yet.
      }
      await sleep(200);
    }
    const elapsed = Date.now() - started;
    console.log(`start → seeded summary answered in ${elapsed} ms`);
    expect(summary, `no seeded summary within ${startBudgetMs} ms; server output:\n${output}`).toBeDefined();
    expect(elapsed).toBeLessThan(startBudgetMs);
    expect(['none', 'minor', 'major', 'critical']).toContain(summary!.status.indicator);
    // Public groups of the demo data; the internal group stays hidden.
    const names = summary!.groups.map((g) => g.name);
    expect(names).toEqual(expect.arrayContaining(['Core platform', 'Delivery']));
    expect(names).not.toContain('Infrastructure (internal)');
    // A generated admin password is printed once for the newcomer to sign in with.
    expect(output).toContain('admin@statushub.local');
    // The default is the embedded PostgreSQL wherever it can run (PGlite, with a notice, elsewhere).
    const unavailable = embeddedPostgresUnavailable(join(dataDir, 'db'));
    if (unavailable) expect(output).toContain('the embedded PostgreSQL cannot run here');
    else expect(existsSync(join(dataDir, 'db', embeddedMarker)), output).toBe(true);
  }, startBudgetMs + 15_000);

  it('serves the built web app at / and for client-side routes', async () => {
    expect(existsSync(join(root, 'web/dist/index.html')), 'web/dist is missing: `npm test` builds it first').toBe(true);
    for (const path of ['/', '/d/eu-1', '/internal']) {
      const response = await fetch(`${baseUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
      const html = await response.text();
      expect(html).toContain('<div id="app"></div>');
      const script = /<script type="module"[^>]*src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script, path).toBeDefined();
      const asset = await fetch(`${baseUrl}${script}`, { headers: { 'accept-encoding': 'gzip, br' } });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      // Precompressed by the build, cached for good (the name carries a content hash).
      expect(asset.headers.get('content-encoding')).toMatch(/^(br|gzip)$/);
      expect(asset.headers.get('cache-control')).toContain('immutable');
    }
  });

  it('answers 404, not the app, for a missing asset', async () => {
    const response = await fetch(`${baseUrl}/assets/index-missing.js`);
    expect(response.status).toBe(404);
  });
});
