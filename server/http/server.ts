import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';
import type { Yoga } from './yoga-app.js';
import { embedHeaders, embedScript } from './embed.js';
import { refuseDeclaredBody } from '../limits/body.js';
import { nodeRequestUrl } from './request.js';
import { securityHeaders, type SecurityOptions } from './security-headers.js';
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
  /** GET /readyz (server/http/health.ts). */
  readyz?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/**
 * One port for everything: `/graphql` goes to yoga (or, for event streams, the SSE handler; the
 * WebSocket upgrade is attached separately), anything else is the built web app (with
 * index.html for client-side routes).
 */
export function createHttpServer(yoga: Yoga, routes: HttpRoutes = {}, security: SecurityOptions = {}): Server {
  const web = webFiles();
  return createServer((req, res) => {
    const path = req.url?.split('?')[0] ?? '/';
    for (const [name, value] of Object.entries(securityHeaders(req.method, path, req.headers.accept, security))) res.setHeader(name, value);
    // A Host header or target that forms no URL: refused here, before any route (or yoga, which
    // would answer with a stack trace) tries to parse it.
    if (!nodeRequestUrl(req)) return void res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Request\n');
    if (path === '/graphql' || path.startsWith('/graphql/')) {
      if (routes.maxBodyBytes !== undefined && refuseDeclaredBody(req, res, routes.maxBodyBytes)) return;
      if (routes.sse && req.headers.accept?.includes('text/event-stream')) {
        return void routes.sse(req, res).catch(() => {
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
      }
      if (routes.graphql) {
        return void routes.graphql(req, res).catch(() => {
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
      }
      return void yoga(req, res);
    }
    if (path === '/metrics' && routes.metrics) {
      return void routes.metrics(req).then((metrics) => {
        if (!metrics) return void res.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden');
        res.writeHead(200, { 'content-type': metrics.contentType }).end(metrics.body);
      });
    }
    if (path === '/debug/live' && routes.liveDebug) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(routes.liveDebug()));
      return;
    }
    const readRoute = path === '/history.rss' ? routes.rss : routes.api && isApiPath(path) ? routes.api : undefined;
    if (readRoute) {
      return void readRoute(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    }
    const handler = path === '/badge.svg' ? routes.badge : path === '/history.atom' ? routes.feed : path === '/readyz' ? routes.readyz : undefined;
    if (handler) {
      return void handler(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    }
    if (path === '/embed.js') {
      res.writeHead(200, embedHeaders).end(req.method === 'HEAD' ? undefined : embedScript);
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const notFound = () => void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    const { hashed, assets, files } = web() ?? {};
    if (!hashed || !assets || !files) {
      if (!isPageRoute(path)) return notFound();
      return void res.writeHead(503, { 'content-type': 'text/plain' }).end('The web app is not built: run `npm run build:web`.');
    }
    if (path.startsWith('/assets/')) {
      // A file of an older build that a rebuild removed: 404, never a read of a vanished file.
      let file: string;
      try {
        file = decodeURIComponent(path);
      } catch {
        return notFound();
      }
      if (!existsSync(join(webDist, file))) return notFound();
      return void hashed(req, res, notFound);
    }
    // index.html only for the web app's own routes; other paths are a built file or 404.
    return void (isPageRoute(path) ? assets : files)(req, res, notFound);
  });
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
