import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { nginxConfig, nginxPath, upstreamHeader } from './nginx.js';
import { captureOutput, Children, cpuMs, cpuMsOfCommand, fetchWithin, machineCpuMs, openFileLimit, ownCpuMs, processTable, freePort, now, round, settledRss, sleep, summarize, waitFor, type Summary } from './lib.js';
import type { ClientMessage, CompleteReply, ConnectCommand, ConnectedReply, ReportReply, SubscriberSpec } from './protocol.js';

/**
 * Fan-out benchmark: N live subscribers (SSE and WebSocket; public, two deployments and
 * internal) on a statushub node in its own process, M status changes through the GraphQL API,
 * latency from commit to receipt by every client; then the same fan-out by a plain `ws` server
 * (bench/baseline-ws.ts) for comparison; then two nodes on one database (through nginx when it
 * is installed). Clients live in separate processes. See docs/DEPLOY.md and the README of bench.
 *
 *   npm run bench:fanout -- [--sizes 1000,10000] [--changes 20] [--processes 4] [--two-node-subscribers 1000]
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const host = '127.0.0.1';
const audiences = ['public', 'deployment:us-1', 'deployment:eu-1', 'internal'] as const;
const adminEmail = 'bench-admin@statushub.local';
const adminPassword = `bench-${Math.random().toString(36).slice(2)}-${Date.now()}`;

/**
 * Every subscriber sends this document (≈1 KB per event). The group's `components` list pads the
 * payload to about 1 KB with real fields rather than filler.
 */
const subscriptionQuery = `subscription BenchPageEvents {
  pageEvents {
    seq action kind entityId removed resync
    status { indicator description }
    component { id name description status updatedAt group { id name description status components { id name description status updatedAt } } }
  }
}`;

const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string' },
    sizes: { type: 'string' },
    changes: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    processes: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '50' },
    'spacing-ms': { type: 'string', default: '400' },
    'change-timeout-ms': { type: 'string', default: '15000' },
    'idle-ms': { type: 'string', default: '3000' },
    'quiet-wait-ms': { type: 'string', default: '120000' },
    'noise-limit': { type: 'string', default: '0.1' },
    'max-attempts': { type: 'string', default: '3' },
    'two-node-subscribers': { type: 'string', default: '1000' },
    'no-baseline': { type: 'boolean', default: false },
    'no-nginx': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'hub-entry': { type: 'string', default: 'server/main.ts' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(`npm run bench:fanout -- [options]
  --subscribers N            largest size (default 10000); --sizes defaults to 1000,N
  --sizes A,B                subscriber counts to run, each against the hub and the plain ws baseline
  --changes M                measured status changes per run (default 20), after --warmup (default 5)
  --processes P              client processes (default 4)
  --two-node-subscribers K   subscribers in the two-node run (default 1000; 0 skips it)
  --quiet-wait-ms MS         before each measured phase, wait up to MS (default 120000) for other
                             processes on the machine to use under 10% of a core
  --noise-limit F            measure a phase again (up to --max-attempts, default 3) when other
                             processes used more than F of a core during it (default 0.1)
  --no-baseline              skip the plain ws runs
  --no-nginx                 connect the two-node clients straight to node B even if nginx is installed
  --cpu-prof                 run hub nodes with --cpu-prof (profiles under bench/results/)
  --hub-entry FILE           diagnostics: start hub nodes from a wrapper that imports server/main.ts
  --pg URL                   PostgreSQL server for the fresh database (DATABASE_URL wins when set)`);
  process.exit(0);
}

const int = (value: string | undefined, name: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
};
const largest = args.subscribers ? int(args.subscribers, 'subscribers') : 10_000;
const options = {
  sizes: args.sizes ? args.sizes.split(',').map((s) => int(s.trim(), 'sizes')) : [...new Set([Math.min(1_000, largest), largest])],
  changes: int(args.changes, 'changes'),
  warmup: int(args.warmup, 'warmup'),
  processes: Math.max(1, int(args.processes, 'processes')),
  concurrency: Math.max(1, int(args.concurrency, 'concurrency')),
  spacingMs: int(args['spacing-ms'], 'spacing-ms'),
  changeTimeoutMs: int(args['change-timeout-ms'], 'change-timeout-ms'),
  idleMs: int(args['idle-ms'], 'idle-ms'),
  quietWaitMs: int(args['quiet-wait-ms'], 'quiet-wait-ms'),
  noiseLimit: Number(args['noise-limit']),
  maxAttempts: Math.max(1, int(args['max-attempts'], 'max-attempts')),
  twoNodeSubscribers: int(args['two-node-subscribers'], 'two-node-subscribers'),
  baseline: !args['no-baseline'],
  nginx: !args['no-nginx'],
  cpuProf: args['cpu-prof'],
  pgUrl: args.pg,
  hubEntry: args['hub-entry'],
};
const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const resultsDir = join(root, 'bench', 'results');
const profileDir = join(resultsDir, `profiles-${stamp}`);
const children = new Children();
const log = (message: string) => console.error(`[${((now() - startedAt.getTime()) / 1000).toFixed(1).padStart(6)}s] ${message}`);

// ───────────────────────────── processes ─────────────────────────────

interface ServerProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  output: () => string;
}

async function startProcess(name: string, script: string, env: NodeJS.ProcessEnv, port: number, nodeArgs: string[] = []): Promise<ServerProcess> {
  const child = children.spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = captureOutput(child);
  const url = `http://${host}:${port}`;
  const server = { name, child, pid: child.pid!, port, url, output };
  const state = await waitFor(`${name} to answer /healthz`, 120_000, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    const response = await fetchWithin(`${url}/healthz`, { timeoutMs: 1_000 });
    return response.ok ? 'up' : undefined;
  }, 200);
  if (state === 'exited') throw new Error(`${name} exited during start-up:\n${output()}`);
  return server;
}

