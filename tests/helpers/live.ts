import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { ExecutionResult } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { newSecret } from '../../server/auth/secrets.js';
import { systemViewer } from '../../server/auth/viewer.js';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import type { Database, Db } from '../../server/db/client.js';
import { apiTokens, audienceTokens, events, type PageRow } from '../../server/db/tables/index.js';
import type { TokenScope } from '../../server/domain/vocabulary.js';
import { createNode, type HubNode, type NodeOptions } from '../../server/node.js';
import * as catalog from '../../server/services/catalog.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import type { CommitListener } from '../../server/domain/events.js';
import type { ServiceContext } from '../../server/services/context.js';

/**
 * Real-time test kit: real server nodes on real ports, real `graphql-ws` and `graphql-sse`
 * (distinct connections) clients, and collectors that gather what they receive.
 */

export const root = fileURLToPath(new URL('../..', import.meta.url));

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll until `check` holds; fails with `label` (and the last value seen) after `timeoutMs`. */
export async function waitUntil<T>(check: () => T | Promise<T>, timeoutMs = 5_000, label = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label} (last: ${JSON.stringify(last)})`);
    await sleep(10);
  }
}

// ── nodes ────────────────────────────────────────────────────────────────────

export interface TestNode {
  node: HubNode;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>/graphql` */
  wsUrl: string;
  /** Open live subscriptions on this node. */
  subscribers(): number;
  close(): Promise<void>;
}

