import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { schema } from '../schema/index.js';
import { createYogaApp, type Yoga } from './http/yoga-app.js';
import { resolveViewer } from './auth/resolve-viewer.js';
import { badge } from './http/badge.js';
import type { Database } from './db/client.js';
import { feed, rss } from './http/feed.js';
import { createHttpServer } from './http/server.js';
import { apiCredentials, statuspageApi, statuspageApiMethod } from './http/statuspage-api.js';
import { createReadiness, readyzHandler } from './http/health.js';
import { AnswerCache, cachedRoute, readerCredentials } from './http/answer-cache.js';
import { cachedGraphql } from './http/graphql-answers.js';
import { createMetrics } from './http/metrics.js';
import { credentialsFromNode } from './realtime/credentials.js';
import { mayConcernOutsiders } from './read/event-visibility.js';
import { AccessWatch } from './realtime/access.js';
import { DocumentCache } from './realtime/documents.js';
import { LiveHub } from './realtime/hub.js';
import type { LiveServices } from './realtime/services.js';
import { createSseHandler } from './realtime/sse.js';
import { listenPostgres, listenRedis, type PostgresWakeups, type Wakeups } from './realtime/wakeups.js';
import { attachWebSocket } from './realtime/ws.js';
import type { CommitListener } from './services/context.js';
import { resolveLimits, type Limits, type LimitsOverride } from './limits/config.js';
import { DocumentLimiter } from './limits/graphql.js';
import { LiveLimits } from './limits/live.js';
import { RateLimits } from './limits/rate.js';
import { subscriptionsHandler } from './http/subscriptions.js';

export interface NodeOptions {
  database: Database;
  logger?: Logger;
  cookieSecure?: boolean;
  /** Use Redis pub/sub (in addition to LISTEN/NOTIFY) to wake the other nodes. */
  redisUrl?: string;
  /** Record commit times per sequence number at /debug/live (benchmarks only). */
  liveDebug?: boolean;
  /** How many events back a client may resume (LiveHub's default otherwise). */
  replayWindow?: number;
  /** The hub's safety-net poll interval; 0 disables it, so only wake-ups deliver (tests). */
  pollMs?: number;
  /** Abuse limits over the defaults (server/limits/config.ts; `limitsFromEnv` in production). */
  limits?: LimitsOverride | Limits;
  /** Told of this node's commits too (the in-process notification worker wakes up). */
  afterCommit?: CommitListener;
}

/**
 * One server node: GraphQL over HTTP, SSE and WebSocket on one port, the live hub, and the
 * wake-up sources that let it see what other nodes commit. Nodes share nothing but the database.
 */
