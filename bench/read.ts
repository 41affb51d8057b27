import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringifyDocument } from '@urql/core';
import postgres from 'postgres';
import { DeploymentSummaryQuery, PublicSummaryQuery } from '../web/src/graphql/summary.js';
import { captureOutput, Children, cpuMs, fetchWithin, freePort, now, percentile, round, sleep, waitFor } from './lib.js';
import type { ClientMessage, ConnectCommand, SubscriberSpec } from './protocol.js';

/**
 * Read benchmark (issue 10 §1): the hub's cached read path beside a bare graphql-yoga `{ hello }`
 * and a bare node:http server sending the same bytes as the hub's public page answer, in one run,
 * with autocannon. The servers run pinned to one core, the load generator (and the subscriber
 * process, and this driver) to the other, so the ratios compare servers, not schedulers.
 *
 *   npm run bench:read -- [--duration 10] [--rounds 3] [--connections 50] [--subscribers 1000] [--pg URL]
 *
 * Phases: bare node:http; bare yoga `{ hello }`; the public page query (the document the web app's
 * PublicPage sends); a deployment page query; /badge.svg; /api/v2/summary.json (when the route
 * exists); the candidate routers (find-my-way, Fastify, Hono) serving the summary's bytes; then
 * the public page query again with 1,000 live subscribers connected (bench/client.ts)
 * and a status change committed every second, where the time from a commit to the first cached
 * answer showing it is measured.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const host = '127.0.0.1';
const adminEmail = 'bench-admin@statushub.local';
const adminPassword = `bench-${Math.random().toString(36).slice(2)}-${Date.now()}`;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    subscribers: { type: 'string', default: '1000' },
    'commit-every-ms': { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    'only-live': { type: 'boolean', default: false },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('npm run bench:read -- [--duration S] [--rounds N] [--connections N] [--subscribers N] [--commit-every-ms MS] [--pg URL]');
  process.exit(0);
}
const duration = Number(args.duration);
const connections = Number(args.connections);
const subscriberCount = Number(args.subscribers);
const commitEveryMs = Number(args['commit-every-ms']);
const roundCount = Math.max(1, Number(args.rounds));

const children = new Children();
const startedAt = Date.now();
const log = (message: string) => console.error(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s] ${message}`);
process.on('exit', () => children.killAllNow());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

// Two cores: the servers get the first, everything that makes load (and this driver) the last.
const cores = cpus().length;
const serverCpu = '0';
const loadCpu = String(Math.max(1, cores - 1));
const pinned = (cpu: string, script: string, extra: string[] = []): [string, string[]] => ['taskset', ['-c', cpu, process.execPath, '--import', 'tsx', script, ...extra]];
try {
  execFileSync('taskset', ['-pc', loadCpu, String(process.pid)], { stdio: 'ignore' });
} catch {
  log('taskset unavailable: processes are not pinned');
}

// ───────────────────────────── database ─────────────────────────────

async function prepareDatabase(): Promise<{ url: string; note: string; drop(): Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, note: 'DATABASE_URL from the environment (not dropped)', drop: async () => {} };
  const server = args.pg!.replace(/\/+$/, '');
  const name = `statushub_read_${Date.now()}`;
  const admin = postgres(`${server}/postgres`, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  return {
    url: `${server}/${name}`,
    note: `fresh database ${name}, dropped at the end`,
    async drop() {
      const sql = postgres(`${server}/postgres`, { max: 1, onnotice: () => {}, connect_timeout: 10 });
      try {
        await sql.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}

// ───────────────────────────── processes ─────────────────────────────

async function startServer(name: string, script: string, extra: string[], env: NodeJS.ProcessEnv, port: number, ready: string): Promise<ChildProcess> {
  const [command, argv] = pinned(serverCpu, script, extra);
  const child = children.spawn(command, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const output = captureOutput(child);
  await waitFor(`${name} to answer`, 120_000, async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited:\n${output()}`);
    try {
      const response = await fetchWithin(`http://${host}:${port}${ready}`, { timeoutMs: 1_000 });
      await response.arrayBuffer();
      return response.status < 500 ? true : undefined;
    } catch {
      return undefined;
    }
  }, 200);
  return child;
}

interface Load {
  requestsPerSecond: number;
  total: number;
  p50: number;
  p99: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** The server process's CPU time per answered request (robust to other load on the machine). */
  serverCpuUsPerRequest?: number;
}

