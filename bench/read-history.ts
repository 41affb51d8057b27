import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { print } from 'graphql';
import postgres from 'postgres';
import { createYogaApp } from '../server/http/yoga-app.js';
import { createNode, type HubNode } from '../server/node.js';
import { systemViewer } from '../server/auth/viewer.js';
import { ensureDefaultPage } from '../server/bootstrap.js';
import { openDatabase, queryRows, type Database, type Db } from '../server/db/client.js';
import * as tables from '../server/db/tables/index.js';
import { seedDemo } from '../server/seed.js';
import { uptimeHistoryStart } from '../server/seed-uptime.js';
import * as catalog from '../server/services/catalog.js';
import type { ServiceContext } from '../server/services/context.js';
import { PublicSummaryQuery } from '../web/src/graphql/summary.js';

/**
 * Does the cost of the public page grow with history? The uncached public page query (the
 * document web/src/graphql/summary.ts sends), 20 sequential requests through yoga.fetch, on the
 * demo page: with no history, then after 100,000 component status changes in the last 90 days
 * and 10,000 resolved incidents. Target: p50 within 1.5× of the empty-history p50. Then the same
 * query over HTTP to a hub node of each database, answered from the answer cache (200 sequential
 * requests each, alternating): target, unchanged by history.
 *
 * History is bulk-inserted with SQL that mirrors what the services write (an event per status
 * change with the component row as `before`/`after`; incident, update and component link rows),
 * so the events chain and uptime triggers run for every row, as they would for the services.
 * Then: EXPLAIN ANALYZE of every statement the page query sends that reads incidents or
 * maintenance, and the answer's JSON size for 200 components with `uptime` (before) and
 * `uptimeCompact` (now).
 *
 * PostgreSQL: DATABASE_URL (default postgres://postgres@127.0.0.1:5432), on a database of its own
 * that is dropped afterwards. `--pglite` runs the same on in-memory PGlite.
 *
 *   npm run bench:read:history -- [--events 100000] [--incidents 10000] [--requests 20] [--pglite] [--older]
 */

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    incidents: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '20' },
    pglite: { type: 'boolean', default: false },
    older: { type: 'boolean', default: false },
  },
});
const eventCount = Number(args.events);
const incidentCount = Number(args.incidents);
const requests = Number(args.requests);

const pageQuery = print(PublicSummaryQuery);
// The same page as the web app sent it before uptimeCompact: 90 objects per component.
const listUptimeQuery = pageQuery.replace(/uptimeCompact\(days: 90\) \{[^}]*\}/, 'uptime(days: 90) {\n      date\n      uptimePercent\n      worstStatus\n    }');
if (listUptimeQuery === pageQuery) throw new Error('could not derive the list-uptime document');

interface Captured {
  query: string;
  params: unknown[];
}

interface Timing {
  p50: number;
  p99: number;
  min: number;
  bytes: number;
}

/** A seeded demo page on a database of its own, answering through yoga.fetch. */
interface Hub {
  database: Database;
  db: Db;
  pageId: string;
  ctx: ServiceContext;
  ask(query: string): Promise<{ ms: number; bytes: number }>;
  /** The same query over HTTP to a hub node: through the answer cache (server/http/answer-cache.ts). */
  askCached(query: string): Promise<{ ms: number; bytes: number }>;
  /** The statements one call of `work` sends (PostgreSQL only). */
  capture(work: () => Promise<unknown>): Promise<Captured[]>;
  close(): Promise<void>;
}