export interface HubNode {
  yoga: Yoga;
  live: LiveServices;
  server: Server;
  onCommit: CommitListener;
  /** Public answers served from memory (server/http/answer-cache.ts). */
  answers: AnswerCache;
  listen(port: number, host?: string): Promise<number>;
  /** Whether `close` has begun (then /readyz answers 503). */
  draining(): boolean;
  /**
   * Stop accepting connections, tell live subscribers to reconnect elsewhere (WebSocket close
   * 1012, SSE `live/restarting`), let in-flight requests finish for up to `graceMs`, then close
   * whatever is left. `graceMs` 0 (the default) closes at once after telling subscribers.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

export async function createNode(options: NodeOptions): Promise<HubNode> {
  const { database, logger } = options;
  // Late-bound through `live`, so every transport resolves viewers the same way (tests hook it).
  const access = new AccessWatch((credentials) => live.resolveViewer(credentials), logger);
  // Public answers kept per page and audience; every event the hub sees (on every node) drops its page's.
  const answers = new AnswerCache({ resolveViewer: (credentials) => live.resolveViewer(credentials) });
  const hub = new LiveHub({ db: database.db, schema, logger, replayWindow: options.replayWindow, pollMs: options.pollMs, access, onEvent: (row) => answers.invalidatePage(row.pageId, row.seq, { answers: mayConcernOutsiders(row) }) });
  await hub.start();
  const wake = () => hub.wake();

  const wakeups: Wakeups[] = [];
  let listening: PostgresWakeups | undefined;
  if (database.sql) wakeups.push((listening = await listenPostgres(database.sql, wake, logger)));
  let draining = false;
  if (options.redisUrl) wakeups.push(await listenRedis(options.redisUrl, wake, logger));

  const commitTimes = options.liveDebug ? new Map<number, number>() : null;
  const onCommit: CommitListener = (seqs, committed) => {
    if (commitTimes) {
      const at = performance.timeOrigin + performance.now();
      for (const seq of seqs) commitTimes.set(seq, at);
      if (commitTimes.size > 10_000) commitTimes.delete(commitTimes.keys().next().value!);
    }
    // This node learns of its own commits at once; the others through NOTIFY or Redis.
    hub.committed(committed);
    for (const w of wakeups) w.published(seqs);
    options.afterCommit?.(seqs, committed);
  };

  const limits = resolveLimits(options.limits);
  const rates = await RateLimits.create(limits, { store: limits.rates.store, sql: database.sql, redisUrl: options.redisUrl, logger });
  const documentLimiter = new DocumentLimiter(schema, limits);
  const yoga = createYogaApp({ database, logger, onCommit, cookieSecure: options.cookieSecure, limits, rates, documentLimiter });
  const documents = new DocumentCache(schema, 500, documentLimiter);
  const live: LiveServices = {
    schema,
    documents,
    hub,
    access,
    resolveViewer: (credentials) => resolveViewer(database.db, credentials),
    http: (request, serverContext) => Promise.resolve(yoga.fetch(request, serverContext)),
    limits: new LiveLimits(limits, documentLimiter, rates),
  };
  const sse = createSseHandler(live, (request) => Promise.resolve(yoga.fetch(request)));
  const metrics = createMetrics(hub, documents, () => sse.openStreams());
  const server = createHttpServer(yoga, {
    maxBodyBytes: limits.maxBodyBytes,
    sse: sse.handle,
    // Event and subscriber counts include what only staff can see: staff credentials only.
    metrics: async (req) => {
      try {
        const viewer = await live.resolveViewer(credentialsFromNode(req));
        return viewer.audience.kind === 'internal' ? metrics.render() : null;
      } catch {
        return null;
      }
    },
    badge: cachedRoute(answers, { name: 'badge', credentials: readerCredentials, compute: (url, header) => badge(database.db, url, header) }),
    feed: cachedRoute(answers, { name: 'atom', credentials: readerCredentials, compute: (url, header) => feed(database.db, url, header) }),
    rss: cachedRoute(answers, { name: 'rss', credentials: readerCredentials, compute: (url, header) => rss(database.db, url, header) }),
    api: (() => {
      const cached = cachedRoute(answers, { name: 'api', credentials: apiCredentials, compute: (url, header) => statuspageApi(database.db, url, header) });
      return async (req, res) => {
        // Preflight and other methods are the API's own; GET and HEAD go through the cache.
        const other = statuspageApiMethod(req.method);
        if (other) return void res.writeHead(other.status, other.headers).end(other.body);
        return cached(req, res);
      };
    })(),
    graphql: cachedGraphql({ cache: answers, yoga, maxBodyBytes: limits.maxBodyBytes, rates, trustProxy: limits.trustProxy }),
    subscriptions: subscriptionsHandler(database.db),
    readyz: readyzHandler(createReadiness({ database, listen: listening, draining: () => draining })),
    liveDebug: commitTimes ? () => ({ ...hub.metrics, documentParses: documents.parses, subscribers: hub.subscriberCount(), lastSeq: hub.lastSeq, commitTimes: Object.fromEntries(commitTimes), answerInvalidations: Object.fromEntries(answers.invalidatedAt) }) : undefined,
  }, { hsts: options.cookieSecure });
  const ws = attachWebSocket(server, live);

  return {
    yoga,
    live,
    server,
    onCommit,
    answers,
    listen: (port, host) =>
      new Promise((resolve) => {
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    draining: () => draining,
    async close({ graceMs = 0 } = {}) {
      if (draining) return;
      draining = true;
      const deadline = Date.now() + graceMs;
      // Stops listening at once; the callback runs when every open connection has ended.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      ws.restart();
      sse.restart();
      hub.stop();
      // In-flight requests run to their end; keep-alive connections close as soon as they are idle.
      const idle = setInterval(() => server.closeIdleConnections(), 25);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
      clearInterval(idle);
      sse.close();
      await ws.close();
      server.closeAllConnections();
      await closed;
      for (const w of wakeups) await w.close();
      await rates.close();
    },
  };
}
