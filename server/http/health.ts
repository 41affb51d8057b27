import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sql } from 'drizzle-orm';
import { migrationsFolder, queryRows, type Database } from '../db/client.js';
import type { PostgresWakeups } from '../realtime/wakeups.js';

/**
 * `/healthz` and `/readyz` for load balancers and orchestrators.
 *
 * - `/healthz`: the process serves HTTP (200 `ok`); never touches the database, so a database
 *   outage does not get healthy nodes restarted.
 * - `/readyz`: this node can do its work: the database answers within `timeoutMs`, every
 *   migration in drizzle/meta/_journal.json is applied, and (PostgreSQL) the LISTEN connection
 *   delivers; 503 with the failing checks as JSON otherwise, and from the moment shutdown
 *   begins, so a balancer stops sending new requests.
 */

export interface ReadinessCheck {
  ok: boolean;
  /** Why not, when `ok` is false. */
  reason?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

export interface ReadinessOptions {
  database: Database;
  listen?: PostgresWakeups;
  draining: () => boolean;
  timeoutMs?: number;
}

/** The `when` of every migration this build ships (what drizzle records as `created_at`). */
export function expectedMigrations(folder = migrationsFolder): number[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8')) as { entries: { when: number }[] };
  return journal.entries.map((e) => e.when);
}

export function createReadiness({ database, listen, draining, timeoutMs = 2_000 }: ReadinessOptions): () => Promise<Readiness> {
  const expected = expectedMigrations();
  return async () => {
    const checks: Record<string, ReadinessCheck> = {};
    if (draining()) checks.shutdown = { ok: false, reason: 'shutting down' };
    const [migrations, listening] = await Promise.all([
      withTimeout(queryRows<{ created_at: string | number }>(database.db, sql`select created_at from drizzle.__drizzle_migrations`), timeoutMs),
      listen ? listen.probe(timeoutMs) : undefined,
    ]);
    if (migrations instanceof Error) {
      checks.database = { ok: false, reason: migrations.message };
    } else {
      checks.database = { ok: true };
      const applied = new Set(migrations.map((r) => Number(r.created_at)));
      const missing = expected.filter((when) => !applied.has(when)).length;
      checks.migrations = missing ? { ok: false, reason: `${missing} of ${expected.length} migrations not applied` } : { ok: true };
    }
    if (listen) {
      checks.listen = listening ? { ok: true } : { ok: false, reason: `LISTEN connection not delivering (since ${new Date(listen.state().since).toISOString()})` };
    }
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };
}

/** GET /readyz: 200 or 503, the checks as JSON either way. */
export function readyzHandler(readiness: () => Promise<Readiness>) {
  return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const result = await readiness();
    res.writeHead(result.ready ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(result));
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | Error> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Error>((resolve) => (timer = setTimeout(() => resolve(new Error(`no answer within ${ms} ms`)), ms)));
  try {
    // Only the error's code: a driver's message can name internal hosts, and /readyz is public.
    const failed = (error: unknown) => new Error(`query failed (${(error as { code?: string })?.code ?? 'unknown'})`);
    return await Promise.race([promise.catch(failed), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
