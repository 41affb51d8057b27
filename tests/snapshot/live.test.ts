import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sleep, spawnServer, waitUntil, type ServerProcess } from '../helpers/live.js';

/**
 * SNAPSHOT_DIR on a running hub: `server/main.ts` as a child process (what `npm start` runs),
 * changed through GraphQL like an operator would; the files follow public changes within a bound,
 * and an internal change leaves every byte as it was.
 */

const email = 'snapshot-admin@example.com';
const password = 'snapshot-admin-password-1';
const origin = 'https://status.example.test';

let work: string;
let dir: string;
let database: TestDatabase | undefined;
let server: ServerProcess;
let cookie: string;

function readTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const full = join(at, name);
      if (statSync(full).isDirectory()) walk(full);
      else files.set(relative(root, full), readFileSync(full, 'utf8'));
    }
  };
  if (existsSync(root)) walk(root);
  return files;
}

const read = (path: string) => (existsSync(join(dir, path)) ? readFileSync(join(dir, path), 'utf8') : '');

async function gql<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'statushub-snapshot-live-'));
  dir = join(work, 'snapshot');
  const env: Record<string, string> = { SNAPSHOT_DIR: dir, SNAPSHOT_ORIGIN: origin, ADMIN_EMAIL: email, ADMIN_PASSWORD: password };
  if (process.env.DATABASE_URL) {
    database = await createTestDatabase();
    env.DATABASE_URL = database.url!;
  } else {
    Object.assign(env, { DATABASE_URL: '', EMBEDDED_DB: 'pglite', DATA_DIR: join(work, 'pglite') });
  }
  server = await spawnServer(env, 60_000);
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'mutation ($e: String!, $p: String!) { signIn(email: $e, password: $p) { id } }', variables: { e: email, p: password } }),
  });
  cookie = response.headers.getSetCookie().find((c) => c.startsWith('statushub_session='))!.split(';')[0]!;
  expect(cookie).toBeTruthy();
});

afterAll(async () => {
  await server?.stop();
  await database?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('SNAPSHOT_DIR on a running hub', () => {
  it('is written at start, follows a public change within a bound, and an internal change changes no byte', async () => {
    // The first full write happens at start, before any event.
    await waitUntil(() => read('index.html').includes('Last updated') && read('api/v2/summary.json').length > 0, 10_000, 'the first snapshot');

    // A public change through GraphQL.
    const sent = performance.now();
    await gql(`mutation { createIncident(input: { title: "Live-public-incident", message: "Live-public-message", impact: major }) { id } }`);
    const answered = performance.now();
    await waitUntil(() => read('index.html').includes('Live-public-incident') && read('api/v2/summary.json').includes('Live-public-message'), 10_000, 'the public incident in the snapshot');
    const delay = performance.now() - sent;
    console.log(`public change → snapshot rewritten: ${Math.round(delay)} ms after the mutation was sent (${Math.round(performance.now() - answered)} ms after its answer)`);
    expect(delay).toBeLessThan(10_000);
    // Let the writer settle (a run may still be finishing), then take the bytes.
    await sleep(1_000);
    const before = readTree(dir);

    // Internal only: an internal component, an internal incident with a note, a staff note on the public one.
    await gql(`mutation { createComponent(input: { name: "HIDE-live-internal-component", visibility: internal }) { id } }`);
    await gql(`mutation { createIncident(input: { title: "HIDE-live-internal-incident", message: "HIDE-live-internal-message", internalNote: "HIDE-live-note", visibility: internal }) { id } }`);
    const staffView = JSON.stringify(await gql('{ components { name } incidents(first: 50) { edges { node { title } } } }'));
    expect(staffView).toContain('HIDE-live-internal-component');
    expect(staffView).toContain('HIDE-live-internal-incident');
    // Well past the writer's 300 ms debounce: the events were processed and their rewrites ran.
    await sleep(1_500);
    expect(readTree(dir)).toEqual(before);

    // A public change after them, as a fence: once it is on disk, the internal events before it
    // were processed (the hub handles events in order) and still nothing internal was written.
    await gql(`mutation { createComponent(input: { name: "Live-public-component" }) { id } }`);
    await waitUntil(() => read('index.html').includes('Live-public-component'), 10_000, 'the fence');
    for (const [path, text] of readTree(dir)) expect(text, path).not.toContain('HIDE-');
    expect(server.output()).not.toMatch(/snapshot write failed/);
  });
});
