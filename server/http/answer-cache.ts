import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { audienceKey } from '../auth/audience.js';
import { credentialsFrom, type Credentials } from '../auth/resolve-viewer.js';
import type { Viewer } from '../auth/viewer.js';
import { headerReader, nodeRequestUrl, type HeaderReader, type RouteAnswer } from './request.js';

/**
 * Answers for public audiences, kept in memory per (page, audience) and thrown away when the
 * event log says that page changed.
 *
 * Who may be served from here: anonymous callers and audience tokens (each resolved to the
 * audience it reads as, never by its raw header). Staff, users and API tokens are never cached:
 * their answers depend on who they are. A key always starts with the page id, the audience key
 * and the actor kind (`anonymous` / `audience_token`, which the `viewer { actorType }` field
 * shows); the route adds everything else that changes its answer.
 *
 * Freshness: `invalidatePage` (called by the live hub for every event, in order, on every node)
 * drops the page's answers and bumps its generation. A request remembers the generation before
 * it computes and `store` refuses its answer if the generation moved meanwhile, so an answer read
 * before a commit is never stored after the invalidation that commit caused. Answers also expire
 * after `ttlMs` (time-dependent fields such as today's uptime day, or a hub that stopped
 * processing), and viewer resolutions are dropped on every event (a revoked token, a deployment
 * made protected) and at the credential's expiry.
 */

export interface Answer {
  status: number;
  /** Lower-case names; never Cache-Control (added when sent); Vary is merged with the audience's. */
  headers: Record<string, string>;
  body: Buffer;
  etag: string;
}

interface Entry extends Answer {
  expires: number;
}

/** An answer's headers as sent to a caller without `Origin`: made on first use, per sharing. */
const sentHeaders = new WeakMap<Answer, { shared?: Record<string, string>; private?: Record<string, string> }>();

/** What the cache needs to know about a caller: enough to key and to rate-limit. */
export interface CacheViewer {
  pageId: string;
  /** `public`, `deployment:<slug>`; null when the caller's answers are not cacheable. */
  audience: string | null;
  actorType: Viewer['actor']['type'];
  /** Audience-token id (rate limits count per token). */
  tokenId: string | null;
  public: boolean;
  /** Until when this resolution may be reused (the next event ends it sooner). */
  expires: number;
}

export interface AnswerCacheOptions {
  resolveViewer: (credentials: Credentials) => Promise<Viewer>;
  /** Answers kept at most this long even without an event (default 30 s). */
  ttlMs?: number;
  /** Entries kept in all (default 5,000); the oldest go first. */
  maxEntries?: number;
  /** Seconds a shared cache may keep a public answer (default 5). */
  sharedMaxAge?: number;
  /** Seconds a shared cache may serve a stale public answer while it revalidates (default 30). */
  staleWhileRevalidate?: number;
}

export function etagOf(body: Buffer | string): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/** The headers that select an audience (the page too): every cached answer varies on them. */
export const audienceVary = 'Accept, Authorization, Cookie, X-Statushub-Audience, X-Statushub-Page';

export class AnswerCache {
  readonly metrics = { hits: 0, misses: 0, coalesced: 0, stores: 0, staleRefused: 0, invalidations: 0, staffOnlyEvents: 0, notModified: 0 };
  private readonly pages = new Map<string, Map<string, Entry>>();
  private readonly generations = new Map<string, number>();
  private readonly viewers = new Map<string, { viewer: CacheViewer; expires: number }>();
  private readonly resolving = new Map<string, Promise<Viewer>>();
  private size = 0;
  private viewerEpoch = 0;
  /** Event seq → when its invalidation ran (epoch ms), the last 2,000. */
  readonly invalidatedAt = new Map<number, number>();
  /**
   * Routes' fast path: the raw request (host, target, the headers that select page and audience)
   * → its viewer and key, so a repeated request skips URL parsing and credential reading. Cleared
   * with the viewer resolutions, on every event; each entry ends at its viewer's expiry.
   */
  readonly routeKeys = new Map<string, { viewer: CacheViewer; key: string; epoch: number }>();
  get epoch(): number {
    return this.viewerEpoch;
  }
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  readonly publicCacheControl: string;