function startHub(name: string, databaseUrl: string, port: number): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    LIVE_DEBUG: 'true',
    SEED: 'true',
    ADMIN_EMAIL: adminEmail,
    ADMIN_PASSWORD: adminPassword,
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: host,
    COOKIE_SECURE: 'false',
    // Every simulated subscriber connects from this one machine, and the changes come fast: the
    // per-client abuse limits are off.
    SSE_MAX_STREAMS_PER_CLIENT: '1000000',
    RATE_LIMIT_SUBSCRIPTIONS: '0/60',
    RATE_LIMIT_READS: '0/60',
    RATE_LIMIT_TOKEN: '0/60',
    RATE_LIMIT_WRITES: '0/60',
  };
  // Wake-ups between nodes go through LISTEN/NOTIFY, the default deployment.
  delete env.REDIS_URL;
  // One directory per node: tsx's module-hooks thread writes a profile of its own beside the main thread's.
  const nodeArgs = options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, `${name}-${port}`)}`] : [];
  return startProcess(name, options.hubEntry, env, port, nodeArgs);
}

// ───────────────────────────── client processes ─────────────────────────────

interface ClientProcess {
  child: ChildProcess;
  pid: number;
  ok: number;
  output: () => string;
  waiters: Array<{ type: string; resolve: (message: ClientMessage) => void }>;
}

/** The client processes of one run, and the "every client has seq N" signal they send. */
class ClientPool {
  private readonly completions = new Map<number, Set<number>>();
  private readonly completionWaiters = new Set<() => void>();

  private constructor(readonly procs: ClientProcess[]) {
    procs.forEach((proc, index) =>
      proc.child.on('message', (message: ClientMessage) => {
        if (message.type === 'complete') return this.completed(index, message);
        const i = proc.waiters.findIndex((w) => w.type === message.type);
        if (i >= 0) proc.waiters.splice(i, 1)[0]!.resolve(message);
      }),
    );
  }

  static async start(count: number): Promise<ClientPool> {
    const procs = await Promise.all(
      Array.from({ length: count }, async () => {
        const child = children.spawn(process.execPath, ['--import', 'tsx', 'bench/client.ts'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
        const proc: ClientProcess = { child, pid: child.pid!, ok: 0, output: captureOutput(child), waiters: [] };
        return proc;
      }),
    );
    const pool = new ClientPool(procs);
    await Promise.all(procs.map((proc) => pool.reply(proc, 'ready', 60_000)));
    return pool;
  }

  private reply<T extends ClientMessage>(proc: ClientProcess, type: T['type'], timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`client ${proc.pid}: no '${type}' within ${timeoutMs} ms\n${proc.output()}`)), timeoutMs);
      const exited = () => reject(new Error(`client ${proc.pid} exited while waiting for '${type}'\n${proc.output()}`));
      proc.child.once('exit', exited);
      proc.waiters.push({
        type,
        resolve: (message) => {
          clearTimeout(timer);
          proc.child.off('exit', exited);
          resolve(message as T);
        },
      });
    });
  }

  /** Open `specs` split evenly over the processes (contiguous slices keep the mix in each). */
  async connect(base: Omit<ConnectCommand, 'type' | 'subscribers'>, specs: SubscriberSpec[], timeoutMs: number) {
    const per = Math.ceil(specs.length / this.procs.length);
    const replies = await Promise.all(
      this.procs.map((proc, i) => {
        const slice = specs.slice(i * per, (i + 1) * per);
        const reply = this.reply<ConnectedReply>(proc, 'connected', timeoutMs);
        proc.child.send({ type: 'connect', ...base, subscribers: slice } satisfies ConnectCommand);
        return reply;
      }),
    );
    replies.forEach((reply, i) => (this.procs[i]!.ok = reply.ok));
    return {
      ok: replies.reduce((n, r) => n + r.ok, 0),
      failed: replies.reduce((n, r) => n + r.failed, 0),
      errors: replies.flatMap((r) => r.errors).slice(0, 10),
      ms: Math.max(...replies.map((r) => r.ms)),
    };
  }

  private completed(index: number, message: CompleteReply): void {
    let who = this.completions.get(message.seq);
    if (!who) this.completions.set(message.seq, (who = new Set()));
    who.add(index);
    for (const waiter of [...this.completionWaiters]) waiter();
  }

  /** The first seq above `after` that every process with subscribers has fully received. */
  private firstComplete(after: number, exactly?: number): number | undefined {
    const needed = this.procs.map((p, i) => (p.ok > 0 ? i : -1)).filter((i) => i >= 0);
    let best: number | undefined;
    for (const [seq, who] of this.completions) {
      if (seq <= after || (exactly !== undefined && seq !== exactly)) continue;
      if (needed.every((i) => who.has(i)) && (best === undefined || seq < best)) best = seq;
    }
    return best;
  }

  waitComplete(after: number, timeoutMs: number, exactly?: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const check = () => {
        const seq = this.firstComplete(after, exactly);
        if (seq !== undefined) finish(seq);
      };
      const finish = (seq: number | undefined) => {
        clearTimeout(timer);
        this.completionWaiters.delete(check);
        resolve(seq);
      };
      const timer = setTimeout(() => finish(undefined), Math.max(0, timeoutMs));
      this.completionWaiters.add(check);
      check();
    });
  }

  async reports(): Promise<ReportReply[]> {
    return Promise.all(
      this.procs.map((proc) => {
        const reply = this.reply<ReportReply>(proc, 'report', 60_000);
        proc.child.send({ type: 'report' });
        return reply;
      }),
    );
  }

  cpuMs(): number {
    return this.procs.reduce((sum, proc) => sum + (proc.child.exitCode === null ? cpuMs(proc.pid) : 0), 0);
  }

  async close(): Promise<void> {
    for (const proc of this.procs) if (proc.child.connected) proc.child.send({ type: 'close' });
    await Promise.all(this.procs.map((proc) => children.stop(proc.child, 5_000)));
  }
}

/** Subscriber i: alternate transports, cycle audiences (so every slice of 8 holds every pair). */
function hubSpecs(count: number): SubscriberSpec[] {
  return Array.from({ length: count }, (_, i) => ({ transport: i % 2 === 0 ? 'ws' : 'sse', audience: audiences[Math.floor(i / 2) % audiences.length]! }));
}

// ───────────────────────────── GraphQL ─────────────────────────────

interface Auth {
  cookie: string;
  internalToken: string;
  componentId: string;
}

async function gql<T>(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<{ data: T; response: Response }> {
  const response = await fetchWithin(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
    timeoutMs: 15_000,
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL error: ${JSON.stringify(body.errors ?? body)}`);
  return { data: body.data, response };
}

let auth: Auth | undefined;
/** Sign in as the admin, create an API token with read:internal, find a public component. */
async function authenticate(url: string): Promise<Auth> {
  if (auth) return auth;
  const { response } = await gql(url, 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { id } }', { email: adminEmail, password: adminPassword });
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('statushub_session='));
  if (!cookie) throw new Error('signIn set no session cookie');
  const created = await gql<{ createApiToken: { token: string } }>(
    url,
    'mutation($input: ApiTokenInput!) { createApiToken(input: $input) { token } }',
    { input: { name: 'fan-out benchmark', scopes: ['read_internal'] } },
    { cookie },
  );
  // A component every audience sees: read it as the public.
  const summary = await gql<{ summary: { groups: { components: { id: string; name: string }[] }[] } }>(url, '{ summary { groups { components { id name } } } }', {}, { 'x-statushub-audience': 'public' });
  const component = summary.data.summary.groups.flatMap((g) => g.components).find((c) => c.name === 'Dashboard');
  if (!component) throw new Error('the seeded public component "Dashboard" was not found');
  return (auth = { cookie, internalToken: created.data.createApiToken.token, componentId: component.id });
}

