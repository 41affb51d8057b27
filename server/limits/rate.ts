import { pgTable, text, integer, timestamp } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/postgres-js';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type postgres from 'postgres';
import { RateLimiterDrizzle, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DomainError } from '../domain/errors.js';
import type { Limits, Lockout, Rate, RateStore } from './config.js';

/**
 * Rate limits (rate-limiter-flexible). Counts live in one store: Redis when asked (cheapest
 * shared store), PostgreSQL (the `rate_limits` table, through drizzle) so several nodes share
 * counts without Redis, or this process's memory (PGlite, tests). A store that fails falls back
 * to per-node memory counts (`insuranceLimiter`), never to refusing or to an error.
 */

/**
 * Counters are short-lived bookkeeping, not domain data: an UNLOGGED table (no WAL; emptied by a
 * crash, which only forgets counts) created at start, outside drizzle's migrations.
 */
export const rateLimitTable = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  points: integer('points').notNull().default(0),
  expire: timestamp('expire', { withTimezone: true }),
});

export interface RateStoreClients {
  store: RateStore;
  /** postgres.js client (store `postgres`). */
  sql?: postgres.Sql;
  /** Redis URL (store `redis`). */
  redisUrl?: string;
  logger?: Logger;
}

export class RateLimitedError extends DomainError {
  constructor(readonly retryAfter: number, what = 'requests') {
    super('rate/limited', `Too many ${what}; retry in ${retryAfter} s`, {
      retryAfter,
      http: { status: 429, headers: { 'Retry-After': String(retryAfter) } },
    });
  }
}

const retrySeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
/** Window of a sign-in failure counter: failures older than this are forgotten. */
const signInWindowSeconds = 24 * 3600;

type Factory = (keyPrefix: string, points: number, duration: number) => RateLimiterAbstract;

export class RateLimits {
  private readonly reads: RateLimiterAbstract;
  private readonly tokens: RateLimiterAbstract;
  private readonly writes: RateLimiterAbstract;
  private readonly subscriptions: RateLimiterAbstract;
  private readonly signIn: { account: LockoutCounter; ip: LockoutCounter };
  private readonly redis?: Redis;

  private constructor(limits: Limits, shared: Factory, redis: Redis | undefined, readsShared: boolean) {
    this.redis = redis;
    const memory: Factory = (keyPrefix, points, duration) => new RateLimiterMemory({ keyPrefix, points, duration });
    const make = (factory: Factory, prefix: string, rate: Rate) => factory(prefix, Math.max(1, rate.points), rate.seconds);
    const r = limits.rates;
    // NOTE: with PostgreSQL as the store every counted request is one upsert; anonymous reads
    // are the bulk of traffic on a bad day, so they count per node unless Redis is the store.
    this.reads = make(readsShared ? shared : memory, 'reads', r.anonymousReads);
    this.tokens = make(shared, 'token', r.tokenUse);
    this.writes = make(shared, 'writes', r.writes);
    this.subscriptions = make(shared, 'subs', r.subscriptions);
    this.disabled = {
      reads: r.anonymousReads.points === 0,
      tokens: r.tokenUse.points === 0,
      writes: r.writes.points === 0,
      subscriptions: r.subscriptions.points === 0,
    };
    this.signIn = {
      account: new LockoutCounter(shared, 'signin-account', r.signInAccount, true),
      ip: new LockoutCounter(shared, 'signin-ip', r.signInIp, false),
    };
  }

  /** 0 points switches a limit off. */
  private readonly disabled: Record<'reads' | 'tokens' | 'writes' | 'subscriptions', boolean>;

