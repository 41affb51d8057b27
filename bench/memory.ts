/**
 * `npm run bench:memory`: how much memory the hub needs at idle, with the demo data and after a
 * simulated year of history, for each storage mode:
 *
 * - `embedded`: the default without DATABASE_URL, the embedded PostgreSQL (server/db/embedded-postgres.ts);
 * - `pglite`: EMBEDDED_DB=pglite;
 * - `postgres`: DATABASE_URL, a fresh database on that server (default
 *   postgres://postgres@127.0.0.1:5432/postgres), dropped at the end.
 *
 * Per mode: the hub starts as `npm start` starts it after building the web app (the command after
 * `&&` in package.json's start script: `node --max-semi-space-size=4 --import tsx server/main.ts`)
 * on an empty temporary DATA_DIR (or database) and port, and seeds the demo
 * data itself, as a first `npm start` does; once /readyz answers and staff have signed in
 * (ADMIN_PASSWORD), WARM-UP seconds of traffic (public, deployment and staff pages, the history and audit log, the
 * Statuspage API, badge and feed, a status change a second seen by 20 WebSocket subscribers),
 * then the clients leave and after SETTLE seconds of idle the memory of the hub's process tree is
 * read 5 times, 2 s apart (median): PSS (/proc/<pid>/smaps_rollup; shared pages split between the
 * processes that map them, so the sum is what the tree costs the machine) and RSS summed (counts
 * shared pages once per process: an over-estimate). The tree is the hub process and everything it
 * started: the embedded PostgreSQL (postmaster, its background processes and one backend per
 * connection), the watchdog shell, tsx's esbuild service. For `postgres` the server is not the
 * hub's: its backends serving the hub's database are shown apart.
 *
 * Then a year of history is written into the hub's database and the same is measured again: where
 * the database can have a second client (PostgreSQL, embedded or not) beside the running hub, and
 * again after a restart; PGlite (one process) with the hub stopped, then after a restart. The
 * year: 15 more components (a public group) created a year ago; a status change every INTERVAL
 * minutes, round-robin (each component in turn leaves operational and comes back INTERVAL minutes
 * later: at the default 5 minutes, about 105,100 status events, each component out for 5 minutes
 * every 2.5 hours; `--interval 0.3333`, about 1.58 million, out for 20 s every 10 minutes); an
 * incident a week (52, backfilled through the services with four
 * updates and an affected component). Status events are inserted with SQL mirroring what the
 * services write (the component row as `before`/`after`), so the audit chain and the uptime rollup
 * triggers run for every row; the audit chain is verified afterwards.
 *
 *   npm run bench:memory -- [--modes embedded,pglite,postgres] [--interval 5] [--warmup 20] [--settle 30]
 *
 * About 10 minutes for the three modes here (a shared 2-core machine); results in bench/results/memory-*.json.
 */
import { mkdtempSync, chmodSync, readdirSync, readFileSync, lstatSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { inArray, sql } from 'drizzle-orm';
import { print } from 'graphql';
import postgres from 'postgres';
import WebSocket from 'ws';
import { ensureDefaultPage } from '../server/bootstrap.js';
import { systemViewer } from '../server/auth/viewer.js';
import { verifyChain } from '../server/db/audit-chain.js';
import { openDatabase, queryRows, type Database } from '../server/db/client.js';
import { runningEmbeddedPostgres } from '../server/db/embedded-postgres.js';
import * as tables from '../server/db/tables/index.js';
import * as catalog from '../server/services/catalog.js';
import type { ServiceContext } from '../server/services/context.js';
import * as incidents from '../server/services/incidents.js';
import { HistoryQuery } from '../web/src/graphql/history.js';
import { AuditLogQuery } from '../web/src/graphql/manage-access.js';
import { DeploymentSummaryQuery, InternalSummaryQuery, PublicSummaryQuery } from '../web/src/graphql/summary.js';
import { Children, fetchWithin, freePort, percentile, sleep, waitFor } from './lib.js';

const { values: args } = parseArgs({
  options: {
    modes: { type: 'string', default: 'embedded,pglite,postgres' },
    interval: { type: 'string', default: '5' },
    components: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '20' },
    settle: { type: 'string', default: '30' },
  },
});
type Mode = 'embedded' | 'pglite' | 'postgres';
const modes = args.modes.split(',').map((m) => m.trim()) as Mode[];
for (const mode of modes) if (!['embedded', 'pglite', 'postgres'].includes(mode)) throw new Error(`unknown mode ${mode}`);
const intervalMinutes = Number(args.interval);
const simulatedComponents = Number(args.components);
const warmupS = Number(args.warmup);
const settleS = Number(args.settle);
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const root = fileURLToPath(new URL('..', import.meta.url));
const children = new Children();
const adminPassword = 'bench-memory-password';
/** The hub as `npm start` runs it: the start script's last command (`node <flags> server/main.ts`). */
const startScript = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
const hubCommand = startScript.split('&&').at(-1)!.trim().split(/\s+/);
if (hubCommand[0] !== 'node') throw new Error(`the start script does not end with a node command: ${startScript}`);
const hubArgs = hubCommand.slice(1);
const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