interface LiveDebug {
  payloadBuilds: number;
  framesWritten: number;
  eventsProcessed: number;
  subscribers: number;
  lastSeq: number;
  commitTimes: Record<string, number>;
}

async function liveDebug(server: ServerProcess): Promise<LiveDebug> {
  const response = await fetchWithin(`${server.url}/debug/live`, { timeoutMs: 10_000 });
  if (!response.ok) throw new Error(`${server.name} /debug/live answered ${response.status} (is LIVE_DEBUG on?)`);
  return (await response.json()) as LiveDebug;
}

// ───────────────────────────── measuring ─────────────────────────────

interface ChangeRecord {
  sent: number;
  answered: number;
  completedSeq?: number;
  /** Commit time (hub) or time just before the broadcast loop (baseline). */
  origin?: number;
  seqs: number[];
}

interface LatencyResult {
  /** Per change: the slowest client's latency (ms), and how many subscribers never got it. */
  perChange: { seq: number | null; firstMs?: number; lastMs?: number; received: number; missing: number }[];
  last: Summary;
  /** The fastest client per change: the fixed cost before fan-out spreads. */
  first: Summary;
  all: Summary;
  byGroup: Record<string, Summary>;
  missingTotal: number;
  timedOutChanges: number;
}

function latencies(changes: ChangeRecord[], origins: (seq: number) => number | undefined, reports: ReportReply[], expected: number, groupFilter?: (group: string) => boolean): LatencyResult {
  const perChange: LatencyResult['perChange'] = [];
  const lasts: number[] = [];
  const firsts: number[] = [];
  const all: number[] = [];
  const byGroup: Record<string, number[]> = {};
  let timedOutChanges = 0;
  let missingTotal = 0;
  const groupSize = (filter?: (group: string) => boolean) => reports.reduce((n, r) => n + Object.entries(r.groups).reduce((m, [g, size]) => m + (!filter || filter(g) ? size : 0), 0), 0);
  const want = groupFilter ? groupSize(groupFilter) : expected;
  for (const change of changes) {
    if (change.completedSeq === undefined) timedOutChanges++;
    const seq = change.seqs[0] ?? change.completedSeq;
    const origin = seq === undefined ? undefined : origins(seq);
    if (seq === undefined || origin === undefined) {
      perChange.push({ seq: seq ?? null, received: 0, missing: want });
      missingTotal += want;
      continue;
    }
    let last = -Infinity;
    let first = Infinity;
    let received = 0;
    for (const report of reports) {
      for (const [group, bySeq] of Object.entries(report.receipts)) {
        if (groupFilter && !groupFilter(group)) continue;
        for (const at of bySeq[String(seq)] ?? []) {
          const ms = at - origin;
          all.push(ms);
          (byGroup[group] ??= []).push(ms);
          if (ms > last) last = ms;
          if (ms < first) first = ms;
          received++;
        }
      }
    }
    if (received) {
      lasts.push(last);
      firsts.push(first);
    }
    perChange.push({ seq, firstMs: received ? round(first) : undefined, lastMs: received ? round(last) : undefined, received, missing: Math.max(0, want - received) });
    missingTotal += Math.max(0, want - received);
  }
  return {
    perChange,
    last: summarize(lasts),
    first: summarize(firsts),
    all: summarize(all),
    byGroup: Object.fromEntries(Object.entries(byGroup).map(([g, values]) => [g, summarize(values)])),
    missingTotal,
    timedOutChanges,
  };
}

/** Pace changes: wait for everyone (or the timeout), then keep at least `spacingMs` between them. */
async function paced(pool: ClientPool, lastSeq: { value: number }, act: () => Promise<{ sent: number; answered: number; seq?: number; origin?: number }>): Promise<ChangeRecord> {
  const { sent, answered, seq, origin } = await act();
  const completedSeq = await pool.waitComplete(lastSeq.value, options.changeTimeoutMs - (now() - sent), seq);
  if (completedSeq !== undefined) lastSeq.value = completedSeq;
  const next = Math.max(sent + options.spacingMs, now() + 100);
  await sleep(next - now());
  return { sent, answered, completedSeq, origin, seqs: seq === undefined ? [] : [seq] };
}

function componentChanger(writer: ServerProcess, credentials: Auth) {
  let degraded = false;
  return async () => {
    degraded = !degraded;
    const sent = now();
    await gql(
      writer.url,
      'mutation($id: ID!, $status: ComponentStatus!) { setComponentStatus(id: $id, status: $status) { id status } }',
      { id: credentials.componentId, status: degraded ? 'degraded_performance' : 'operational' },
      { cookie: credentials.cookie },
    );
    return { sent, answered: now() };
  };
}

/** The commits that happened while a change's request was in flight: that change's events. */
function assignSeqs(changes: ChangeRecord[], commitTimes: Record<string, number>): void {
  const commits = Object.entries(commitTimes).map(([seq, at]) => ({ seq: Number(seq), at }));
  for (const change of changes) {
    change.seqs = commits.filter((c) => c.at >= change.sent - 5 && c.at <= change.answered + 5).map((c) => c.seq).sort((a, b) => a - b);
    if (!change.seqs.length && change.completedSeq !== undefined) change.seqs = [change.completedSeq];
  }
}

function samplesOf(reports: ReportReply[]): Record<string, number> {
  const bytes: Record<string, number> = {};
  for (const report of reports) for (const [group, sample] of Object.entries(report.samples)) bytes[group.split(' ').slice(0, 2).join(' ')] ??= sample.bytes;
  return bytes;
}

// ───────────────────────────── CPU accounting ─────────────────────────────

/**
 * The machine is shared (2 cores): CPU used by processes that are not part of the benchmark
 * (anything but its servers, clients, nginx, PostgreSQL, the kernel's softirq threads and this
 * driver) disturbs the latencies, so it is measured and reported, and each measured phase first
 * waits (bounded) for the machine to be quiet.
 */
interface CpuSnapshot {
  processes: Map<number, { comm: string; ms: number }>;
  pids: Set<number>;
  machine: number;
  ours: number;
  postgres: number;
  softirq: number;
  driver: number;
}