  constructor(private readonly options: AnswerCacheOptions) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 5_000;
    this.publicCacheControl = `public, max-age=0, s-maxage=${options.sharedMaxAge ?? 5}, stale-while-revalidate=${options.staleWhileRevalidate ?? 30}`;
  }

  /**
   * The caller as the cache sees it, or a thrown DomainError (the route answers it uncached).
   * Credentials without a session cookie are remembered until the next event or their expiry, so
   * a hit costs no database round trip; a cookie is resolved every time (it may be staff).
   */
  async viewer(credentials: Credentials): Promise<CacheViewer> {
    const remembered = !credentials.sessionToken;
    const key = remembered ? `${credentials.host ?? ''}\n${credentials.pageSlug ?? ''}\n${credentials.audience ?? ''}\n${credentials.bearer ?? ''}` : '';
    if (remembered) {
      const known = this.viewers.get(key);
      if (known && known.expires > Date.now()) return known.viewer;
    }
    // A resolution that raced an event (a revocation) is used once but not remembered.
    const epoch = this.viewerEpoch;
    // Callers with the same credentials that arrive together share one resolution (a rush after an
    // event, which forgot every resolution); one that arrives after the next event resolves anew.
    const resolving = remembered ? `${epoch}\n${key}` : '';
    let pending = remembered ? this.resolving.get(resolving) : undefined;
    if (!pending) {
      pending = this.options.resolveViewer(credentials);
      if (remembered) {
        this.resolving.set(resolving, pending);
        const forget = () => void this.resolving.delete(resolving);
        pending.then(forget, forget);
      }
    }
    const viewer = await pending;
    const actor = viewer.actor;
    const cacheable = (actor.type === 'anonymous' || actor.type === 'audience_token') && viewer.audience.kind !== 'internal';
    const resolved: CacheViewer = {
      pageId: viewer.page.id,
      audience: cacheable ? audienceKey(viewer.audience) : null,
      actorType: actor.type,
      tokenId: actor.type === 'audience_token' ? actor.id : null,
      public: cacheable && viewer.audience.kind === 'public' && actor.type === 'anonymous',
      expires: Math.min(Date.now() + this.ttlMs, viewer.credentialExpiresAt?.getTime() ?? Infinity),
    };
    if (remembered && cacheable && epoch === this.viewerEpoch) {
      if (this.viewers.size >= 10_000) this.viewers.clear();
      this.viewers.set(key, { viewer: resolved, expires: resolved.expires });
    }
    return resolved;
  }

  /** The key prefix every route starts with; null when this caller is not cached. */
  keyOf(viewer: CacheViewer, rest: string): string | null {
    return viewer.audience === null ? null : `${viewer.audience}\n${viewer.actorType}\n${rest}`;
  }

  generation(pageId: string): number {
    return this.generations.get(pageId) ?? 0;
  }

  /** Counts hits; misses are counted by the route (one request may look twice). */
  get(pageId: string, key: string): Answer | undefined {
    const entry = this.pages.get(pageId)?.get(key);
    if (entry && entry.expires > Date.now()) {
      this.metrics.hits++;
      return entry;
    }
    return undefined;
  }

  private readonly flights = new Map<string, Promise<Answer | null>>();

  /**
   * One computation per (page, key, generation) at a time: when a rush of requests misses at once
   * (right after an event dropped the page's answers), the first computes and the others wait for
   * its answer instead of each running the same query. A request that arrives after the next
   * event has another generation and computes afresh. `compute` answers null when its result is
   * not cacheable (an error, a refusal); then each waiting request answers for itself.
   */
  async once(pageId: string, key: string, generation: number, compute: () => Promise<Answer | null>): Promise<{ answer: Answer | null; leader: boolean }> {
    const flight = `${pageId}\n${generation}\n${key}`;
    const running = this.flights.get(flight);
    if (running) {
      this.metrics.coalesced++;
      return { answer: await running.catch(() => null), leader: false };
    }
    const computing = compute();
    this.flights.set(flight, computing);
    try {
      return { answer: await computing, leader: true };
    } finally {
      this.flights.delete(flight);
    }
  }

  /** Keeps the answer unless the page changed since `generation` was read. */
  store(pageId: string, key: string, generation: number, answer: Answer): boolean {
    if (this.generation(pageId) !== generation) {
      this.metrics.staleRefused++;
      return false;
    }
    let entries = this.pages.get(pageId);
    if (!entries) this.pages.set(pageId, (entries = new Map()));
    if (!entries.has(key)) this.size++;
    entries.set(key, { ...answer, expires: Date.now() + this.ttlMs });
    this.metrics.stores++;
    if (this.size > this.maxEntries) this.evictOldest();
    return true;
  }

  private readonly invalidateListeners = new Set<(pageId: string, seq?: number) => void>();

  /**
   * Called after every `invalidatePage` that dropped answers (every event that may concern an
   * outside audience; staff-only events do not call it), e.g. the static snapshot writer
   * (server/snapshot/watch.ts). A listener must be
   * quick and must not throw; a throw is swallowed so the cache and the hub carry on. Returns the
   * unsubscribe function.
   */
  onInvalidate(listener: (pageId: string, seq?: number) => void): () => void {
    this.invalidateListeners.add(listener);
    return () => void this.invalidateListeners.delete(listener);
  }

  /**
   * An event on this page. When it can change what an outside audience reads (`answers`, the
   * default; the hub asks `mayConcernOutsiders`), every cached audience's answers of the page go
   * (finer, per audience, is possible; this is safe). Viewer resolutions go on every event, since
   * any may change access (a token revoked, a deployment protected).
   */
  invalidatePage(pageId: string, seq?: number, { answers = true }: { answers?: boolean } = {}): void {
    if (seq !== undefined) {
      // When each event's invalidation ran (benchmarks compare it with the commit time).
      this.invalidatedAt.set(seq, performance.timeOrigin + performance.now());
      if (this.invalidatedAt.size > 2_000) this.invalidatedAt.delete(this.invalidatedAt.keys().next().value!);
    }
    if (answers) {
      this.generations.set(pageId, this.generation(pageId) + 1);
      const entries = this.pages.get(pageId);
      if (entries) {
        this.size -= entries.size;
        this.pages.delete(pageId);
      }
    } else this.metrics.staffOnlyEvents++;
    // Access may have changed (token revoked, deployment protected or renamed): resolve again.
    this.viewers.clear();
    this.routeKeys.clear();
    this.viewerEpoch++;
    this.metrics.invalidations++;
    if (answers) for (const listener of this.invalidateListeners) {
      try {
        listener(pageId, seq);
      } catch {
        // A listener's failure is its own: the hub's loop never stops for it.
      }
    }
  }

  get entries(): number {
    return this.size;
  }

  private evictOldest(): void {
    for (const entries of this.pages.values()) {
      const first = entries.keys().next();
      if (!first.done) {
        entries.delete(first.value);
        this.size--;
        return;
      }
    }
  }
}

