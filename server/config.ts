import { z } from 'zod';
import { limitsFromEnv, type LimitsOverride, type RateStore } from './limits/config.js';

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  /** A PostgreSQL server when set; an embedded database otherwise. */
  DATABASE_URL: z.string().optional(),
  /**
   * The embedded database: `postgres` (PostgreSQL binaries from npm, run by the hub) or `pglite`
   * (PostgreSQL compiled to WASM, in process). Unset: PostgreSQL, unless DATA_DIR (or ./data/pglite)
   * holds an earlier version's PGlite database or PostgreSQL cannot run here (server/db/embedded.ts).
   */
  EMBEDDED_DB: z.enum(['postgres', 'pglite']).optional(),
  /** Where the embedded database lives (default ./data/postgres, or ./data/pglite for PGlite). */
  DATA_DIR: z.string().optional(),
  /** Extra settings for the embedded PostgreSQL, `name=value` separated by spaces (e.g. `shared_buffers=64MB`). */
  EMBEDDED_POSTGRES_SETTINGS: z.string().optional(),
  /** Seed demo data into an empty database unless `false`. */
  SEED: z.enum(['true', 'false']).default('true'),
  /** The first admin; without these a random password is generated and printed once. */
  ADMIN_EMAIL: z.string().default('admin@statushub.local'),
  ADMIN_PASSWORD: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Serve cookies with `Secure` (behind TLS). */
  COOKIE_SECURE: z.enum(['true', 'false']).default('false'),
  /** Wake other nodes through Redis pub/sub as well as PostgreSQL NOTIFY. */
  REDIS_URL: z.string().optional(),
  /** Expose commit times per event at /debug/live (the fan-out benchmark reads them). */
  LIVE_DEBUG: z.enum(['true', 'false']).default('false'),
  /** On SIGTERM/SIGINT: how long in-flight requests may take before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * Abuse limits (server/limits/config.ts, parsed by `limitsFromEnv`): TRUST_PROXY,
   * GRAPHQL_LIMITS, GRAPHQL_STAFF_LIMITS, GRAPHQL_INTROSPECTION, GRAPHIQL, MAX_BODY_BYTES,
   * WS_MAX_SUBSCRIPTIONS, SSE_MAX_STREAMS_PER_CLIENT, RATE_LIMIT_STORE, RATE_LIMIT_READS,
   * RATE_LIMIT_TOKEN, RATE_LIMIT_WRITES, RATE_LIMIT_SUBSCRIPTIONS, SIGNIN_LOCKOUT_ACCOUNT,
   * SIGNIN_LOCKOUT_IP. Only TRUST_PROXY is listed here: the others have their own formats.
   */
  TRUST_PROXY: z.string().regex(/^(true|false|\d+)$/, 'true, false or a number of proxy hops').default('false'),
  /**
   * Comma-separated domains whose hostnames the publication guard refuses to publish (e.g.
   * `corp.example,int.example.net`), on top of its defaults. Read where it is applied, by
   * `guardOptionsFromEnv` (server/domain/publication-guard.ts); listed here so it is documented.
   */
  INTERNAL_DOMAINS: z.string().optional(),
  /** Write the static snapshot here and rewrite it after every public change (server/snapshot/). */
  SNAPSHOT_DIR: z.string().optional(),
  /** The hub's public origin, for the snapshot's links (default http://localhost:PORT). */
  SNAPSHOT_ORIGIN: z.url({ protocol: /^https?$/ }).optional(),
});

export type Config = z.infer<typeof envSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return envSchema.parse(env);
}

/**
 * The abuse limits the environment asks for. Rate-limit counts are shared between nodes: in
 * Redis when REDIS_URL is set, else in PostgreSQL; PGlite (one process) counts in memory.
 */
export function loadLimits(config: Config, env: NodeJS.ProcessEnv = process.env): LimitsOverride {
  const override = limitsFromEnv(env);
  const store: RateStore = override.rates?.store ?? (config.REDIS_URL ? 'redis' : config.DATABASE_URL ? 'postgres' : 'memory');
  return { ...override, rates: { ...override.rates, store } };
}

/** Where the snapshot says the live page is: SNAPSHOT_ORIGIN, else this hub on localhost. */
export function snapshotOrigin(config: Config): string {
  return new URL(config.SNAPSHOT_ORIGIN ?? `http://localhost:${config.PORT}`).origin;
}