function cpuSnapshot(pids: number[]): CpuSnapshot {
  let ours = 0;
  for (const pid of pids) {
    try {
      ours += cpuMs(pid);
    } catch {
      // Exited.
    }
  }
  // nginx: the master's pid is ours, its worker's is not known here; no other nginx runs meanwhile.
  ours += cpuMsOfCommand(/^nginx$/);
  return { processes: processTable(), pids: new Set([...pids, process.pid]), machine: machineCpuMs(), ours, postgres: cpuMsOfCommand(/^postgres$/), softirq: cpuMsOfCommand(/^ksoftirqd\//), driver: ownCpuMs() };
}

/** CPU (ms) of everything else on the machine between two snapshots. */
function foreignCpu(a: CpuSnapshot, b: CpuSnapshot): number {
  return Math.max(0, b.machine - a.machine - (b.ours - a.ours) - (b.postgres - a.postgres) - (b.softirq - a.softirq) - (b.driver - a.driver));
}

/** The busiest processes outside the benchmark between two snapshots (those that exited are not seen). */
function foreignTop(a: CpuSnapshot, b: CpuSnapshot): Record<string, number> {
  const byName = new Map<string, number>();
  for (const [pid, after] of b.processes) {
    if (a.pids.has(pid) || /^(postgres|nginx|ksoftirqd\/\d+)$/.test(after.comm)) continue;
    const used = after.ms - (a.processes.get(pid)?.ms ?? 0);
    if (used > 0) byName.set(after.comm, (byName.get(after.comm) ?? 0) + used);
  }
  return Object.fromEntries([...byName].sort((x, y) => y[1] - x[1]).slice(0, 5).map(([name, ms]) => [name, Math.round(ms)]));
}

/** Wait (at most `options.quietWaitMs`) until other processes use under --noise-limit of a core. */
async function waitQuiet(pids: number[], what: string): Promise<{ waitedMs: number; foreignMsPerSecond: number }> {
  const started = now();
  for (;;) {
    const a = cpuSnapshot(pids);
    await sleep(1_000);
    const foreign = foreignCpu(a, cpuSnapshot(pids));
    const waitedMs = Math.round(now() - started);
    if (foreign < options.noiseLimit * 1000 || waitedMs >= options.quietWaitMs) {
      if (foreign >= options.noiseLimit * 1000) log(`${what}: other processes still use ${Math.round(foreign / 10)}% of a core; measuring anyway`);
      else if (waitedMs > 1_500) log(`${what}: waited ${Math.round(waitedMs / 1000)} s for other processes to quieten`);
      return { waitedMs, foreignMsPerSecond: Math.round(foreign) };
    }
  }
}

// ───────────────────────────── runs ─────────────────────────────

interface ConnectResult {
  requested: number;
  ok: number;
  failed: number;
  errors: string[];
  connectMs: number;
}

interface HubRun {
  kind: 'hub';
  subscribers: ConnectResult;
  latency: LatencyResult;
  serverCpuMsPerChange?: number;
  clientCpuMsPerChange?: number;
  /** Every core, every process (PostgreSQL included) during the changes phase, per change. */
  machineCpuMsPerChange?: number;
  postgresCpuMsPerChange?: number;
  /** Processes that are not part of the benchmark, per change: noise. */
  otherCpuMsPerChange?: number;
  /** The busiest of those over the whole phase (ms), by command name. */
  otherProcessesCpuMs?: Record<string, number>;
  /** Noise of every attempt at the measured phase (repeated while the machine was busy). */
  attempts: Attempt[];
  quiet: { waitedMs: number; foreignMsPerSecond: number };
  payloadBuildsPerChange?: number;
  framesPerChange?: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  memoryPerSubscriberKB?: number;
  frameBytes: Record<string, number>;
  clientErrors: string[];
  /** When the measured changes ran (CLOCK_MONOTONIC µs), to slice a --cpu-prof profile. */
  changesWindowMonotonicUs: [number, number];
  /** The end of what the server printed (LOG_LEVEL=warn: warnings and errors only). */
  serverOutput: string;
  wsFrameSample?: string;
}

async function runHub(size: number, databaseUrl: string): Promise<HubRun> {
  const port = await freePort();
  log(`hub ×${size}: starting node on :${port}`);
  const node = await startHub(`hub-${size}`, databaseUrl, port);
  let pool: ClientPool | undefined;
  try {
    const credentials = await authenticate(node.url);
    await sleep(1_000);
    const rssBefore = await settledRss(node.pid);
    pool = await ClientPool.start(options.processes);
    log(`hub ×${size}: connecting ${size} subscribers from ${options.processes} processes`);
    const connected = await pool.connect(
      { mode: 'hub', host, port, path: '/graphql', query: subscriptionQuery, internalToken: credentials.internalToken, concurrency: options.concurrency, connectTimeoutMs: 30_000 },
      hubSpecs(size),
      180_000 + size * 20,
    );
    log(`hub ×${size}: ${connected.ok} connected, ${connected.failed} failed in ${Math.round(connected.ms)} ms; waiting for the hub to register them`);
    await waitFor('every subscriber registered with the hub', 60_000, async () => ((await liveDebug(node)).subscribers >= connected.ok ? true : undefined), 250).catch((error: unknown) => log(`warning: ${String(error)}; measuring what is there`));
    await sleep(options.idleMs);
    const rssAfter = await settledRss(node.pid);

    const result = await measureChanges(pool, [node], node, credentials);
    const latency = latencies(result.changes, (seq) => result.writerDebug.commitTimes[String(seq)], result.reports, connected.ok);
    const wsSample = result.reports.flatMap((r) => Object.entries(r.samples)).find(([group]) => group.startsWith('ws public'))?.[1].text;
    return {
      kind: 'hub',
      subscribers: { requested: size, ok: connected.ok, failed: connected.failed, errors: connected.errors, connectMs: Math.round(connected.ms) },
      latency,
      serverCpuMsPerChange: result.serverCpuMsPerChange[0],
      clientCpuMsPerChange: result.clientCpuMsPerChange,
      machineCpuMsPerChange: result.machineCpuMsPerChange,
      postgresCpuMsPerChange: result.postgresCpuMsPerChange,
      otherCpuMsPerChange: result.otherCpuMsPerChange,
      otherProcessesCpuMs: result.otherProcessesCpuMs,
      attempts: result.attempts,
      quiet: result.quiet,
      payloadBuildsPerChange: result.buildsPerChange[0],
      framesPerChange: result.framesPerChange[0],
      rssBeforeBytes: rssBefore,
      rssAfterBytes: rssAfter,
      memoryPerSubscriberKB: connected.ok ? round((rssAfter - rssBefore) / connected.ok / 1024, 1) : undefined,
      frameBytes: samplesOf(result.reports),
      clientErrors: result.reports.flatMap((r) => r.errors).slice(0, 10),
      changesWindowMonotonicUs: result.changesWindowMonotonicUs,
      serverOutput: node.output().slice(-4_000),
      wsFrameSample: wsSample,
    };
  } finally {
    await pool?.close();
    await children.stop(node.child, 15_000);
  }
}

/** Warm-up changes, then M measured ones through `writer`; CPU and build counters around them. */
/** One attempt's worth of noise: CPU other processes used per second of the measured phase. */
interface Attempt {
  otherCpuMsPerSecond: number;
  otherProcessesCpuMs: Record<string, number>;
}

/**
 * A measured phase, repeated (up to --max-attempts) while other processes on the machine used
 * more than --noise-limit of a core during it; the last attempt is the one reported.
 */
async function attempts<T>(what: string, pids: number[], measure: () => Promise<T>): Promise<{ result: T; quiet: { waitedMs: number; foreignMsPerSecond: number }; attempts: Attempt[]; otherCpuMs: number }> {
  const tried: Attempt[] = [];
  for (let attempt = 1; ; attempt++) {
    const quiet = await waitQuiet(pids, what);
    const snapshot0 = cpuSnapshot(pids);
    const started = now();
    const result = await measure();
    const snapshot1 = cpuSnapshot(pids);
    const otherCpuMs = foreignCpu(snapshot0, snapshot1);
    const perSecond = Math.round((otherCpuMs * 1000) / Math.max(1, now() - started));
    tried.push({ otherCpuMsPerSecond: perSecond, otherProcessesCpuMs: foreignTop(snapshot0, snapshot1) });
    if (perSecond <= options.noiseLimit * 1000 || attempt >= options.maxAttempts) {
      if (perSecond > options.noiseLimit * 1000) log(`${what}: other processes used ${Math.round(perSecond / 10)}% of a core in every attempt; reporting the last`);
      return { result, quiet, attempts: tried, otherCpuMs };
    }
    log(`${what}: other processes used ${Math.round(perSecond / 10)}% of a core meanwhile; measuring again (attempt ${attempt + 1})`);
  }
}

/** Warm-up changes, then M measured ones through `writer`; CPU and build counters around them. */
async function measureChanges(pool: ClientPool, nodes: ServerProcess[], writer: ServerProcess, credentials: Auth) {
  const change = componentChanger(writer, credentials);
  const pids = [...nodes.map((n) => n.pid), ...pool.procs.map((p) => p.pid)];
  const lastSeq = { value: (await liveDebug(writer)).lastSeq };
  for (let i = 0; i < options.warmup; i++) await paced(pool, lastSeq, change);
  const m = Math.max(1, options.changes);
  const { result, quiet, attempts: tried, otherCpuMs } = await attempts('hub changes', pids, async () => {
    const before = await Promise.all(nodes.map(liveDebug));
    const cpu0 = nodes.map((n) => cpuMs(n.pid));
    const clientCpu0 = pool.cpuMs();
    const machine0 = machineCpuMs();
    const postgres0 = cpuMsOfCommand(/^postgres$/);
    const changes: ChangeRecord[] = [];
    // CLOCK_MONOTONIC in µs, the clock of V8's CPU profiles: slices a --cpu-prof profile to this phase.
    const monotonicStart = Number(process.hrtime.bigint() / 1000n);
    for (let i = 0; i < options.changes; i++) changes.push(await paced(pool, lastSeq, change));
    const monotonicEnd = Number(process.hrtime.bigint() / 1000n);
    const cpu1 = nodes.map((n) => cpuMs(n.pid));
    const clientCpu1 = pool.cpuMs();
    const machine1 = machineCpuMs();
    const postgres1 = cpuMsOfCommand(/^postgres$/);
    const debug = await Promise.all(nodes.map(liveDebug));
    return {
      changes,
      debug,
      serverCpuMsPerChange: nodes.map((_, i) => round((cpu1[i]! - cpu0[i]!) / m, 1)),
      clientCpuMsPerChange: round((clientCpu1 - clientCpu0) / m, 1),
      machineCpuMsPerChange: round((machine1 - machine0) / m, 1),
      postgresCpuMsPerChange: round((postgres1 - postgres0) / m, 1),
      buildsPerChange: nodes.map((_, i) => round((debug[i]!.payloadBuilds - before[i]!.payloadBuilds) / m, 2)),
      framesPerChange: nodes.map((_, i) => round((debug[i]!.framesWritten - before[i]!.framesWritten) / m, 1)),
      changesWindowMonotonicUs: [monotonicStart, monotonicEnd] as [number, number],
    };
  });
  const reports = await pool.reports();
  const writerDebug = result.debug[nodes.indexOf(writer)]!;
  assignSeqs(result.changes, writerDebug.commitTimes);
  const { debug, ...rest } = result;
  return {
    ...rest,
    reports,
    /** The writer's /debug/live: its commitTimes are the latency origins. */
    writerDebug,
    subscribersPerNode: debug.map((d) => d.subscribers),
    otherCpuMsPerChange: round(otherCpuMs / m, 1),
    otherProcessesCpuMs: tried.at(-1)!.otherProcessesCpuMs,
    attempts: tried,
    quiet,
  };
}

interface BaselineRun {
  kind: 'baseline';
  subscribers: ConnectResult;
  latency: LatencyResult;
  serverCpuMsPerChange?: number;
  clientCpuMsPerChange?: number;
  machineCpuMsPerChange?: number;
  otherCpuMsPerChange?: number;
  otherProcessesCpuMs?: Record<string, number>;
  attempts: Attempt[];
  quiet: { waitedMs: number; foreignMsPerSecond: number };
  /** Time the broadcast loop itself took (ms), p50 over the changes. */
  broadcastLoopMsP50?: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  memoryPerSubscriberKB?: number;
  frameBytes?: number;
}

async function runBaseline(size: number, templateFile: string): Promise<BaselineRun> {
  const port = await freePort();
  log(`plain ws ×${size}: starting baseline on :${port}`);
  const server = await startProcess(`baseline-${size}`, 'bench/baseline-ws.ts', { ...process.env, PORT: String(port), HOST: host, BASELINE_TEMPLATE: templateFile }, port);
  let pool: ClientPool | undefined;
  try {
    await sleep(1_000);
    const rssBefore = await settledRss(server.pid);
    pool = await ClientPool.start(options.processes);
    const specs: SubscriberSpec[] = Array.from({ length: size }, () => ({ transport: 'ws', audience: 'plain' }));
    const connected = await pool.connect({ mode: 'baseline', host, port, path: '/', query: '', concurrency: options.concurrency, connectTimeoutMs: 30_000 }, specs, 180_000 + size * 20);
    log(`plain ws ×${size}: ${connected.ok} connected, ${connected.failed} failed in ${Math.round(connected.ms)} ms`);
    await waitFor('every client accepted', 60_000, async () => {
      const stats = (await (await fetchWithin(`${server.url}/stats`, { timeoutMs: 5_000 })).json()) as { clients: number };
      return stats.clients >= connected.ok ? true : undefined;
    }).catch((error: unknown) => log(`warning: ${String(error)}; measuring what is there`));
    await sleep(options.idleMs);
    const rssAfter = await settledRss(server.pid);

    let seq = 0;
    const loops: number[] = [];
    let frameBytes: number | undefined;
    const broadcast = async () => {
      seq++;
      const sent = now();
      const response = await fetchWithin(`${server.url}/broadcast?seq=${seq}`, { method: 'POST', timeoutMs: 15_000 });
      const body = (await response.json()) as { t0: number; t1: number; bytes: number };
      loops.push(body.t1 - body.t0);
      frameBytes = body.bytes;
      return { sent, answered: now(), seq, origin: body.t0 };
    };
    const pids = [server.pid, ...pool.procs.map((p) => p.pid)];
    const lastSeq = { value: 0 };
    for (let i = 0; i < options.warmup; i++) await paced(pool, lastSeq, broadcast);
    const m = Math.max(1, options.changes);
    const measured = await attempts('plain ws broadcasts', pids, async () => {
      loops.length = 0;
      const cpu0 = cpuMs(server.pid);
      const clientCpu0 = pool!.cpuMs();
      const machine0 = machineCpuMs();
      const changes: ChangeRecord[] = [];
      for (let i = 0; i < options.changes; i++) changes.push(await paced(pool!, lastSeq, broadcast));
      return {
        changes,
        serverCpuMsPerChange: round((cpuMs(server.pid) - cpu0) / m, 1),
        clientCpuMsPerChange: round((pool!.cpuMs() - clientCpu0) / m, 1),
        machineCpuMsPerChange: round((machineCpuMs() - machine0) / m, 1),
      };
    });
    const { changes } = measured.result;
    const reports = await pool.reports();
    const origins = new Map(changes.map((c) => [c.seqs[0]!, c.origin!]));
    return {
      kind: 'baseline',
      subscribers: { requested: size, ok: connected.ok, failed: connected.failed, errors: connected.errors, connectMs: Math.round(connected.ms) },
      latency: latencies(changes, (s) => origins.get(s), reports, connected.ok),
      serverCpuMsPerChange: measured.result.serverCpuMsPerChange,
      clientCpuMsPerChange: measured.result.clientCpuMsPerChange,
      machineCpuMsPerChange: measured.result.machineCpuMsPerChange,
      otherCpuMsPerChange: round(measured.otherCpuMs / m, 1),
      otherProcessesCpuMs: measured.attempts.at(-1)!.otherProcessesCpuMs,
      attempts: measured.attempts,
      quiet: measured.quiet,
      broadcastLoopMsP50: summarize(loops).p50,
      rssBeforeBytes: rssBefore,
      rssAfterBytes: rssAfter,
      memoryPerSubscriberKB: connected.ok ? round((rssAfter - rssBefore) / connected.ok / 1024, 1) : undefined,
      frameBytes,
    };
  } finally {
    await pool?.close();
    await children.stop(server.child, 5_000);
  }
}

interface TwoNodeRun {
  via: 'nginx' | 'direct';
  nginxNote: string;
  subscribers: ConnectResult;
  subscribersPerNode: { a: number; b: number };
  /** Receipts by clients served by node B (changes are made through node A). */
  nodeB: LatencyResult;
  /** Receipts by clients served by node A (nginx runs only). */
  nodeA?: LatencyResult;
  all: LatencyResult;
  serverCpuMsPerChange: { a?: number; b?: number };
  payloadBuildsPerChange: { a?: number; b?: number };
  otherCpuMsPerChange?: number;
  otherProcessesCpuMs?: Record<string, number>;
  attempts: Attempt[];
  quiet: { waitedMs: number; foreignMsPerSecond: number };
}

async function runTwoNodes(size: number, databaseUrl: string): Promise<TwoNodeRun> {
  const [portA, portB] = [await freePort(), await freePort()];
  log(`two nodes ×${size}: starting A on :${portA} and B on :${portB}`);
  const [a, b] = await Promise.all([startHub('node-a', databaseUrl, portA), startHub('node-b', databaseUrl, portB)]);
  const nginx = options.nginx ? nginxPath() : null;
  const nginxNote = nginx
    ? `nginx at ${nginx}: clients connect through an nginx on loopback balancing A and B round-robin (no sticky sessions)`
    : options.nginx
      ? 'nginx is not installed (command -v nginx found nothing): clients connect straight to node B'
      : '--no-nginx: clients connect straight to node B';
  let proxy: ServerProcess | undefined;
  let prefix: string | undefined;
  let pool: ClientPool | undefined;
  try {
    let target = b;
    if (nginx) {
      prefix = mkdtempSync(join(tmpdir(), 'statushub-bench-nginx-'));
      mkdirSync(join(prefix, 'tmp'));
      const port = await freePort();
      writeFileSync(join(prefix, 'nginx.conf'), nginxConfig({ listenPort: port, upstreams: [`${host}:${portA}`, `${host}:${portB}`] }));
      const child = children.spawn(nginx, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', 'stderr'], { cwd: prefix, stdio: ['ignore', 'pipe', 'pipe'] });
      const output = captureOutput(child);
      proxy = { name: 'nginx', child, pid: child.pid!, port, url: `http://${host}:${port}`, output };
      const state = await waitFor('nginx to answer /healthz', 30_000, async () => {
        if (child.exitCode !== null) return 'exited';
        return (await fetchWithin(`${proxy!.url}/healthz`, { timeoutMs: 1_000 })).ok ? 'up' : undefined;
      });
      if (state === 'exited') throw new Error(`nginx exited:\n${output()}`);
      target = proxy;
    }
    const credentials = await authenticate(a.url);
    pool = await ClientPool.start(options.processes);
    const connected = await pool.connect(
      {
        mode: 'hub',
        host,
        port: target.port,
        path: '/graphql',
        query: subscriptionQuery,
        internalToken: credentials.internalToken,
        concurrency: options.concurrency,
        connectTimeoutMs: 30_000,
        upstreamHeader: nginx ? upstreamHeader : undefined,
      },
      hubSpecs(size),
      180_000 + size * 20,
    );
    log(`two nodes ×${size}: ${connected.ok} connected via ${nginx ? 'nginx' : 'node B'}, ${connected.failed} failed`);
    await waitFor('every subscriber registered on A or B', 60_000, async () => {
      const [da, db] = await Promise.all([liveDebug(a), liveDebug(b)]);
      return da.subscribers + db.subscribers >= connected.ok ? true : undefined;
    }).catch((error: unknown) => log(`warning: ${String(error)}; measuring what is there`));
    await sleep(options.idleMs);
    const result = await measureChanges(pool, [a, b], a, credentials);
    const commitOnA = (seq: number) => result.writerDebug.commitTimes[String(seq)];
    const onB = (group: string) => (nginx ? group.endsWith(`:${portB}`) : true);
    const onA = (group: string) => group.endsWith(`:${portA}`);
    // Make sure the metrics endpoint answers on a node under load (the deployment guide points at it).
    const metrics = await (await fetchWithin(`${a.url}/metrics`, { timeoutMs: 10_000, headers: { authorization: `Bearer ${credentials.internalToken}` } })).text();
    if (!metrics.includes('statushub_live_subscribers')) log('warning: /metrics has no statushub_live_subscribers');
    return {
      via: nginx ? 'nginx' : 'direct',
      nginxNote,
      subscribers: { requested: size, ok: connected.ok, failed: connected.failed, errors: connected.errors, connectMs: Math.round(connected.ms) },
      subscribersPerNode: { a: result.subscribersPerNode[0]!, b: result.subscribersPerNode[1]! },
      nodeB: latencies(result.changes, commitOnA, result.reports, connected.ok, onB),
      nodeA: nginx ? latencies(result.changes, commitOnA, result.reports, connected.ok, onA) : undefined,
      all: latencies(result.changes, commitOnA, result.reports, connected.ok),
      serverCpuMsPerChange: { a: result.serverCpuMsPerChange[0], b: result.serverCpuMsPerChange[1] },
      payloadBuildsPerChange: { a: result.buildsPerChange[0], b: result.buildsPerChange[1] },
      otherCpuMsPerChange: result.otherCpuMsPerChange,
      otherProcessesCpuMs: result.otherProcessesCpuMs,
      attempts: result.attempts,
      quiet: result.quiet,
    };
  } finally {
    await pool?.close();
    if (proxy) await children.stop(proxy.child, 5_000, 'SIGQUIT');
    await Promise.all([children.stop(a.child, 15_000), children.stop(b.child, 15_000)]);
    if (prefix) rmSync(prefix, { recursive: true, force: true });
  }
}

// ───────────────────────────── database ─────────────────────────────

interface BenchDatabase {
  url: string;
  note: string;
  drop(): Promise<void>;
}

async function prepareDatabase(): Promise<BenchDatabase> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, note: 'DATABASE_URL from the environment (not dropped)', drop: async () => {} };
  const server = options.pgUrl.replace(/\/+$/, '');
  const name = `statushub_bench_${Date.now()}`;
  const admin = postgres(`${server}/postgres`, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  let dropped = false;
  return {
    url: `${server}/${name}`,
    note: `fresh database ${name}, dropped at the end`,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      const sql = postgres(`${server}/postgres`, { max: 1, onnotice: () => {}, connect_timeout: 10 });
      try {
        await sql.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}

// ───────────────────────────── report ─────────────────────────────

const fmt = (value: number | undefined, digits = 1) => (value === undefined ? '—' : value.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b <= 0 ? undefined : round(a / b, 2));

interface SizeResult {
  subscribers: number;
  hub: HubRun;
  baseline?: BaselineRun;
  ratio: { p50?: number; p99?: number };
}

function targets(sizes: SizeResult[], twoNode: TwoNodeRun | undefined) {
  const checks: { target: string; value: string; pass: boolean | null }[] = [];
  for (const size of sizes) {
    if (size.baseline) {
      checks.push({ target: `${size.subscribers}: hub/plain p50 ≤ 2×`, value: `${fmt(size.ratio.p50, 2)}×`, pass: size.ratio.p50 === undefined ? null : size.ratio.p50 <= 2 });
      checks.push({ target: `${size.subscribers}: hub/plain p99 ≤ 2×`, value: `${fmt(size.ratio.p99, 2)}×`, pass: size.ratio.p99 === undefined ? null : size.ratio.p99 <= 2 });
    }
    const kb = size.hub.memoryPerSubscriberKB;
    checks.push({ target: `${size.subscribers}: hub memory per idle subscriber ≤ 60 KB`, value: `${fmt(kb)} KB`, pass: kb === undefined ? null : kb <= 60 });
    const builds = size.hub.payloadBuildsPerChange;
    checks.push({ target: `${size.subscribers}: payload builds per change = ${audiences.length} audiences`, value: fmt(builds, 2), pass: builds === undefined ? null : builds === audiences.length });
    checks.push({ target: `${size.subscribers}: every subscriber got every change`, value: `${size.hub.latency.missingTotal} missing`, pass: size.hub.latency.missingTotal === 0 && size.hub.subscribers.failed === 0 });
  }
  if (twoNode) {
    const single = sizes.find((s) => s.subscribers === twoNode.subscribers.requested)?.hub.latency.last.p99;
    const p99 = twoNode.nodeB.last.p99;
    checks.push({
      target: `two nodes: p99 on B ≤ single-node p99 (${fmt(single)} ms) + 50 ms`,
      value: `${fmt(p99)} ms`,
      pass: p99 === undefined || single === undefined ? null : p99 <= single + 50,
    });
  }
  return checks;
}

/** One table row: the columns every measured server shares, then builds and frame size. */
function runRow(
  subscribers: number,
  label: string,
  run: Pick<HubRun, 'subscribers' | 'latency' | 'serverCpuMsPerChange' | 'memoryPerSubscriberKB'>,
  builds: string,
  frame: string,
): string[] {
  const { first, last, all } = run.latency;
  return [
    String(subscribers),
    label,
    `${run.subscribers.ok}/${run.subscribers.requested}`,
    fmt(first.p50),
    fmt(last.p50),
    fmt(last.p95),
    fmt(last.p99),
    fmt(all.p50),
    fmt(all.p99),
    fmt(run.serverCpuMsPerChange),
    builds,
    fmt(run.memoryPerSubscriberKB),
    frame,
  ];
}

function printSummary(sizes: SizeResult[], twoNode: TwoNodeRun | undefined, checks: ReturnType<typeof targets>, file: string): void {
  const rows: string[][] = [['subs', 'server', 'connected', 'first p50', 'last p50', 'last p95', 'last p99', 'all p50', 'all p99', 'cpu ms/chg', 'builds/chg', 'KB/sub', 'frame B']];
  for (const s of sizes) {
    const h = s.hub;
    const frames = Object.values(h.frameBytes);
    rows.push(runRow(s.subscribers, 'hub', h, fmt(h.payloadBuildsPerChange, 2), frames.length ? `${Math.min(...frames)}–${Math.max(...frames)}` : '—'));
    if (s.baseline) {
      const b = s.baseline;
      rows.push(runRow(s.subscribers, 'plain ws', b, '—', String(b.frameBytes ?? '—')));
      rows.push([String(s.subscribers), 'hub/plain', '', '', `${fmt(s.ratio.p50, 2)}×`, '', `${fmt(s.ratio.p99, 2)}×`, '', '', '', '', '', '']);
    }
  }
  if (twoNode) {
    const t = twoNode;
    rows.push([
      String(t.subscribers.requested),
      `2 nodes: on B (${t.via})`,
      `${t.subscribers.ok}/${t.subscribers.requested} (A ${t.subscribersPerNode.a}, B ${t.subscribersPerNode.b})`,
      fmt(t.nodeB.first.p50),
      fmt(t.nodeB.last.p50),
      fmt(t.nodeB.last.p95),
      fmt(t.nodeB.last.p99),
      fmt(t.nodeB.all.p50),
      fmt(t.nodeB.all.p99),
      `A ${fmt(t.serverCpuMsPerChange.a)} B ${fmt(t.serverCpuMsPerChange.b)}`,
      `A ${fmt(t.payloadBuildsPerChange.a, 2)} B ${fmt(t.payloadBuildsPerChange.b, 2)}`,
      '',
      '',
    ]);
    if (t.nodeA) rows.push(['', `2 nodes: on A (${t.via})`, '', fmt(t.nodeA.first.p50), fmt(t.nodeA.last.p50), fmt(t.nodeA.last.p95), fmt(t.nodeA.last.p99), fmt(t.nodeA.all.p50), fmt(t.nodeA.all.p99), '', '', '', '']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log('\nFan-out: latency in ms from commit (hub) / before the broadcast loop (plain ws) to receipt;');
  console.log(`"first"/"last" = the fastest/slowest client per change, percentiles over ${options.changes} changes; "all" = every receipt.`);
  console.log('cpu = server process CPU per change; KB/sub = server RSS growth per idle subscriber; frame B = bytes per event on the wire.\n');
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));
  if (twoNode) console.log(`\n${twoNode.nginxNote}`);
  const noise = [
    ...sizes.flatMap((s) => [[`hub ${s.subscribers}`, s.hub.otherCpuMsPerChange] as const, ...(s.baseline ? [[`plain ws ${s.subscribers}`, s.baseline.otherCpuMsPerChange] as const] : [])]),
    ...(twoNode ? [[`2 nodes ${twoNode.subscribers.requested}`, twoNode.otherCpuMsPerChange] as const] : []),
  ];
  console.log(`\nCPU of other processes on the machine per change (noise; 0 = quiet): ${noise.map(([name, ms]) => `${name} ${fmt(ms, 0)} ms`).join(', ')}`);
  console.log('\nTargets:');
  for (const c of checks) console.log(`  ${c.pass === null ? 'n/a ' : c.pass ? 'PASS' : 'FAIL'}  ${c.target}: ${c.value}`);
  console.log(`\nResults: ${file}`);
}

// ───────────────────────────── main ─────────────────────────────

let database: BenchDatabase | undefined;
let cleaningUp: Promise<void> | undefined;
function cleanup(): Promise<void> {
  return (cleaningUp ??= (async () => {
    await children.stopAll(3_000);
    await database?.drop().catch((error: unknown) => log(`could not drop the benchmark database: ${String(error)}`));
  })());
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every process the benchmark started`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', () => children.killAllNow());

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    log('the whole benchmark took over 60 minutes: giving up');
    void cleanup().finally(() => process.exit(2));
  }, 60 * 60_000);
  deadline.unref();
  mkdirSync(resultsDir, { recursive: true });
  if (options.cpuProf) mkdirSync(profileDir, { recursive: true });
  // Every subscriber is a socket in the server (and, spread out, in the client processes), and
  // all of them inherit this process's open-file limit.
  const limit = openFileLimit();
  const biggest = Math.max(...options.sizes, options.twoNodeSubscribers);
  if (limit !== undefined && biggest + 1_000 > limit) {
    throw new Error(`${biggest} subscribers need more open files than the limit of ${limit}: raise it (ulimit -n) or lower --sizes`);
  }
  database = await prepareDatabase();
  log(`database: ${database.note}`);
  const scratch = mkdtempSync(join(tmpdir(), 'statushub-bench-'));
  try {
    const sizes: SizeResult[] = [];
    for (const size of options.sizes) {
      const hub = await runHub(size, database.url);
      let baseline: BaselineRun | undefined;
      if (options.baseline) {
        // The baseline writes the hub's own public WebSocket frame, byte for byte.
        const template = join(scratch, 'frame.json');
        writeFileSync(template, (hub.wsFrameSample ?? '').replace(/"seq":\d+/, '"seq":__SEQ__') || `{"type":"next","payload":{"data":{"pageEvents":{"seq":__SEQ__,"pad":"${'x'.repeat(960)}"}}}}`);
        baseline = await runBaseline(size, template);
      }
      sizes.push({
        subscribers: size,
        hub,
        baseline,
        ratio: { p50: ratio(hub.latency.last.p50, baseline?.latency.last.p50), p99: ratio(hub.latency.last.p99, baseline?.latency.last.p99) },
      });
    }
    const twoNode = options.twoNodeSubscribers > 0 ? await runTwoNodes(options.twoNodeSubscribers, database.url) : undefined;
    const checks = targets(sizes, twoNode);
    const file = join(resultsDir, `fanout-${stamp}.json`);
    const output = {
      benchmark: 'fanout',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      options,
      subscription: subscriptionQuery,
      environment: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30, 1), loadavg: loadavg(), nginx: nginxPath(), database: database.note },
      sizes: sizes.map(({ hub: { wsFrameSample: _sample, ...hub }, ...rest }) => ({ ...rest, hub })),
      twoNode,
      targets: checks,
    };
    writeFileSync(file, JSON.stringify(output, null, 2) + '\n');
    printSummary(sizes, twoNode, checks, file);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    void cleanup().finally(() => process.exit(1));
  },
);