/** One in-process server node (HTTP + SSE + WebSocket) on a free port. */
export async function startTestNode(database: Database, options: Omit<NodeOptions, 'database'> = {}): Promise<TestNode> {
  const node = await createNode({ database, ...options });
  const port = await node.listen(0, '127.0.0.1');
  return {
    node,
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    subscribers: () => node.live.hub.subscriberCount(),
    close: () => node.close(),
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * `server/main.ts` as a child process (what `npm start` runs), on a port chosen here because
 * PORT=0 is not reported back. Resolves once /healthz answers.
 */
export async function spawnServer(env: Record<string, string>, timeoutMs = 30_000): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: { ...process.env, SEED: 'false', LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
        return fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      },
      timeoutMs,
      `${url}/healthz`,
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\nserver output:\n${output}`);
  }
  return { url, child, output: () => output, stop };
}

/** One value from a node's Prometheus /metrics (staff only: `token` needs read:internal). */
export async function metricValue(url: string, token: string, name: string): Promise<number> {
  const body = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const line = body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) throw new Error(`metric ${name} not found`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

// ── data ─────────────────────────────────────────────────────────────────────

/** A service context acting as `system`; pass a node's onCommit so that node wakes at once. */
export function systemContext(database: Database, page: PageRow, onCommit?: CommitListener): ServiceContext {
  return { db: database.db, viewer: systemViewer(page, 'test'), onCommit };
}

export async function mintApiToken(db: Db, page: PageRow, scopes: TokenScope[]): Promise<string> {
  const secret = newSecret('api');
  await db.insert(apiTokens).values({ pageId: page.id, name: `live test ${scopes.join(' ')}`, tokenHash: secret.hash, prefix: secret.prefix, scopes });
  return secret.value;
}

export async function mintAudienceToken(db: Db, page: PageRow, deploymentId: string, expiresAt?: Date): Promise<string> {
  const secret = newSecret('audience');
  await db.insert(audienceTokens).values({ pageId: page.id, deploymentId, label: 'live test', tokenHash: secret.hash, prefix: secret.prefix, expiresAt });
  return secret.value;
}

export interface Catalog {
  /** Public shared group with public `api` and `web`, and internal `db`. */
  shared: string;
  api: string;
  web: string;
  db: string;
  eu: string;
  us: string;
  /** A protected deployment. */
  ap: string;
  euGroup: string;
  usGroup: string;
  euApi: string;
  usApi: string;
  apApi: string;
}

/** The same small catalog as tests/api/catalog.test.ts: public, internal and per-deployment rows. */
export async function seedCatalog(ctx: ServiceContext): Promise<Catalog> {
  const shared = await catalog.createGroup(ctx, { name: 'Shared' });
  const api = await catalog.createComponent(ctx, { name: 'API', groupId: shared.id });
  const web = await catalog.createComponent(ctx, { name: 'Web', groupId: shared.id, sortOrder: 1 });
  const db = await catalog.createComponent(ctx, { name: 'Primary DB', groupId: shared.id, visibility: 'internal' });
  const eu = await catalog.createDeployment(ctx, { slug: 'eu-1', name: 'EU 1' });
  const us = await catalog.createDeployment(ctx, { slug: 'us-1', name: 'US 1' });
  const ap = await catalog.createDeployment(ctx, { slug: 'ap-1', name: 'AP 1', access: 'protected' });
  const euGroup = await catalog.createGroup(ctx, { name: 'EU services', deploymentId: eu.id });
  const usGroup = await catalog.createGroup(ctx, { name: 'US services', deploymentId: us.id });
  const apGroup = await catalog.createGroup(ctx, { name: 'AP services', deploymentId: ap.id });
  const euApi = await catalog.createComponent(ctx, { name: 'EU API', groupId: euGroup.id });
  const usApi = await catalog.createComponent(ctx, { name: 'US API', groupId: usGroup.id });
  const apApi = await catalog.createComponent(ctx, { name: 'AP API', groupId: apGroup.id });
  return { shared: shared.id, api: api.id, web: web.id, db: db.id, eu: eu.id, us: us.id, ap: ap.id, euGroup: euGroup.id, usGroup: usGroup.id, euApi: euApi.id, usApi: usApi.id, apApi: apApi.id };
}

// ── GraphQL over HTTP ────────────────────────────────────────────────────────

export interface Credentials {
  /** Bearer token (API or audience token). */
  token?: string;
  /** `public`, `internal`, `deployment:<slug>`. */
  audience?: string;
}

function authHeaders({ token, audience }: Credentials): Record<string, string> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (audience) headers['x-statushub-audience'] = audience;
  return headers;
}

export async function graphql<T = any>(url: string, query: string, variables: Record<string, unknown> = {}, credentials: Credentials = {}): Promise<ExecutionResult<T>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders(credentials) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as ExecutionResult<T>;
}

/** A mutation that must succeed: returns `data`, throws with the errors otherwise. */
export async function mutate<T = any>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await graphql<T>(url, query, variables, { token });
  if (result.errors?.length || !result.data) throw new Error(`mutation failed: ${JSON.stringify(result.errors)}`);
  return result.data;
}

export const setStatusMutation = `mutation ($id: ID!, $status: ComponentStatus!) { setComponentStatus(id: $id, status: $status) { id status } }`;

/** Quick status change over HTTP, as an admin would make it. */
export function setStatus(url: string, token: string, id: string, status: string): Promise<unknown> {
  return mutate(url, token, setStatusMutation, { id, status });
}

// ── live clients ─────────────────────────────────────────────────────────────

export interface PageEvent {
  seq: number;
  action: string;
  kind: string | null;
  entityId: string | null;
  removed: boolean;
  resync: boolean;
  status: { indicator: string; description: string };
  component: { id: string; name: string; status: string } | null;
  group: { id: string; name: string; status: string } | null;
  deployment: { id: string; slug: string } | null;
  incident: { id: string; title: string } | null;
  maintenance: { id: string; title: string } | null;
}

export const pageEventsDocument = `subscription PageEvents($after: Int, $kinds: [LiveKind!]) {
  pageEvents(after: $after, kinds: $kinds) {
    seq action kind entityId removed resync
    status { indicator description }
    component { id name status }
    group { id name status }
    deployment { id slug }
    incident { id title }
    maintenance { id title }
  }
}`;

export interface LiveRequest {
  query?: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** Everything one subscription received, in order. */
export class Collector {
  readonly results: ExecutionResult<{ pageEvents: PageEvent }>[] = [];
  error: unknown;
  completed = false;
  /** WebSocket close code and reason, once closed. */
  closed?: { code: number; reason: string };
  private readonly listeners = new Set<() => void>();
  dispose: () => void = () => {};

  constructor(readonly label: string) {}

  get events(): PageEvent[] {
    return this.results.flatMap((r) => (r.data?.pageEvents ? [r.data.pageEvents] : []));
  }
  get seqs(): number[] {
    return this.events.map((e) => e.seq);
  }
  get ended(): boolean {
    return this.completed || this.error !== undefined;
  }

  push(result: ExecutionResult<{ pageEvents: PageEvent }>): void {
    this.results.push(result);
    this.notify();
  }
  fail(error: unknown): void {
    this.error = error ?? new Error('failed');
    this.notify();
  }
  complete(): void {
    this.completed = true;
    this.notify();
  }
  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves with the events once `predicate` holds; rejects on timeout or if the stream ends first. */
  waitFor(predicate: (events: PageEvent[], collector: Collector) => boolean, timeoutMs = 5_000, what = 'predicate'): Promise<PageEvent[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(this.events, this)) return done(() => resolve(this.events));
        if (this.ended) done(() => reject(new Error(`${this.label}: stream ended before ${what}; ${this.describe()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}; ${this.describe()}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** At least `n` events. */
  waitForCount(n: number, timeoutMs?: number): Promise<PageEvent[]> {
    return this.waitFor((events) => events.length >= n, timeoutMs, `${n} events`);
  }

  /** An event with this sequence number (or any later one). */
  waitForSeq(seq: number, timeoutMs?: number): Promise<PageEvent[]> {
    return this.waitFor((events) => events.some((e) => e.seq >= seq), timeoutMs, `seq ${seq}`);
  }

  /** The stream completed, errored or (WebSocket) closed. */
  waitForEnd(timeoutMs = 5_000): Promise<void> {
    return this.waitFor((_, c) => c.ended || c.closed !== undefined, timeoutMs, 'the end').then(
      () => undefined,
      (error) => {
        if (this.ended || this.closed) return;
        throw error;
      },
    );
  }

  describe(): string {
    return `results=${JSON.stringify(this.results)} error=${String((this.error as Error)?.message ?? this.error)} completed=${this.completed} closed=${JSON.stringify(this.closed)}`;
  }
}

export interface WsOptions extends Credentials {
  /** Extra connectionParams. */
  params?: Record<string, unknown>;
  /** Another WebSocket class (e.g. one sending a Cookie header on the upgrade). */
  webSocketImpl?: unknown;
}

/** A `graphql-ws` client (its own WebSocket) with one subscription. */
export function subscribeWs(wsUrl: string, request: LiveRequest = {}, options: WsOptions = {}, label = 'ws'): Collector {
  const collector = new Collector(label);
  const params: Record<string, unknown> = { ...options.params };
  if (options.token) params.authorization = `Bearer ${options.token}`;
  if (options.audience) params.audience = options.audience;
  const client = createWsClient({
    url: wsUrl,
    webSocketImpl: options.webSocketImpl ?? WebSocket,
    connectionParams: params,
    retryAttempts: 0,
    shouldRetry: () => false,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        collector.closed = { code, reason: String(reason) };
        collector.notify();
      },
    },
  });
  const unsubscribe = client.subscribe<{ pageEvents: PageEvent }>(
    { query: request.query ?? pageEventsDocument, variables: request.variables ?? {}, operationName: request.operationName },
    { next: (r) => collector.push(r as ExecutionResult<{ pageEvents: PageEvent }>), error: (e) => collector.fail(e), complete: () => collector.complete() },
  );
  collector.dispose = () => {
    unsubscribe();
    // Rejects when the socket never opened (the node is gone): nothing to clean up then.
    Promise.resolve(client.dispose()).catch(() => {});
  };
  return collector;
}

