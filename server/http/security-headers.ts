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

/**
 * What kind of response a route sends, for its policy: `page` (the web app and its files),
 * `resource` (JSON, feeds, health, metrics: nothing to run), `embeddable` (the badge and the embed
 * script, framed by other sites), `graphiql` (yoga's page).
 */
export type ResponseKind = 'page' | 'resource' | 'embeddable' | 'graphiql';

const made = new Map<string, Readonly<Record<string, string>>>();

/** The headers for one kind of response; made once per kind and reused for every request. */
export function securityHeaders(kind: ResponseKind, options: SecurityOptions = {}): Readonly<Record<string, string>> {
  const key = `${kind}:${options.hsts ? 1 : 0}`;
  const known = made.get(key);
  if (known) return known;
  const headers: Record<string, string> = {
    'content-security-policy': { page: appPolicy, resource: resourcePolicy, embeddable: embeddablePolicy, graphiql: graphiqlPolicy }[kind],
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  if (kind !== 'embeddable') headers['x-frame-options'] = 'DENY';
  if (kind === 'page' || kind === 'graphiql') headers['cross-origin-opener-policy'] = 'same-origin';
  if (options.hsts) headers['strict-transport-security'] = 'max-age=31536000';
  made.set(key, Object.freeze(headers));
  return made.get(key)!;
}