async function openHub(): Promise<Hub> {
  let database: Database;
  let close: () => Promise<void>;
  let captured: Captured[] | null = null;
  if (args.pglite) {
    database = await openDatabase({ dataDir: 'memory://' });
    close = () => database.close();
  } else {
    const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
    const name = `statushub_bench_history_${randomBytes(4).toString('hex')}`;
    const admin = postgres(base, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    const url = new URL(base);
    url.pathname = `/${name}`;
    const opened = await openDatabase({ url: url.toString(), poolSize: 4 });
    // The same connection pool, with a logger that records the statements of one request.
    const db = drizzle(opened.sql!, {
      schema: tables,
      casing: 'snake_case',
      logger: { logQuery: (query, params) => void captured?.push({ query, params }) },
    }) as unknown as Db;
    database = { ...opened, db };
    close = async () => {
      await opened.close();
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    };
  }
  const { db } = database;
  const { page } = await ensureDefaultPage(db);
  await seedDemo(db, page);
  const yoga = createYogaApp({ database, limits: { rates: { anonymousReads: { points: 1_000_000, seconds: 1 } } } });
  const node: HubNode = await createNode({ database, limits: { rates: { anonymousReads: { points: 1_000_000, seconds: 1 } } } });
  const url = `http://127.0.0.1:${await node.listen(0, '127.0.0.1')}/graphql`;
  const closeDatabase = close;
  close = async () => {
    await node.close();
    await closeDatabase();
  };
  return {
    database,
    db,
    pageId: page.id,
    ctx: { db, viewer: systemViewer(page, 'bench') },
    async ask(query) {
      const started = performance.now();
      const response = await yoga.fetch('http://hub.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
      const text = await response.text();
      const ms = performance.now() - started;
      const body = JSON.parse(text) as { errors?: unknown[] };
      if (response.status !== 200 || body.errors) throw new Error(`page query failed: ${response.status} ${text.slice(0, 500)}`);
      return { ms, bytes: Buffer.byteLength(text) };
    },
    async askCached(query) {
      const started = performance.now();
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-statushub-csrf': '1' }, body: JSON.stringify({ query }) });
      const text = await response.text();
      const ms = performance.now() - started;
      if (response.status !== 200 || text.includes('"errors"')) throw new Error(`cached page query failed: ${response.status} ${text.slice(0, 500)}`);
      return { ms, bytes: Buffer.byteLength(text) };
    },
    async capture(work) {
      captured = [];
      try {
        await work();
        return captured;
      } finally {
        captured = null;
      }
    },
    close,
  };
}

function summarise(times: number[], bytes: number): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), min: sorted[0]!, bytes };
}

function line(label: string, t: Timing): string {
  return `${label.padEnd(40)} p50 ${t.p50.toFixed(1).padStart(6)} ms   p99 ${t.p99.toFixed(1).padStart(6)} ms   min ${t.min.toFixed(1).padStart(5)} ms   ${t.bytes} B`;
}

/**
 * `requests` sequential page queries on each hub, alternating between them, so both see the same
 * load on a shared machine (the two phases of one database, minutes apart, would not).
 */
async function measurePair(label: string, empty: Hub, full: Hub): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await empty.ask(pageQuery);
    await full.ask(pageQuery);
  }
  const times: [number[], number[]] = [[], []];
  const bytes = [0, 0];
  for (let i = 0; i < requests; i++) {
    for (const [k, hub] of [empty, full].entries()) {
      const r = await hub.ask(pageQuery);
      times[k]!.push(r.ms);
      bytes[k] = r.bytes;
    }
  }
  const e = summarise(times[0], bytes[0]!);
  const f = summarise(times[1], bytes[1]!);
  console.log(`\n${label}`);
  console.log(line('  empty history', e));
  console.log(line('  with history', f));
  console.log(`  ratio with ÷ empty: p50 ${(f.p50 / e.p50).toFixed(2)}× (target ≤ 1.5×), p99 ${(f.p99 / e.p99).toFixed(2)}×, min ${(f.min / e.min).toFixed(2)}×`);

  // The cached answer over HTTP: the first request after the last change computes, the rest are hits.
  const cachedTimes: [number[], number[]] = [[], []];
  for (const hub of [empty, full]) for (let i = 0; i < 50; i++) await hub.askCached(pageQuery);
  for (let i = 0; i < requests * 10; i++) {
    for (const [k, hub] of [empty, full].entries()) {
      const r = await hub.askCached(pageQuery);
      cachedTimes[k]!.push(r.ms);
      bytes[k] = r.bytes;
    }
  }
  const ce = summarise(cachedTimes[0], bytes[0]!);
  const cf = summarise(cachedTimes[1], bytes[1]!);
  console.log(line('  cached, empty history (HTTP)', ce));
  console.log(line('  cached, with history (HTTP)', cf));
  console.log(`  cached ratio with ÷ empty: p50 ${(cf.p50 / ce.p50).toFixed(2)}× (target: unchanged), p99 ${(cf.p99 / ce.p99).toFixed(2)}×`);
}