export interface SseOptions extends Credentials {
  headers?: Record<string, string>;
}

/** A `graphql-sse` client in distinct connections mode: one HTTP request for the subscription. */
export function subscribeSse(url: string, request: LiveRequest = {}, options: SseOptions = {}, label = 'sse'): Collector {
  const collector = new Collector(label);
  const client = createSseClient({
    url: `${url}/graphql`,
    singleConnection: false,
    retryAttempts: 0,
    headers: { ...authHeaders(options), ...options.headers },
  });
  const unsubscribe = client.subscribe<{ pageEvents: PageEvent }>(
    { query: request.query ?? pageEventsDocument, variables: request.variables ?? {}, operationName: request.operationName },
    { next: (r) => collector.push(r as ExecutionResult<{ pageEvents: PageEvent }>), error: (e) => collector.fail(e), complete: () => collector.complete() },
  );
  collector.dispose = () => {
    unsubscribe();
    client.dispose();
  };
  return collector;
}

/** Wait until `count()` reaches `n`; fails early if one of `collectors` ends. */
export async function waitForSubscribers(count: () => number | Promise<number>, n: number, collectors: Collector[] = [], timeoutMs = 5_000): Promise<void> {
  await waitUntil(
    async () => {
      const ended = collectors.find((c) => c.ended || c.closed);
      if (ended) throw new Error(`${ended.label} ended before registering: ${ended.describe()}`);
      return (await count()) >= n;
    },
    timeoutMs,
    `${n} live subscribers`,
  );
}