async function load(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Load> {
  const [command, argv] = pinned(loadCpu, 'bench/read-load.ts', [JSON.stringify({ url, connections, duration, ...options })]);
  const child = children.spawn(command, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const output = captureOutput(child);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`autocannon failed (${code}):\n${output()}`);
  return JSON.parse(out.trim().split('\n').pop()!) as Load;
}

/** 1,000 graphql-ws subscribers in a client process of their own (bench/client.ts). */
async function startSubscribers(port: number, count: number): Promise<{ child: ChildProcess; ok: number }> {
  const [command, argv] = pinned(loadCpu, 'bench/client.ts');
  const child = children.spawn(command, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const output = captureOutput(child);
  const next = (type: string, timeoutMs: number) =>
    new Promise<ClientMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`subscriber process: no ${type}\n${output()}`)), timeoutMs);
      const on = (message: ClientMessage) => {
        if (message.type !== type) return;
        clearTimeout(timer);
        child.off('message', on);
        resolve(message);
      };
      child.on('message', on);
    });
  await next('ready', 60_000);
  const audiences = ['public', 'deployment:us-1', 'deployment:eu-1'];
  const subscribers: SubscriberSpec[] = Array.from({ length: count }, (_, i) => ({ transport: i % 4 === 3 ? 'sse' : 'ws', audience: audiences[i % audiences.length]! }));
  const connected = next('connected', 120_000);
  child.send({
    type: 'connect',
    mode: 'hub',
    host,
    port,
    path: '/graphql',
    query: 'subscription ReadBench { pageEvents { seq action kind entityId component { id status } } }',
    subscribers,
    concurrency: 50,
    connectTimeoutMs: 20_000,
  } satisfies ConnectCommand);
  const reply = (await connected) as Extract<ClientMessage, { type: 'connected' }>;
  return { child, ok: reply.ok };
}

// ───────────────────────────── GraphQL helpers ─────────────────────────────