async function main(): Promise<void> {
  const empty = await openHub();
  const full = await openHub();
  try {
    console.log(`public page query on ${full.database.kind}, ${requests} sequential requests per database through yoga.fetch (uncached), two demo databases measured alternately`);
    await measurePair('both empty (the two databases agree)', empty, full);

    const started = performance.now();
    const inserted = await insertStatusHistory(full.db, full.pageId, eventCount);
    const eventsMs = performance.now() - started;
    const incidentsStarted = performance.now();
    await insertIncidentHistory(full.db, full.pageId, incidentCount);
    console.log(
      `\ninserted ${inserted} status events in ${(eventsMs / 1000).toFixed(1)} s (the triggers keep the rollup), ${incidentCount} incidents in ${((performance.now() - incidentsStarted) / 1000).toFixed(1)} s`,
    );
    await full.db.execute(sql`analyze`);
    const [rollup] = await queryRows<{ n: number }>(full.db, sql`select count(*)::int as n from ${tables.componentStatusDays}`);
    console.log(`component_status_days rows: ${rollup!.n}; history ${args.older ? 'on the day before the 90-day window' : 'in the last 89 days'}`);
    await measurePair(`${inserted} status events + ${incidentCount} incidents (analyzed, not vacuumed)`, empty, full);
    // Each status change updates its day's row: the old row versions are what autovacuum reclaims.
    await full.db.execute(sql`vacuum analyze ${tables.componentStatusDays}`);
    await measurePair('the same after vacuum (autovacuum\'s work on a live server)', empty, full);

    if (full.database.kind === 'postgres') {
      const statements = await full.capture(() => full.ask(pageQuery));
      console.log(`\nthe page query sends ${statements.length} statements; EXPLAIN ANALYZE with history:`);
      for (const c of statements) {
        const plan = (await full.database.sql!.unsafe(`explain (analyze, costs off, timing off, summary on) ${c.query}`, c.params as never[])) as Record<string, string>[];
        const text = plan.map((row) => row['QUERY PLAN']!);
        const execution = text.find((t) => t.includes('Execution Time'))?.trim();
        const tables = [...new Set([...c.query.matchAll(/from "(\w+)"/g)].map((m) => m[1]))].join(', ');
        console.log(`  ${execution?.padEnd(28)} ${tables}`);
        if (/"(incidents|maintenances|component_status_days)"/.test(c.query)) for (const t of text) if (/Scan|Index Cond/.test(t)) console.log(`      ${t.trim().slice(0, 150)}`);
      }
    }

    // JSON size for 200 public components: before (uptime as a list of days) and now (compact).
    const [existing] = await queryRows<{ n: number }>(full.db, sql`select count(*)::int as n from ${tables.components} where page_id = ${full.pageId} and visibility = 'public'`);
    const group = await catalog.createGroup(full.ctx, { name: 'Bench', sortOrder: 99 });
    for (let i = existing!.n; i < 200; i++) await catalog.createComponent(full.ctx, { name: `Bench ${i}`, groupId: group.id, sortOrder: i });
    const listed = await full.ask(listUptimeQuery);
    const compact = await full.ask(pageQuery);
    console.log(
      `\nJSON of the public page query, 200 public components: uptime list ${(listed.bytes / 1024).toFixed(0)} KiB → uptimeCompact ${(compact.bytes / 1024).toFixed(0)} KiB (${((compact.bytes / listed.bytes) * 100).toFixed(0)} %)`,
    );
  } finally {
    await empty.close();
    await full.close();
  }
}