/** Open one subscription and wait until the node's hub has registered it. */
export async function subscribed(node: TestNode, open: () => Collector): Promise<Collector> {
  const before = node.subscribers();
  const collector = open();
  await waitForSubscribers(node.subscribers, before + 1, [collector]);
  return collector;
}

/** The newest sequence number in the event table. */
export async function maxSeq(db: Db): Promise<number> {
  const [row] = await db.select({ seq: sql<number | null>`max(${events.seq})::int` }).from(events);
  return row?.seq ?? 0;
}

/** Wait until the node's hub has processed every committed event (so a new subscriber starts clean). */
export async function caughtUp(node: TestNode, db: Db): Promise<void> {
  const seq = await maxSeq(db);
  await waitUntil(() => node.node.live.hub.lastSeq >= seq, 5_000, `hub at seq ${seq}`);
}

/** Disposes every collector it opened; call `closeAll` in afterEach. */
export class Subscriptions {
  private readonly open: Collector[] = [];
  add<C extends Collector>(collector: C): C {
    this.open.push(collector);
    return collector;
  }
  closeAll(): void {
    for (const c of this.open.splice(0)) c.dispose();
  }
}

/** What most realtime test files start from: their own database with the catalog, a node, tokens. */
export interface LiveFixture {
  database: TestDatabase;
  page: PageRow;
  node: TestNode;
  ids: Catalog;
  /** An API token with `admin`. */
  admin: string;
  /** An API token with `read:internal`. */
  staff: string;
}

export type SeededDatabase = Omit<LiveFixture, 'node'>;

/** A database of the test file's own with the default page, the catalog and two tokens. */
export async function seedTestDatabase(): Promise<SeededDatabase> {
  const database = await createTestDatabase();
  const { page } = await ensureDefaultPage(database.db);
  const ids = await seedCatalog(systemContext(database, page));
  const admin = await mintApiToken(database.db, page, ['admin']);
  const staff = await mintApiToken(database.db, page, ['read:internal']);
  return { database, page, ids, admin, staff };
}

export async function startLiveFixture(): Promise<LiveFixture> {
  const seeded = await seedTestDatabase();
  return { ...seeded, node: await startTestNode(seeded.database) };
}

/** Close every subscription, the node and the database (whatever of them was started). */
export async function stopLiveFixture(fixture: Partial<LiveFixture> | undefined, subs: Subscriptions): Promise<void> {
  subs.closeAll();
  await fixture?.node?.close();
  await fixture?.database?.destroy();
}