async function gql<T>(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<{ data: T; response: Response }> {
  const response = await fetchWithin(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }), timeoutMs: 15_000 });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL error: ${JSON.stringify(body.errors ?? body)}`);
  return { data: body.data, response };
}

async function adminToken(url: string): Promise<string> {
  const { response } = await gql(url, 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { id } }', { email: adminEmail, password: adminPassword });
  const cookie = response.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('statushub_session='))!;
  const created = await gql<{ createApiToken: { token: string } }>(url, 'mutation($input: ApiTokenInput!) { createApiToken(input: $input) { token } }', { input: { name: 'read benchmark', scopes: ['admin'] } }, { cookie, 'x-statushub-csrf': '1' });
  return created.data.createApiToken.token;
}

// ───────────────────────────── run ─────────────────────────────

const JSON_ONLY = 'application/graphql-response+json, application/json';
const publicDocument = stringifyDocument(PublicSummaryQuery);
const deploymentDocument = stringifyDocument(DeploymentSummaryQuery);
const webHeaders = (audience: string) => ({ 'content-type': 'application/json', accept: JSON_ONLY, 'x-statushub-csrf': '1', 'x-statushub-audience': audience });

async function main(): Promise<void> {
  const database = await prepareDatabase();
  const scratch = mkdtempSync(join(tmpdir(), 'statushub-read-'));
  const results: Record<string, unknown> = {};
  try {
    log(`database: ${database.note}; servers on cpu ${serverCpu}, load on cpu ${loadCpu} (${cores} cores)`);
    const hubPort = await freePort();
    const hubEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      SEED: 'true',
      // /debug/live: commit times and answer-cache invalidation times per event seq.
      LIVE_DEBUG: 'true',
      ADMIN_EMAIL: adminEmail,
      ADMIN_PASSWORD: adminPassword,
      LOG_LEVEL: 'warn',
      PORT: String(hubPort),
      HOST: host,
      COOKIE_SECURE: 'false',
      SSE_MAX_STREAMS_PER_CLIENT: '1000000',
      // Every request comes from this one machine. The reads are still counted (the cheap check on
      // the cached path runs), with a limit no phase reaches.
      RATE_LIMIT_READS: '1000000000/60',
      RATE_LIMIT_TOKEN: '1000000000/60',
      RATE_LIMIT_SUBSCRIPTIONS: '0/60',
      RATE_LIMIT_WRITES: '0/60',
    };
    delete hubEnv.REDIS_URL;
    const hub = await startServer('hub', 'server/main.ts', [], hubEnv, hubPort, '/healthz');
    const hubUrl = `http://${host}:${hubPort}`;
    const token = await adminToken(hubUrl);

    // The hub's public page answer: the bytes the bare node:http server sends.
    const sample = await fetchWithin(`${hubUrl}/graphql`, { method: 'POST', headers: webHeaders('public'), body: JSON.stringify({ query: publicDocument, operationName: 'PublicSummary' }) });
    const bytes = Buffer.from(await sample.arrayBuffer());
    if (sample.status !== 200 || bytes.includes('"errors"')) throw new Error(`public page query failed: ${bytes.toString().slice(0, 500)}`);
    writeFileSync(join(scratch, 'answer.json'), bytes);
    // The bare servers send the hub's headers too (everything but what Node adds per response), so
    // the comparison is of the same bytes on the wire, not of a smaller response.
    const headersOf = (response: Response) => JSON.stringify(Object.fromEntries([...response.headers].filter(([name]) => !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name))));
    const answerHeaders = headersOf(sample);
    const summary = await fetchWithin(`${hubUrl}/api/v2/summary.json`);
    const summaryBytes = Buffer.from(await summary.arrayBuffer());
    const hasApi = summary.status === 200 && (summary.headers.get('content-type') ?? '').includes('json');
    if (hasApi) writeFileSync(join(scratch, 'summary.json'), summaryBytes);
    const summaryHeaders = headersOf(summary);
    log(`public page answer ${bytes.byteLength} B; /api/v2/summary.json ${hasApi ? `${summaryBytes.byteLength} B` : 'absent'}`);

    const nodePort = await freePort();
    const bare = await startServer('bare node:http', 'bench/read-servers.ts', ['node', String(nodePort)], { ...process.env, BYTES_FILE: join(scratch, 'answer.json'), BYTES_HEADERS: answerHeaders }, nodePort, '/');
    const yogaPort = await freePort();
    const yoga = await startServer('bare yoga', 'bench/read-servers.ts', ['yoga', String(yogaPort)], process.env, yogaPort, '/graphql?query=%7Bhello%7D');

    const publicBody = JSON.stringify({ query: publicDocument, operationName: 'PublicSummary', variables: {} });
    const measured = async (pid: number, run: () => Promise<Load>): Promise<Load> => {
      const before = cpuMs(pid);
      const result = await run();
      return { ...result, serverCpuUsPerRequest: round(((cpuMs(pid) - before) * 1000) / Math.max(1, result.total), 1) };
    };
    const [hubPid, nodePid, yogaPid] = [hub.pid!, bare.pid!, yoga.pid!];
    const phases: [string, () => Promise<Load>][] = [
      ['bare node:http (same bytes)', () => measured(nodePid, () => load(`http://${host}:${nodePort}/graphql`, { method: 'POST', headers: webHeaders('public'), body: publicBody }))],
      ['bare yoga { hello }', () => measured(yogaPid, () => load(`http://${host}:${yogaPort}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: JSON_ONLY }, body: JSON.stringify({ query: '{ hello }' }) }))],
      ['hub: public page query', () => measured(hubPid, () => load(`${hubUrl}/graphql`, { method: 'POST', headers: webHeaders('public'), body: publicBody }))],
      ['hub: deployment page query (eu-1)', () => measured(hubPid, () => load(`${hubUrl}/graphql`, { method: 'POST', headers: webHeaders('deployment:eu-1'), body: JSON.stringify({ query: deploymentDocument, operationName: 'DeploymentSummary', variables: {} }) }))],
      ['hub: /badge.svg', () => measured(hubPid, () => load(`${hubUrl}/badge.svg`))],
    ];
    if (hasApi) {
      const apiPort = await freePort();
      const bareApi = await startServer('bare node:http (summary.json bytes)', 'bench/read-servers.ts', ['node', String(apiPort)], { ...process.env, BYTES_FILE: join(scratch, 'summary.json'), BYTES_HEADERS: summaryHeaders }, apiPort, '/');
      phases.push(['bare node:http (summary.json bytes)', () => measured(bareApi.pid!, () => load(`http://${host}:${apiPort}/api/v2/summary.json`))]);
      phases.push(['hub: /api/v2/summary.json', () => measured(hubPid, () => load(`${hubUrl}/api/v2/summary.json`))]);
      // The candidate routers for the HTTP edge (issue 10 §3), each serving the same bytes with the
      // hub's route table registered: what routing alone costs, beside the bare server.
      for (const router of ['find-my-way', 'fastify', 'hono']) {
        const routerPort = await freePort();
        const server = await startServer(`router ${router}`, 'bench/read-servers.ts', [router, String(routerPort)], { ...process.env, BYTES_FILE: join(scratch, 'summary.json'), BYTES_HEADERS: summaryHeaders }, routerPort, '/api/v2/summary.json');
        phases.push([`router ${router} (summary.json bytes)`, () => measured(server.pid!, () => load(`http://${host}:${routerPort}/api/v2/summary.json`))]);
      }
    }
    // Every phase once per round, the rounds one after another: a burst of other load on this
    // shared machine hits one round of every phase rather than all of one phase. Per phase, the
    // round with the median throughput is reported (with the spread over the rounds).
    const rounds: Record<string, Load[]> = {};
    for (let round = 1; round <= (args['only-live'] ? 0 : roundCount); round++) {
      for (const [name, run] of phases) {
        log(`round ${round}/${roundCount} ${name}: ${connections} connections, ${duration} s`);
        (rounds[name] ??= []).push(await run());
      }
    }
    for (const [name, runs] of Object.entries(rounds)) {
      const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
      const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
      const cpus = runs.map((r) => r.serverCpuUsPerRequest ?? 0).sort((a, b) => a - b);
      results[name] = {
        ...median,
        serverCpuUsPerRequest: cpus[Math.floor((cpus.length - 1) / 2)],
        rounds: runs.map((r) => ({ requestsPerSecond: Math.round(r.requestsPerSecond), serverCpuUsPerRequest: r.serverCpuUsPerRequest, p99: r.p99 })),
        errors: runs.reduce((n, r) => n + r.errors, 0),
        timeouts: runs.reduce((n, r) => n + r.timeouts, 0),
        non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
      };
    }

    // The rush with live viewers: subscribers connected, a change committed every second.
    log(`${subscriberCount} subscribers connecting`);
    const subscribers = await startSubscribers(hubPort, subscriberCount);
    log(`${subscribers.ok} subscribers connected`);
    const components = await gql<{ summary: { groups: { components: { id: string; name: string }[] }[] } }>(hubUrl, '{ summary { groups { components { id name } } } }', {}, { 'x-statushub-audience': 'public' });
    const component = components.data.summary.groups.flatMap((g) => g.components).find((c) => c.name === 'Dashboard')!;
    const visible: number[] = [];
    const visibleAfterAck: number[] = [];
    let notShown = 0;
    let stop = false;
    const statuses = ['degraded_performance', 'operational'];
    const committer = (async () => {
      let i = 0;
      while (!stop) {
        const status = statuses[i++ % 2]!;
        const sent = now();
        await gql(hubUrl, 'mutation($id: ID!, $status: ComponentStatus!) { setComponentStatus(id: $id, status: $status) { id } }', { id: component.id, status }, { authorization: `Bearer ${token}` });
        const acked = now();
        // The first public page answer (through the cache, like every reader's) that shows it.
        const marker = `"id":"${component.id}","name":"${component.name}","status":"${status}"`;
        let shown = false;
        while (!shown && now() - sent < 10_000) {
          const answer = await fetchWithin(`${hubUrl}/graphql`, { method: 'POST', headers: webHeaders('public'), body: publicBody, timeoutMs: 10_000 }).catch(() => null);
          shown = !!answer && (await answer.text()).includes(marker);
        }
        if (!shown) {
          notShown++;
          log(`change ${i} (${status}) not visible in the cached answer within 10 s`);
          continue;
        }
        const seen = now();
        visible.push(seen - sent);
        visibleAfterAck.push(seen - acked);
        await sleep(Math.max(0, commitEveryMs - (now() - sent)));
      }
    })();
    const phaseStart = Date.now();
    log(`public page query under ${subscribers.ok} subscribers and a commit every ${commitEveryMs} ms`);
    results['hub: public page query, 1,000 subscribers, a commit per second'] = await measured(hubPid, () => load(`${hubUrl}/graphql`, { method: 'POST', headers: webHeaders('public'), body: publicBody }));
    stop = true;
    await committer;
    // Server side: from each commit to the invalidation of the cached answers (from then on the
    // next request computes a fresh answer), on the committing node.
    const debug = (await (await fetchWithin(`${hubUrl}/debug/live`)).json()) as { commitTimes: Record<string, number>; answerInvalidations: Record<string, number> };
    const committedInPhase = Object.entries(debug.commitTimes).filter(([, at]) => at >= phaseStart);
    const notInvalidated = committedInPhase.filter(([seq]) => debug.answerInvalidations[seq] === undefined).length;
    const invalidation = Object.entries(debug.commitTimes)
      .filter(([seq, at]) => at >= phaseStart && debug.answerInvalidations[seq] !== undefined)
      .map(([seq, at]) => debug.answerInvalidations[seq]! - at);
    results['commit → visible in the cached answer (ms)'] = {
      commitToInvalidatedEvents: invalidation.length,
      committedNotInvalidated: notInvalidated,
      commitToInvalidatedEach: invalidation.map((ms) => round(ms, 1)),
      commitToInvalidatedP50: round(percentile(invalidation, 50), 3),
      commitToInvalidatedP99: round(percentile(invalidation, 99), 3),
      commitToInvalidatedMax: round(Math.max(...invalidation), 3),
      changes: visible.length,
      notVisibleWithin10s: notShown,
      fromMutationSentP50: round(percentile(visible, 50)),
      fromMutationSentP99: round(percentile(visible, 99)),
      fromMutationAnsweredP99: round(percentile(visibleAfterAck, 99)),
      max: round(Math.max(...visible)),
    };
    await children.stop(subscribers.child);
    for (const child of [hub, bare, yoga]) await children.stop(child);
  } finally {
    await children.stopAll();
    rmSync(scratch, { recursive: true, force: true });
    await database.drop();
  }
  report(results);
}

function report(results: Record<string, unknown>): void {
  const loadOf = (name: string) => results[name] as Load | undefined;
  if (!loadOf('bare yoga { hello }')) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  const yoga = loadOf('bare yoga { hello }')!.requestsPerSecond;
  const bare = loadOf('bare node:http (same bytes)')!.requestsPerSecond;
  const bareApi = loadOf('bare node:http (summary.json bytes)')?.requestsPerSecond;
  const yogaCpu = loadOf('bare yoga { hello }')!.serverCpuUsPerRequest;
  const bareCpu = loadOf('bare node:http (same bytes)')!.serverCpuUsPerRequest;
  const bareApiCpu = loadOf('bare node:http (summary.json bytes)')?.serverCpuUsPerRequest;
  const rows = Object.entries(results)
    .filter(([, v]) => typeof v === 'object' && v && 'requestsPerSecond' in v)
    .map(([name, v]) => {
      const l = v as Load;
      const errors = l.errors + l.timeouts + l.non2xx;
      return {
        phase: name,
        'req/s': Math.round(l.requestsPerSecond),
        'server CPU µs/req': l.serverCpuUsPerRequest,
        'req/s per round': (l as Load & { rounds?: { requestsPerSecond: number }[] }).rounds?.map((r) => r.requestsPerSecond).join(' / ') ?? '',
        'p99 ms': l.p99,
        errors,
        'vs yoga {hello}': `${Math.round((l.requestsPerSecond / yoga) * 100)} %`,
        'vs node:http': `${Math.round((l.requestsPerSecond / (name.includes('summary.json') && bareApi ? bareApi : bare)) * 100)} %`,
        // The same ratio by server CPU per request: what one answer costs, whatever else runs.
        'CPU vs yoga': l.serverCpuUsPerRequest && yogaCpu ? `${Math.round((yogaCpu / l.serverCpuUsPerRequest) * 100)} %` : '',
        'CPU vs node:http': l.serverCpuUsPerRequest && (name.includes('summary.json') ? bareApiCpu : bareCpu) ? `${Math.round(((name.includes('summary.json') ? bareApiCpu! : bareCpu!) / l.serverCpuUsPerRequest) * 100)} %` : '',
      };
    });
  console.table(rows);
  console.log('commit → visible in the cached answer:', results['commit → visible in the cached answer (ms)']);
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `read-${new Date(startedAt).toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ startedAt: new Date(startedAt).toISOString(), duration, connections, cores, rows, results }, null, 2));
  log(`written ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