/**
 * Send an answer (cached or just computed) with its validators: 304 when `If-None-Match` names
 * its ETag; `public, s-maxage` for the anonymous public audience, `private` for anything else,
 * and `Vary` on every header that selects the audience either way, so no shared cache hands one
 * audience's answer to another. CORS as yoga sends it: the origin reflected, no credentials.
 */
export function sendAnswer(req: IncomingMessage, res: ServerResponse, answer: Answer, cache: { publicCacheControl: string } | null, shared: boolean, metrics?: AnswerCache['metrics']): void {
  const origin = req.headers.origin;
  const notModified = answer.status === 200 && ifNoneMatch(req.headers['if-none-match'], answer.etag);
  if (!origin && !notModified) {
    // The common case (a browser on the page's own origin, a poller, a CDN): headers made once per answer.
    let made = sentHeaders.get(answer);
    if (!made) sentHeaders.set(answer, (made = {}));
    const which = shared && cache ? 'shared' : 'private';
    const headers = (made[which] ??= { ...answerHeaders(answer, cache, shared, undefined), 'content-length': String(answer.body.byteLength) });
    res.writeHead(answer.status, headers).end(req.method === 'HEAD' ? undefined : answer.body);
    return;
  }
  const headers = answerHeaders(answer, cache, shared, origin);
  if (notModified) {
    if (metrics) metrics.notModified++;
    delete headers['content-type'];
    res.writeHead(304, headers).end();
    return;
  }
  headers['content-length'] = String(answer.body.byteLength);
  res.writeHead(answer.status, headers).end(req.method === 'HEAD' ? undefined : answer.body);
}

function answerHeaders(answer: Answer, cache: { publicCacheControl: string } | null, shared: boolean, origin: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { ...answer.headers, etag: answer.etag };
  headers['cache-control'] = shared && cache ? cache.publicCacheControl : 'private, max-age=0, must-revalidate';
  const vary = new Set(audienceVary.split(', '));
  for (const name of answer.headers.vary?.split(',') ?? []) if (name.trim()) vary.add(name.trim());
  // A route with its own CORS policy (the API: `*`) keeps it; otherwise yoga's: the origin reflected.
  if (origin && !answer.headers['access-control-allow-origin']) {
    headers['access-control-allow-origin'] = origin;
    vary.add('Origin');
  }
  headers.vary = [...vary].join(', ');
  return headers;
}