// ── memory of a process tree ─────────────────────────────────────────────────

interface ProcessMemory {
  pid: number;
  name: string;
  pssKb: number;
  rssKb: number;
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function memoryOf(pid: number): ProcessMemory | null {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return { pid, name: cmdline.slice(0, 60), pssKb: kb('Pss'), rssKb: kb('Rss') };
  } catch {
    return null;
  }
}

/** `pid` and every process below it. */
function tree(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(Number(entry));
    if (parent !== null) byParent.set(parent, [...(byParent.get(parent) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const child of byParent.get(p) ?? []) walk(child);
  };
  walk(pid);
  return out;
}

interface Reading {
  hubPssMb: number;
  dbPssMb: number;
  otherPssMb: number;
  totalPssMb: number;
  totalRssMb: number;
  processes: number;
  /** PostgreSQL mode: the server's backends for the hub's database (not in the totals). */
  serverBackendsPssMb?: number;
  detail: ProcessMemory[];
}

const mb = (kb: number) => Math.round(kb / 102.4) / 10;

function readOnce(hubPid: number, backendPids: number[]): Reading {
  const detail = tree(hubPid).flatMap((pid) => memoryOf(pid) ?? []);
  const sum = (list: ProcessMemory[], key: 'pssKb' | 'rssKb') => list.reduce((total, p) => total + p[key], 0);
  const hub = detail.filter((p) => p.pid === hubPid);
  const db = detail.filter((p) => p.pid !== hubPid && /postgres/.test(p.name) && !/^\/bin\/sh/.test(p.name));
  const other = detail.filter((p) => !hub.includes(p) && !db.includes(p));
  const backends = backendPids.flatMap((pid) => memoryOf(pid) ?? []);
  return {
    hubPssMb: mb(sum(hub, 'pssKb')),
    dbPssMb: mb(sum(db, 'pssKb')),
    otherPssMb: mb(sum(other, 'pssKb')),
    totalPssMb: mb(sum(detail, 'pssKb')),
    totalRssMb: mb(sum(detail, 'rssKb')),
    processes: detail.length,
    serverBackendsPssMb: backendPids.length ? mb(sum(backends, 'pssKb')) : undefined,
    detail,
  };
}

/** Five readings 2 s apart; the one with the median total PSS. */
async function settledReading(hubPid: number, backendPids: () => Promise<number[]>): Promise<Reading> {
  const readings: Reading[] = [];
  for (let i = 0; i < 5; i++) {
    if (i) await sleep(2_000);
    readings.push(readOnce(hubPid, await backendPids()));
  }
  const median = percentile(readings.map((r) => r.totalPssMb), 50)!;
  return readings.reduce((best, r) => (Math.abs(r.totalPssMb - median) < Math.abs(best.totalPssMb - median) ? r : best));
}

function diskMb(dir: string): number {
  let bytes = 0;
  const walk = (p: string) => {
    const stat = lstatSync(p);
    if (stat.isDirectory()) for (const entry of readdirSync(p)) walk(path.join(p, entry));
    else bytes += stat.size;
  };
  walk(dir);
  return Math.round(bytes / 104_857.6) / 10;
}

// ── the modes ────────────────────────────────────────────────────────────────

interface Target {
  mode: Mode;
  env: Record<string, string>;
  /** The database, the hub stopped (PGlite is one process). */
  open(): Promise<Database>;
  /** The database beside the running hub (a second client), where it can have one. */
  beside?(): Promise<Database>;
  diskMb(): Promise<number>;
  backendPids(): Promise<number[]>;
  cleanup(): Promise<void>;
}

async function target(mode: Mode): Promise<Target> {
  if (mode === 'postgres') {
    const name = `statushub_memory_${Date.now().toString(36)}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return {
      mode,
      env: { DATABASE_URL: url.toString() },
      open: () => openDatabase({ url: url.toString(), poolSize: 4 }),
      beside: () => openDatabase({ url: url.toString(), poolSize: 4 }),
      diskMb: async () => Math.round(Number((await admin`select pg_database_size(${name}) as b`)[0]!.b) / 104_857.6) / 10,
      backendPids: async () => (await admin`select pid from pg_stat_activity where datname = ${name}`).map((r) => Number(r.pid)),
      async cleanup() {
        await admin.unsafe(`drop database if exists "${name}" with (force)`);
        await admin.end();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'statushub-memory-'));
  scratchDirs.add(dir);
  // As root the embedded PostgreSQL runs as the postgres user, which must reach the directory.
  chmodSync(dir, 0o755);
  const dataDir = path.join(dir, mode === 'embedded' ? 'postgres' : 'pglite');
  const engine = mode === 'embedded' ? 'postgres' : 'pglite';
  return {
    mode,
    env: { DATA_DIR: dataDir, EMBEDDED_DB: engine },
    open: () => openDatabase({ embedded: engine, dataDir }),
    beside:
      mode === 'embedded'
        ? () => {
            const socket = runningEmbeddedPostgres(dataDir);
            if (!socket) throw new Error('the hub runs no embedded PostgreSQL');
            return openDatabase({ socket, poolSize: 4 });
          }
        : undefined,
    diskMb: async () => diskMb(dataDir),
    backendPids: async () => [],
    cleanup: async () => {
      rmSync(dir, { recursive: true, force: true });
      scratchDirs.delete(dir);
    },
  };
}

// ── the hub ──────────────────────────────────────────────────────────────────

interface Hub {
  pid: number;
  url: string;
  /** Headers that make a request staff's. */
  staff: Record<string, string>;
  /** Two demo components the warm-up changes. */
  warmIds: string[];
  stop(): Promise<void>;
  output(): string;
}

async function startHub(t: Target): Promise<Hub> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['DATABASE_URL', 'REDIS_URL', 'DATA_DIR', 'EMBEDDED_DB']) delete env[key];
  const off = '0/60';
  Object.assign(env, t.env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    SEED: 'true',
    LOG_LEVEL: 'warn',
    ADMIN_PASSWORD: adminPassword,
    RATE_LIMIT_READS: off,
    RATE_LIMIT_TOKEN: off,
    RATE_LIMIT_WRITES: off,
    RATE_LIMIT_SUBSCRIPTIONS: off,
  });
  let output = '';
  const child = children.spawn(process.execPath, hubArgs, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const started = Date.now();
  await waitFor(`${url}/readyz`, 180_000, async () => {
    if (child.exitCode !== null) throw new Error(`hub exited (${child.exitCode}):\n${output}`);
    return (await fetchWithin(`${url}/readyz`, { timeoutMs: 2_000 }).then((r) => r.ok, () => false)) || undefined;
  });
  log(`${t.mode}: hub ready in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${child.pid})`);
  // Staff: the admin the hub made on its first start.
  const response = await fetchWithin(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'mutation ($email: String!, $password: String!) { signIn(email: $email, password: $password) { id } }', variables: { email: 'admin@statushub.local', password: adminPassword } }),
  });
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('statushub_session='))?.split(';')[0];
  if (!cookie) throw new Error(`sign-in failed: ${await response.text()}`);
  const data = (await graphql(url, '{ components { id name } }', {}, { cookie })) as { components: { id: string; name: string }[] };
  const warmIds = data.components.filter((c) => ['Dashboard', 'Webhooks'].includes(c.name)).map((c) => c.id);
  return { pid: child.pid!, url, staff: { cookie }, warmIds, stop: () => children.stop(child, 15_000), output: () => output };
}

// ── traffic ──────────────────────────────────────────────────────────────────

const documents = {
  public: print(PublicSummaryQuery),
  deployment: print(DeploymentSummaryQuery),
  internal: print(InternalSummaryQuery),
  history: print(HistoryQuery),
  audit: print(AuditLogQuery),
};
const setStatus = 'mutation ($id: ID!, $status: ComponentStatus!) { setComponentStatus(id: $id, status: $status) { id status } }';

async function graphql(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetchWithin(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { errors?: { message: string }[]; data?: unknown };
  if (body.errors?.length) throw new Error(`${body.errors[0]!.message} (${query.slice(0, 40)})`);
  return body.data;
}

/** WARM-UP seconds of reads and writes with 20 live subscribers; everyone leaves at the end. */
async function warmUp(hub: Hub): Promise<{ requests: number; events: number }> {
  const { staff, warmIds: componentIds } = hub;
  let events = 0;
  const sockets = await Promise.all(
    Array.from({ length: 20 }, () => {
      const socket = new WebSocket(`${hub.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      return new Promise<WebSocket>((resolve, reject) => {
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
        socket.on('message', (data) => {
          const message = JSON.parse(String(data));
          if (message.type === 'connection_ack') {
            socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { pageEvents { seq action } }' } }));
            resolve(socket);
          } else if (message.type === 'next') events++;
          else if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
        });
        socket.on('error', reject);
      });
    }),
  );
  let requests = 0;
  const until = Date.now() + warmupS * 1000;
  let turn = 0;
  while (Date.now() < until) {
    const second = Date.now() + 1_000;
    await Promise.all([
      graphql(hub.url, documents.public),
      graphql(hub.url, documents.deployment, {}, { 'x-statushub-audience': 'deployment:eu-1' }),
      graphql(hub.url, documents.internal, {}, staff),
      graphql(hub.url, documents.history, { first: 20, withMaintenance: true }),
      graphql(hub.url, documents.audit, { first: 50 }, staff),
      fetchWithin(`${hub.url}/api/v2/summary.json`).then((r) => r.arrayBuffer()),
      fetchWithin(`${hub.url}/badge.svg`).then((r) => r.arrayBuffer()),
      fetchWithin(`${hub.url}/history.atom`).then((r) => r.arrayBuffer()),
    ]);
    requests += 8;
    const id = componentIds[turn % componentIds.length]!;
    await graphql(hub.url, setStatus, { id, status: turn % 2 ? 'operational' : 'degraded_performance' }, staff);
    turn++;
    await sleep(Math.max(0, second - Date.now()));
  }
  // Leave every component as it was.
  if (turn % 2) await graphql(hub.url, setStatus, { id: componentIds[(turn - 1) % componentIds.length]!, status: 'operational' }, staff);
  await sleep(500);
  for (const socket of sockets) socket.close();
  return { requests, events };
}

