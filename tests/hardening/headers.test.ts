import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { webDist } from '../../server/http/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestNode, type TestNode } from '../helpers/live.js';

// Every route answers with the security headers; the web app's policy allows no inline script
// or style, and only the badge and the embed script may be framed or embedded elsewhere.

let database: TestDatabase;
let node: TestNode;
let secure: TestNode;

beforeAll(async () => {
  database = await createTestDatabase();
  await ensureDefaultPage(database.db);
  node = await startTestNode(database, { pollMs: 0 });
  secure = await startTestNode(database, { pollMs: 0, cookieSecure: true });
});
afterAll(async () => {
  await node?.close();
  await secure?.close();
  await database?.destroy();
});

const asset = () => readdirSync(join(webDist, 'assets')).find((f) => f.endsWith('.js'))!;
const graphqlPost = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ status { indicator } }' }) };

function routes(): [string, string, RequestInit?][] {
  return [
    ['web app', '/'],
    ['client-side route', '/internal/components'],
    ['hashed asset', `/assets/${asset()}`],
    ['missing asset', '/assets/none.js'],
    ['GraphQL POST', '/graphql', graphqlPost],
    ['GraphQL GET', `/graphql?query=${encodeURIComponent('{ status { indicator } }')}`],
    ['GraphQL error', '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }],
    ['feed', '/history.atom'],
    ['RSS feed', '/history.rss'],
    ['Statuspage API', '/api/v2/summary.json'],
    ['deployment API', '/d/eu-1/api/v2/status.json'],
    ['unknown API path', '/api/v2/%zz'],
    ['unknown path', '/wp-login.php'],
    ['health', '/healthz'],
    ['readiness', '/readyz'],
    ['badge', '/badge.svg'],
    ['embed', '/embed.js'],
    ['subscription link', '/subscriptions/manage?token=shm_unknown'],
    ['one-click unsubscribe', '/subscriptions/unsubscribe?token=shm_unknown', { method: 'POST' }],
  ];
}

function directives(policy: string | null): Map<string, string> {
  return new Map((policy ?? '').split(';').map((d) => d.trim()).filter(Boolean).map((d) => [d.split(/\s+/)[0]!, d.slice(d.indexOf(' ') + 1)]));
}

describe('on every route', () => {
  for (const [label, path, init] of routes()) {
    it(`${label} (${path.slice(0, 30)}) has nosniff, a referrer policy and a CSP; framing only for the badge and embed`, async () => {
      const res = await fetch(`${node.url}${path}`, init);
      await res.arrayBuffer();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      const csp = directives(res.headers.get('content-security-policy'));
      expect(csp.size).toBeGreaterThan(0);
      expect(res.headers.get('strict-transport-security')).toBeNull();
      if (path === '/badge.svg' || path === '/embed.js') {
        expect(csp.has('frame-ancestors')).toBe(false);
        expect(res.headers.get('x-frame-options')).toBeNull();
      } else {
        expect(csp.get('frame-ancestors')).toBe("'none'");
        expect(res.headers.get('x-frame-options')).toBe('DENY');
      }
    });
  }

  it('HSTS is sent on every route when COOKIE_SECURE=true', async () => {
    for (const [, path, init] of routes()) {
      const res = await fetch(`${secure.url}${path}`, init);
      await res.arrayBuffer();
      expect(res.headers.get('strict-transport-security'), path).toMatch(/^max-age=\d{7,}/);
    }
  });
});

describe('the web app', () => {
  it('runs under a policy without inline script or style', async () => {
    const res = await fetch(`${node.url}/`);
    const csp = directives(res.headers.get('content-security-policy'));
    expect(csp.get('script-src')).toBe("'self'");
    expect(csp.get('style-src')).toBe("'self'");
    expect(csp.get('object-src')).toBe("'none'");
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe-');
  });

  it('ships no inline script, style element or style attribute in index.html', () => {
    const html = readFileSync(join(webDist, 'index.html'), 'utf8');
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\bsrc=/);
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/);
  });

  it('data routes (API, feeds, health) are not pages: default-src none, no opener policy', async () => {
    for (const path of ['/api/v2/summary.json', '/d/eu-1/api/v2/status.json', '/history.atom', '/history.rss', '/healthz', '/readyz']) {
      const res = await fetch(`${node.url}${path}`);
      await res.arrayBuffer();
      expect(directives(res.headers.get('content-security-policy')).get('default-src'), path).toBe("'none'");
      expect(res.headers.get('cross-origin-opener-policy'), path).toBeNull();
    }
  });

  it('GraphQL answers are data: default-src none', async () => {
    const res = await fetch(`${node.url}/graphql`, graphqlPost);
    expect(directives(res.headers.get('content-security-policy')).get('default-src')).toBe("'none'");
  });

  it('GraphiQL, where it is served, gets its own policy for its inline script and CDN assets', async () => {
    const res = await fetch(`${node.url}/graphql`, { headers: { accept: 'text/html' } });
    const body = await res.text();
    if (!res.headers.get('content-type')?.includes('text/html')) return; // not offered to this caller
    const csp = directives(res.headers.get('content-security-policy'));
    expect(csp.get('script-src')).toContain('https://unpkg.com');
    expect(body).toContain('unpkg.com');
    expect(csp.get('frame-ancestors')).toBe("'none'");
  });
});