  static async create(limits: Limits, clients: RateStoreClients = { store: 'memory' }): Promise<RateLimits> {
    const { logger } = clients;
    const insurance = (points: number, duration: number) => new RateLimiterMemory({ points, duration });
    if (clients.store === 'redis' && clients.redisUrl) {
      const redis = new Redis(clients.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
      redis.on('error', (error) => logger?.warn({ err: error.message }, 'rate limit store (Redis) error'));
      // NOTE: without the offline queue, a command before the connection is ready fails and falls
      // to the per-node insurance limiter: wait for it (briefly; a Redis that is down stays so).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        redis.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const factory: Factory = (keyPrefix, points, duration) =>
        new RateLimiterRedis({ storeClient: redis, keyPrefix: `statushub:rl:${keyPrefix}`, points, duration, insuranceLimiter: insurance(points, duration) });
      return new RateLimits(limits, factory, redis, true);
    }
    if (clients.store === 'postgres' && clients.sql) {
      await ensureTable(clients.sql);
      // A drizzle instance of its own: these upserts stay out of the app's query counter.
      const db = drizzle(clients.sql);
      const factory: Factory = (keyPrefix, points, duration) =>
        new RateLimiterDrizzle({ storeClient: db, schema: rateLimitTable, keyPrefix, points, duration, insuranceLimiter: insurance(points, duration) });
      return new RateLimits(limits, factory, undefined, false);
    }
    if (clients.store !== 'memory') logger?.warn({ store: clients.store }, 'rate limit store unavailable; counting per node in memory');
    return RateLimits.memory(limits);
  }

  /** Counts in this process's memory (PGlite, tests). */
  static memory(limits: Limits): RateLimits {
    return new RateLimits(limits, (keyPrefix, points, duration) => new RateLimiterMemory({ keyPrefix, points, duration }), undefined, true);
  }

  /** Anonymous requests, per client IP. */
  read(ip: string): Promise<void> {
    return this.disabled.reads ? Promise.resolve() : take(this.reads, ip, 'requests');
  }
  /** Requests made with one API or audience token. */
  tokenUse(tokenId: string): Promise<void> {
    return this.disabled.tokens ? Promise.resolve() : take(this.tokens, tokenId, 'requests with this token');
  }
  /** Mutations, per actor (`user:<id>`, `token:<id>`, `ip:<ip>`). */
  write(actorKey: string): Promise<void> {
    return this.disabled.writes ? Promise.resolve() : take(this.writes, actorKey, 'writes');
  }
  /** New live subscriptions, per client IP. */
  subscribe(ip: string): Promise<void> {
    return this.disabled.subscriptions ? Promise.resolve() : take(this.subscriptions, ip, 'new subscriptions');
  }

  /**
   * One sign-in attempt for this account (page + email) from this IP. Throws RateLimitedError
   * while either is locked out; call `settle` with the outcome once the password was checked.
   */
  async signInAttempt(account: string, ip: string): Promise<{ settle(succeeded: boolean): Promise<void> }> {
    const ipAttempt = await this.signIn.ip.attempt(ip);
    let accountAttempt;
    try {
      accountAttempt = await this.signIn.account.attempt(account);
    } catch (error) {
      await ipAttempt.settle(true);
      throw error;
    }
    return {
      settle: async (succeeded) => {
        await Promise.all([ipAttempt.settle(succeeded), accountAttempt.settle(succeeded)]);
      },
    };
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}

async function take(limiter: RateLimiterAbstract, key: string, what: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw new RateLimitedError(retrySeconds(rejection.msBeforeNext), what);
    throw rejection;
  }
}

/**
 * Growing lock-out. `attempts` counts attempts since the last success (counted before the
 * password is checked, so parallel guesses count too); from the `failures`-th on, each attempt
 * takes a lock of base·2^(n−failures) seconds (at most max) at once, atomically: a second
 * attempt while one holds the lock is refused. A success clears both.
 */
class LockoutCounter {
  private readonly attempts: RateLimiterAbstract;
  private readonly locks: RateLimiterAbstract;

  constructor(
    factory: Factory,
    prefix: string,
    private readonly rule: Lockout,
    /** Per account: a success forgets earlier failures. Per IP: a success only refunds itself. */
    private readonly resetOnSuccess: boolean,
  ) {
    this.attempts = factory(`${prefix}-n`, 1_000_000, signInWindowSeconds);
    this.locks = factory(`${prefix}-lock`, 1, rule.maxSeconds);
  }

  async attempt(key: string): Promise<{ settle(succeeded: boolean): Promise<void> }> {
    const lock = await this.locks.get(key);
    if (lock && lock.consumedPoints >= 1 && lock.msBeforeNext > 0) throw new RateLimitedError(retrySeconds(lock.msBeforeNext), 'sign-in attempts');
    const n = (await this.attempts.consume(key)).consumedPoints;
    const locking = n >= this.rule.failures;
    if (locking) {
      const seconds = Math.min(this.rule.baseSeconds * 2 ** Math.min(n - this.rule.failures, 30), this.rule.maxSeconds);
      try {
        await this.locks.consume(key, 1, { customDuration: seconds });
      } catch (rejection) {
        await this.attempts.reward(key, 1);
        if (rejection instanceof RateLimiterRes) throw new RateLimitedError(retrySeconds(rejection.msBeforeNext), 'sign-in attempts');
        throw rejection;
      }
    }
    return {
      settle: async (succeeded) => {
        if (!succeeded) return;
        if (this.resetOnSuccess) await Promise.all([this.attempts.delete(key), this.locks.delete(key)]);
        else await Promise.all([this.attempts.reward(key, 1), locking ? this.locks.delete(key) : undefined]);
      },
    };
  }
}

async function ensureTable(sql: postgres.Sql): Promise<void> {
  try {
    await sql`create unlogged table if not exists rate_limits (key text primary key, points integer not null default 0, expire timestamptz)`;
  } catch (error) {
    // Two nodes starting at once race on the catalog; the other one created it.
    if ((error as { code?: string }).code !== '23505' && (error as { code?: string }).code !== '42P07') throw error;
  }
}