// ── data ─────────────────────────────────────────────────────────────────────

interface YearStats {
  statusEvents: number;
  incidents: number;
  events: number;
  seconds: number;
  chainOk: boolean;
  chainSeconds: number;
}

/** A year of history (see the header); the audit chain verified afterwards. */
async function writeYear(open: () => Promise<Database>): Promise<YearStats> {
  const started = performance.now();
  const database = await open();
  try {
    const { db } = database;
    const { page } = await ensureDefaultPage(db);
    const ctx: ServiceContext = { db, viewer: systemViewer(page, 'bench:memory') };
    const from = Math.floor((Date.now() - 365 * 86_400_000) / 60_000) * 60_000;
    const past: ServiceContext = { ...ctx, eventTime: new Date(from) };
    const group = await catalog.createGroup(past, { name: 'Simulated year', sortOrder: 50 });
    const ids: string[] = [];
    for (let i = 0; i < simulatedComponents; i++) ids.push((await catalog.createComponent(past, { name: `Simulated ${i + 1}`, groupId: group.id, sortOrder: i + 1 })).id);
    await db.update(tables.components).set({ createdAt: new Date(from), updatedAt: new Date(from) }).where(inArray(tables.components.id, ids));

    // Event i (1-based time step): component k = floor(i / 2) mod n leaves operational on even i
    // (degraded, partial or major outage in turn) and comes back on odd i.
    const n = ids.length;
    const step = intervalMinutes * 60_000;
    const total = Math.floor((Date.now() - 3_600_000 - from) / step / 2) * 2;
    const chosen = sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `);
    const batch = 10_000;
    for (let offset = 0; offset < total; offset += batch) {
      await db.execute(sql`
        insert into ${tables.events} (page_id, actor_type, actor_name, action, entity_type, entity_id, before, after, created_at)
        select ${page.id}::uuid, 'system', 'bench:memory', 'component.status_changed', 'component', c.id::text,
          (to_jsonb(c) - 'k') || jsonb_build_object('status', case when g.i % 2 = 0 then 'operational' else s.bad end),
          (to_jsonb(c) - 'k') || jsonb_build_object('status', case when g.i % 2 = 0 then s.bad else 'operational' end, 'cause', 'bench:memory'),
          to_timestamp((${from}::float8 + (g.i + 1) * ${step}::float8) / 1000)
        from generate_series(${offset}::int, ${Math.min(offset + batch, total) - 1}::int) as g(i)
        join (select *, row_number() over (order by sort_order) - 1 as k from ${tables.components} where id in (${chosen})) c on c.k = (g.i / 2) % ${n}
        cross join lateral (select (array['degraded_performance', 'partial_outage', 'major_outage'])[((g.i / 2 / ${n}) % 3) + 1] as bad) s
        order by g.i`);
      if (offset && offset % 50_000 === 0) log(`${offset} status events`);
    }

    const weeks = 52;
    for (let w = 0; w < weeks; w++) {
      const startedAt = new Date(from + w * 7 * 86_400_000 + 86_400_000);
      const at = (minutes: number) => new Date(startedAt.getTime() + minutes * 60_000);
      await incidents.backfillIncident(ctx, {
        title: `Simulated incident ${w + 1}`,
        impact: 'minor',
        visibility: 'public',
        components: [{ componentId: ids[w % n]!, status: 'partial_outage' }],
        startedAt,
        resolvedAt: at(120),
        updates: [
          { status: 'investigating', message: 'We are investigating elevated error rates.', at: startedAt },
          { status: 'identified', message: 'We found the cause and are rolling out a fix.', at: at(30) },
          { status: 'monitoring', message: 'The fix is out; we are watching the error rate.', at: at(60) },
          { status: 'resolved', message: 'This incident has been resolved.', at: at(120) },
        ],
      });
    }
    await db.execute(sql`analyze`);
    const [count] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${tables.events}`);
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    const verifyStarted = performance.now();
    const report = await verifyChain(db);
    return { statusEvents: total, incidents: weeks, events: count!.n, seconds, chainOk: report.ok, chainSeconds: Math.round((performance.now() - verifyStarted) / 100) / 10 };
  } finally {
    await database.close();
  }
}

