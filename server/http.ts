import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';
import type { Yoga } from './app.js';

export const webDist = fileURLToPath(new URL('../web/dist', import.meta.url));

/**
 * One port for everything: `/graphql` goes to yoga, anything else is the built web app
 * (with index.html for client-side routes).
 */
export function createHttpServer(yoga: Yoga): Server {
  const hasWeb = existsSync(webDist);
  const assets = hasWeb ? sirv(webDist, { single: true, etag: true, gzip: true }) : null;
  return createServer((req, res) => {
    const path = req.url?.split('?')[0] ?? '/';
    if (path === '/graphql' || path.startsWith('/graphql/')) return void yoga(req, res);
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (assets) return void assets(req, res, () => {
      res.writeHead(404).end('Not found');
    });
    res.writeHead(503, { 'content-type': 'text/plain' }).end('The web app is not built: run `npm run build:web`.');
  });
}