/**
 * `count` status changes spread over the last 89 days (or, with `--older`, over the day before the
 * 90-day window, the demo catalog's first day), round-robin over the page's components, alternating major outage and operational
 * per component (each ends operational), as `component.status_changed` events with the component
 * row before and after.
 *
 * NOTE: events are recorded in time order (seq order is time order, as the seed keeps it), so
 * only components whose last recorded change is older than the history get it: the demo's
 * current incident has already changed some components today.
 */
async function insertStatusHistory(db: Db, pageId: string, count: number): Promise<number> {
  const from = args.older ? uptimeHistoryStart().getTime() + 60_000 : Date.now() - 89 * 86_400_000;
  const span = args.older ? 23 * 3_600_000 : 89 * 86_400_000 - 3_600_000;
  const inHistory = sql`(select id from ${tables.components} where page_id = ${pageId} and id::text not in
    (select component_id from ${tables.componentStatusDays} where last_at >= to_timestamp(${from}::float8 / 1000)))`;
  const rows = await queryRows<{ id: string }>(db, sql`select id from ${tables.components} where id in ${inHistory}`);
  const n = rows.length;
  if (!n) throw new Error('no component without recent changes to give a history to');
  console.log(`history for ${n} components`);
  const perComponent = Math.floor(count / n / 2) * 2;
  const total = perComponent * n;
  const step = span / total;
  const chosen = sql.join(rows.map((r) => sql`${r.id}::uuid`), sql`, `);
  const batch = 10_000;
  for (let offset = 0; offset < total; offset += batch) {
    await db.execute(sql`
      insert into ${tables.events} (page_id, actor_type, actor_name, action, entity_type, entity_id, before, after, created_at)
      select ${pageId}::uuid, 'system', 'bench', 'component.status_changed', 'component', c.id::text,
        to_jsonb(c) || jsonb_build_object('status', case when (g.i / ${n}) % 2 = 0 then 'operational' else 'major_outage' end),
        to_jsonb(c) || jsonb_build_object('status', case when (g.i / ${n}) % 2 = 0 then 'major_outage' else 'operational' end, 'cause', 'bench history'),
        to_timestamp((${from}::float8 + g.i * ${step}::float8) / 1000)
      from generate_series(${offset}::int, ${Math.min(offset + batch, total) - 1}::int) as g(i)
      join (select *, row_number() over (order by id) - 1 as k from ${tables.components} where id in (${chosen})) c on c.k = g.i % ${n}
      order by g.i`);
  }
  return total;
}

/** `count` resolved public incidents over the last two years, each with an update and an affected component. */
async function insertIncidentHistory(db: Db, pageId: string, count: number): Promise<void> {
  await db.execute(sql`
    with made as (
      insert into ${tables.incidents} (page_id, title, status, impact, visibility, started_at, resolved_at, created_at, updated_at)
      select ${pageId}::uuid, 'Past incident ' || g.i, 'resolved', 'minor', 'public',
        now() - (g.i * interval '1 hour') - interval '91 days', now() - (g.i * interval '1 hour') - interval '90 days',
        now() - (g.i * interval '1 hour') - interval '91 days', now() - (g.i * interval '1 hour') - interval '90 days'
      from generate_series(1, ${count}::int) as g(i)
      returning id, started_at, resolved_at
    ), updates as (
      insert into ${tables.incidentUpdates} (incident_id, status, message, created_at, created_by)
      select id, 'resolved', 'Resolved.', resolved_at, 'bench' from made
    )
    insert into ${tables.incidentComponents} (incident_id, component_id, status)
    select made.id, (select id from ${tables.components} where page_id = ${pageId} and visibility = 'public' order by id limit 1), 'partial_outage' from made`);
}

await main();