// ── run ──────────────────────────────────────────────────────────────────────

interface Heap {
  usedMb: number;
  totalMb: number;
  externalMb: number;
}

async function hubHeap(hub: Hub): Promise<Heap> {
  const text = await (await fetchWithin(`${hub.url}/metrics`, { headers: hub.staff })).text();
  const value = (name: string) => Math.round(Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 104_857.6) / 10;
  return { usedMb: value('nodejs_heap_size_used_bytes'), totalMb: value('nodejs_heap_size_total_bytes'), externalMb: value('nodejs_external_memory_bytes') };
}

interface Row {
  mode: Mode;
  phase: 'demo data' | 'after a year' | 'year, restarted';
  reading: Reading;
  heap: Heap;
  diskMb: number;
  requests: number;
  liveEvents: number;
}

const rows: Row[] = [];
const years: Partial<Record<Mode, YearStats>> = {};

async function measure(t: Target, hub: Hub, phase: Row['phase']): Promise<void> {
  const traffic = await warmUp(hub);
  log(`${t.mode}: warm-up done (${traffic.requests} requests, ${traffic.events} live events); idle for ${settleS} s`);
  await sleep(settleS * 1000);
  const reading = await settledReading(hub.pid, t.backendPids);
  // After the readings: the hub's own view of its heap (prom-client's process metrics, staff only).
  const heap = await hubHeap(hub);
  rows.push({ mode: t.mode, phase, reading, heap, diskMb: await t.diskMb(), requests: traffic.requests, liveEvents: traffic.events });
  log(
    `${t.mode} (${phase}): ${reading.totalPssMb} MB PSS (hub ${reading.hubPssMb}, database ${reading.dbPssMb}, other ${reading.otherPssMb}), ${reading.totalRssMb} MB RSS summed, ${reading.processes} processes; ` +
      `hub heap ${heap.usedMb} used of ${heap.totalMb} MB, external ${heap.externalMb} MB`,
  );
}

