import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import Router from 'find-my-way';
import sirv from 'sirv';
import type { Yoga } from './yoga-app.js';
import { embedHeaders, embedScript } from './embed.js';
import { refuseDeclaredBody } from '../limits/body.js';
import { nodeRequestUrl } from './request.js';
import { securityHeaders, type ResponseKind, type SecurityOptions } from './security-headers.js';
import { isApiPath } from './statuspage-api.js';
import { isPageRoute } from './web-routes.js';

export const webDist = fileURLToPath(new URL('../../web/dist', import.meta.url));

export interface HttpRoutes {
  /** Bodies declared larger than this on /graphql answer 413 unread (server/limits/body.ts). */
  maxBodyBytes?: number;
  /** GraphQL requests that accept `text/event-stream` (subscriptions over SSE). */
  sse?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** Null when the caller may not read them. */
  metrics?: (req: IncomingMessage) => Promise<{ contentType: string; body: string } | null>;
  liveDebug?: () => unknown;
  /** GET /history.rss (server/http/feed.ts). */
  rss?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** `/api/...` and `/d/<slug>/api/...` (server/http/statuspage-api.ts): the Statuspage-compatible API; unknown API paths answer JSON 404. */
  api?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** GET /badge.svg (server/http/badge.ts). */
  badge?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** GET /history.atom (server/http/feed.ts). */
  feed?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** GraphQL GET/POST through the answer cache (server/http/graphql-answers.ts); yoga when absent. */
  graphql?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** `/subscriptions/{confirm,manage,unsubscribe}` (server/http/subscriptions.ts): the links of subscription emails. */
  subscriptions?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** GET /readyz (server/http/health.ts). */
  readyz?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/**
 * One port for everything, routed by find-my-way (chosen by measurement: bench:read's router
 * phases, docs/ARCHITECTURE.md *HTTP edge*): `/graphql` goes to the answer cache and yoga (event
 * streams to the SSE handler; the WebSocket upgrade is attached separately), the read routes to
 * their handlers, and anything else is the built web app (index.html only for the app's own
 * routes, 404 otherwise).
 *
 * Before any route: the security headers of the route's kind, and 400 for a request whose Host
 * or target forms no URL (yoga would answer that with a stack trace).
 */
export function createHttpServer(yoga: Yoga, routes: HttpRoutes = {}, security: SecurityOptions = {}): Server {
  const web = webFiles();
  const headersOf = (kind: ResponseKind) => securityHeaders(kind, security);
  const failed = (res: ServerResponse) => () => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  };
  /** A route: its kind's headers, then the handler; a rejected handler ends the response. */
  const route = (kind: ResponseKind, handler: (req: IncomingMessage, res: ServerResponse) => unknown): Router.Handler<Router.HTTPVersion.V1> => {
    const headers = headersOf(kind);
    return (req, res) => {
      for (const name in headers) res.setHeader(name, headers[name]!);
      const result = handler(req, res);
      if (result instanceof Promise) result.catch(failed(res));
    };
  };
  const notFound = (res: ServerResponse) => void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');

  const graphql = (req: IncomingMessage, res: ServerResponse) => {
    // yoga renders GraphiQL for a GET that accepts HTML; everything else at /graphql is data.
    const graphiql = (req.method === 'GET' || req.method === 'HEAD') && !!req.headers.accept?.includes('text/html');
    const headers = headersOf(graphiql ? 'graphiql' : 'resource');
    for (const name in headers) res.setHeader(name, headers[name]!);
    if (routes.maxBodyBytes !== undefined && refuseDeclaredBody(req, res, routes.maxBodyBytes)) return;
    if (routes.sse && req.headers.accept?.includes('text/event-stream')) return void routes.sse(req, res).catch(failed(res));
    if (routes.graphql) return void routes.graphql(req, res).catch(failed(res));
    return void yoga(req, res);
  };

  /** The web app: hashed assets, index.html for its routes, other built files, 404 for the rest. */
  const webApp = (req: IncomingMessage, res: ServerResponse) => {
    const path = pathOf(req.url);
    // A path the router could not decode that names the API still gets the API's JSON 404.
    if (routes.api && isApiPath(path)) return routes.api(req, res);
    const { hashed, assets, files } = web() ?? {};
    const missing = () => notFound(res);
    if (!hashed || !assets || !files) {
      if (!isPageRoute(path)) return missing();
      return void res.writeHead(503, { 'content-type': 'text/plain' }).end('The web app is not built: run `npm run build:web`.');
    }
    if (path.startsWith('/assets/')) {
      // A file of an older build that a rebuild removed: 404, never a read of a vanished file.
      let file: string;
      try {
        file = decodeURIComponent(path);
      } catch {
        return missing();
      }
      if (!existsSync(join(webDist, file))) return missing();
      return void hashed(req, res, missing);
    }
    // index.html only for the web app's own routes; other paths are a built file or 404.
    return void (isPageRoute(path) ? assets : files)(req, res, missing);
  };
  const webRoute = route('page', webApp);

