/**
 * Response headers every route gets (server/http/server.ts sets them before a route answers).
 *
 * - The web app runs under a strict Content-Security-Policy: scripts and styles only from its own
 *   origin (Vite emits every script and every SFC style as a file; index.html has no inline code),
 *   data: images for the inline favicon, fetch and WebSocket to its own origin.
 * - Everything that is not a page (JSON, feeds, health) gets `default-src 'none'`.
 * - Nothing may be framed except `/badge.svg` and `/embed.js`, which exist to be embedded.
 * - GraphiQL (yoga's page: inline scripts, assets from unpkg.com) gets a policy of its own,
 *   on that response only.
 * - HSTS only when the deployment says it is served over TLS (`COOKIE_SECURE=true`).
 */

export interface SecurityOptions {
  /** Send Strict-Transport-Security (set when COOKIE_SECURE=true: the site is served over TLS). */
  hsts?: boolean;
}

const appPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const graphiqlPolicy = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline' https://unpkg.com",
  "style-src 'self' 'unsafe-inline' https://unpkg.com",
  "font-src 'self' data: https://unpkg.com",
  "img-src 'self' data: https:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const resourcePolicy = "default-src 'none'; frame-ancestors 'none'";
// An SVG opened on its own is a document: no scripts, no loads; embedding it anywhere is the point.
const embeddablePolicy = "default-src 'none'";

/** The headers for one request; `path` without the query string. */
export function securityHeaders(method: string | undefined, path: string, accept: string | undefined, options: SecurityOptions = {}): Record<string, string> {
  const embeddable = path === '/badge.svg' || path === '/embed.js';
  const isGraphql = path === '/graphql' || path.startsWith('/graphql/');
  // yoga renders GraphiQL for a GET that accepts HTML; everything else at /graphql is data.
  const graphiql = isGraphql && (method === 'GET' || method === 'HEAD') && !!accept?.includes('text/html');
  const isWebApp = !isGraphql && !embeddable && !['/history.atom', '/healthz', '/metrics', '/debug/live'].includes(path);
  const headers: Record<string, string> = {
    'content-security-policy': embeddable ? embeddablePolicy : graphiql ? graphiqlPolicy : isWebApp ? appPolicy : resourcePolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  if (!embeddable) headers['x-frame-options'] = 'DENY';
  if (isWebApp || graphiql) headers['cross-origin-opener-policy'] = 'same-origin';
  if (options.hsts) headers['strict-transport-security'] = 'max-age=31536000';
  return headers;
}