/** Events the hub has processed (its Prometheus counter). */
async function processed(hub: Hub): Promise<number> {
  const text = await (await fetchWithin(`${hub.url}/metrics`, { headers: hub.staff })).text();
  return Number(/^statushub_live_events_total (\S+)/m.exec(text)?.[1] ?? 0);
}

/**
 * Demo data; then the year: where the database can have a second client (PostgreSQL, embedded or
 * not) it is written while the hub runs, which reads every new event (its 2 s poll) as it would
 * have over the year, and measured on that same hub, then again after a restart; PGlite is one
 * process, so there the hub stops, the year is written, and the hub starts again.
 */
async function run(mode: Mode): Promise<void> {
  const t = await target(mode);
  let hub: Hub | undefined;
  try {
    hub = await startHub(t);
    await measure(t, hub, 'demo data');
    if (t.beside) {
      log(`${mode}: writing a year of history beside the running hub`);
      const before = await processed(hub);
      years[mode] = await writeYear(t.beside);
      const running = hub;
      const caughtUp = await waitFor('the hub to read the year', 600_000, async () => ((await processed(running)) >= before + years[mode]!.statusEvents ? true : undefined), 1_000).then(
        () => true,
        () => false,
      );
      log(`${mode}: ${describeYear(years[mode]!)}; the hub ${caughtUp ? 'has read every new event' : 'had NOT read every new event after 10 minutes'}`);
      await measure(t, hub, 'after a year');
      await hub.stop();
    } else {
      await hub.stop();
      log(`${mode}: writing a year of history (hub stopped)`);
      years[mode] = await writeYear(t.open);
      log(`${mode}: ${describeYear(years[mode]!)}`);
    }
    hub = await startHub(t);
    await measure(t, hub, 'year, restarted');
  } finally {
    await hub?.stop();
    await t.cleanup();
  }
}