function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * A plain GET route (badge, feeds, API JSON) through the cache: `compute` is the route's pure
 * function of (url, header), `credentials` how the route reads its caller (with its defaults).
 * The route is computed on a canonical URL: the request's host and path and only the parameters
 * that select the page and audience (`page`, `audience`, `access_token`), so a cache-busting
 * parameter neither forces a miss nor ends up echoed in a stored answer (a feed's self link).
 * The key is the host (links in the answer carry it), the path and those parameters but the token
 * (the token is in the resolved audience). Refusals and errors are answered uncached.
 */
export function cachedRoute(
  cache: AnswerCache,
  route: {
    name: string;
    credentials: (url: URL, header: HeaderReader) => Credentials;
    compute: (url: URL, header: HeaderReader) => Promise<RouteAnswer>;
  },
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const h = req.headers;
    const cookie = h.cookie;
    // A session cookie is resolved every time (it may be staff): no fast path.
    const signature = cookie?.includes('statushub_session') ? null : `${route.name}\n${h.host}\n${req.url}\n${h.authorization}\n${h['x-statushub-audience']}\n${h['x-statushub-page']}`;
    if (signature) {
      const known = cache.routeKeys.get(signature);
      if (known && known.viewer.expires > Date.now() && known.epoch === cache.epoch) {
        const hit = cache.get(known.viewer.pageId, known.key);
        if (hit) return sendAnswer(req, res, hit, cache, known.viewer.public, cache.metrics);
      }
    }
    const requested = nodeRequestUrl(req);
    if (!requested) return void res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Request\n');
    const url = new URL(requested.pathname, requested.origin);
    for (const name of selectingParams) {
      const value = requested.searchParams.get(name);
      if (value !== null) url.searchParams.set(name, value);
    }
    const header = headerReader(req);
    let viewer: CacheViewer | null = null;
    // A resolution that raced an event is used for this request but not remembered.
    const epoch = cache.epoch;
    try {
      viewer = await cache.viewer(route.credentials(url, header));
    } catch {
      viewer = null; // the route itself answers the refusal
    }
    const shown = new URLSearchParams(url.search);
    shown.delete('access_token');
    const key = viewer ? cache.keyOf(viewer, `${route.name}\n${url.host}\n${url.pathname}\n${shown}`) : null;
    if (viewer && key && signature && epoch === cache.epoch) {
      if (cache.routeKeys.size >= 10_000) cache.routeKeys.clear();
      cache.routeKeys.set(signature, { viewer, key, epoch });
    }
    if (viewer && key) {
      const hit = cache.get(viewer.pageId, key);
      if (hit) return sendAnswer(req, res, hit, cache, viewer.public, cache.metrics);
      cache.metrics.misses++;
    }
    // Not ours to cache (a refusal, an error, a caller who is not cached): the route's own headers, untouched.
    const sendUncached = (computed: RouteAnswer) => void res.writeHead(computed.status, computed.headers).end(req.method === 'HEAD' ? undefined : computed.body);
    if (!viewer || !key) return sendUncached(await route.compute(url, header));
    const pageId = viewer.pageId;
    const generation = cache.generation(pageId);
    // Requests that miss together wait for one computation (the route's answer for this key).
    let own: RouteAnswer | undefined;
    const { answer } = await cache.once(pageId, key, generation, async () => {
      const computed = (own = await route.compute(url, header));
      if (computed.status !== 200) return null;
      const body = Buffer.isBuffer(computed.body) ? computed.body : Buffer.from(computed.body);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(computed.headers)) if (name.toLowerCase() !== 'cache-control') headers[name.toLowerCase()] = value;
      const made: Answer = { status: 200, headers, body, etag: etagOf(body) };
      cache.store(pageId, key, generation, made);
      return made;
    });
    if (!answer) return sendUncached(own ?? (await route.compute(url, header)));
    sendAnswer(req, res, answer, cache, viewer.public, cache.metrics);
  };
}

const selectingParams = ['page', 'audience', 'access_token'];

/**
 * How the badge and the feeds read their caller (server/http/badge.ts, server/http/feed.ts): the public
 * slice unless an audience or a token says otherwise, never what a staff cookie would unlock.
 */
export function readerCredentials(url: URL, header: (name: string) => string | null | undefined): Credentials {
  const credentials = credentialsFrom(url, header);
  if (!credentials.audience && !credentials.bearer) credentials.audience = 'public';
  return credentials;
}