  const router = Router({
    // The routes read the query themselves (the cache keeps only the parameters that matter).
    querystringParser: () => ({}),
    defaultRoute: (req, res) => webRoute(req, res, {}, undefined, {}),
    // A path that does not percent-decode: the web app's handler decides (404, or the API's JSON 404).
    onBadUrl: (_path, req, res) => webRoute(req, res, {}, undefined, {}),
  });
  const anyMethod = (path: string, handler: Router.Handler<Router.HTTPVersion.V1>) => router.all(path, handler);
  anyMethod('/graphql', graphql);
  anyMethod('/graphql/*', graphql);
  anyMethod('/healthz', route('resource', (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')));
  if (routes.readyz) anyMethod('/readyz', route('resource', routes.readyz));
  if (routes.metrics) {
    const metrics = routes.metrics;
    anyMethod('/metrics', route('resource', async (req, res) => {
      const answer = await metrics(req);
      if (!answer) return void res.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden');
      res.writeHead(200, { 'content-type': answer.contentType }).end(answer.body);
    }));
  }
  if (routes.liveDebug) {
    const liveDebug = routes.liveDebug;
    anyMethod('/debug/live', route('resource', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(liveDebug()))));
  }
  if (routes.api) for (const path of ['/api', '/api/*', '/d/:slug/api', '/d/:slug/api/*']) anyMethod(path, route('resource', routes.api));
  if (routes.badge) anyMethod('/badge.svg', route('embeddable', routes.badge));
  if (routes.feed) anyMethod('/history.atom', route('resource', routes.feed));
  if (routes.rss) anyMethod('/history.rss', route('resource', routes.rss));
  if (routes.subscriptions) for (const path of ['/subscriptions/confirm', '/subscriptions/manage', '/subscriptions/unsubscribe']) anyMethod(path, route('page', routes.subscriptions));
  anyMethod('/embed.js', route('embeddable', (req, res) => res.writeHead(200, embedHeaders).end(req.method === 'HEAD' ? undefined : embedScript)));

  const validHosts = new Map<string, boolean>();
  return createServer((req, res) => {
    // A Host header or target that forms no URL: refused here, before any route (or yoga, which
    // would answer with a stack trace) tries to parse it. The answer depends only on the Host
    // once the target is origin-form, so it is remembered per Host.
    const host = req.headers.host ?? 'localhost';
    let valid = validHosts.get(host);
    if (valid === undefined) {
      valid = nodeRequestUrl({ url: '/', headers: { host } }) !== null;
      if (validHosts.size >= 1_000) validHosts.clear();
      validHosts.set(host, valid);
    }
    if (!valid || !req.url?.startsWith('/')) {
      for (const [name, value] of Object.entries(headersOf('resource'))) res.setHeader(name, value);
      return void res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Request\n');
    }
    router.lookup(req, res);
  });
}

/** The path of a request target, without its query. */
function pathOf(url: string | undefined): string {
  const target = url ?? '/';
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

/**
 * sirv lists web/dist once; a rebuild under a running server (`npm run build:web` beside
 * `npm start`) would leave it serving a list of files that no longer exist. The handlers are
 * made again whenever index.html or its precompressed copy changes: the build writes them last
 * (web/vite.config.ts), so the list is complete once the second one is written.
 */
function webFiles() {
  let built: { stamp: string; hashed: ReturnType<typeof sirv>; assets: ReturnType<typeof sirv>; files: ReturnType<typeof sirv> } | null = null;
  const mtime = (name: string) => statSync(join(webDist, name), { throwIfNoEntry: false })?.mtimeMs;
  return () => {
    const html = mtime('index.html');
    if (html === undefined) return null;
    const stamp = `${html}:${mtime('index.html.br') ?? 0}`;
    if (built?.stamp !== stamp) {
      built = {
        stamp,
        // gzip/brotli: serve the .gz/.br files the web build writes beside each asset.
        // Vite's hashed files never change; a missing one is a 404, not the app's HTML.
        hashed: sirv(webDist, { etag: true, gzip: true, brotli: true, maxAge: 31_536_000, immutable: true }),
        // index.html for every client-side route, revalidated so a new build is picked up at once.
        assets: sirv(webDist, { single: true, etag: true, gzip: true, brotli: true, maxAge: 0 }),
        // The same files without the index.html fallback, for paths that are not routes.
        files: sirv(webDist, { etag: true, gzip: true, brotli: true, maxAge: 0 }),
      };
    }
    return built;
  };
}