function describeYear(year: YearStats): string {
  return `${year.statusEvents} status events and ${year.incidents} incidents in ${year.seconds} s; ${year.events} events in all; audit chain ${year.chainOk ? 'intact' : 'BROKEN'} (${year.chainSeconds} s)`;
}

/** Temporary data directories still to remove. */
const scratchDirs = new Set<string>();
const shutdown = () => {
  // The embedded PostgreSQL's watchdog stops it when its hub dies (a fresh PostgreSQL database of
  // the postgres mode is left behind: statushub_memory_*).
  children.killAllNow();
  setTimeout(() => {
    for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  }, 2_000);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

const runStarted = Date.now();
try {
  for (const mode of modes) await run(mode);
} finally {
  await children.stopAll();
}

const pad = (value: string | number, width: number) => String(value).padStart(width);
console.log(`\nbench:memory: idle memory of the hub's process tree, MB (PSS: shared pages split; RSS summed over the processes)`);
console.log(`hub: node ${hubArgs.join(' ')}; warm-up ${warmupS} s, idle ${settleS} s; a year = ${years[modes[0]!]?.statusEvents ?? '?'} status events on ${simulatedComponents} components (one every ${intervalMinutes} min) + 52 incidents\n`);
console.log(`${'mode'.padEnd(10)} ${'data'.padEnd(16)} ${pad('total PSS', 10)} ${pad('hub', 7)} ${pad('database', 9)} ${pad('other', 7)} ${pad('RSS sum', 8)} ${pad('procs', 6)} ${pad('heap', 6)} ${pad('on disk', 8)}  server backends (PSS, not the hub's)`);
for (const r of rows) {
  const m = r.reading;
  console.log(
    `${r.mode.padEnd(10)} ${r.phase.padEnd(16)} ${pad(m.totalPssMb, 10)} ${pad(m.hubPssMb, 7)} ${pad(m.dbPssMb, 9)} ${pad(m.otherPssMb, 7)} ${pad(m.totalRssMb, 8)} ${pad(m.processes, 6)} ${pad(r.heap.usedMb, 6)} ${pad(r.diskMb, 8)}  ${m.serverBackendsPssMb ?? ''}`,
  );
}
console.log(`\n${Math.round((Date.now() - runStarted) / 1000)} s in all`);

mkdirSync(path.join(root, 'bench/results'), { recursive: true });
const file = path.join(root, 'bench/results', `memory-${new Date().toISOString().replaceAll(':', '-')}.json`);
writeFileSync(file, JSON.stringify({ args, hub: ['node', ...hubArgs], years, rows }, null, 2));
console.log(`results: ${path.relative(root, file)}`);
