import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as staff from '../../server/services/staff.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

// A request carrying the session cookie runs only when a browser would have asked first (a
// preflight): a JSON body or the x-statushub-csrf header. A form post from another site
// carries the cookie too (SameSite=Lax lets top-level POST navigations from the same site, and
// every sibling subdomain is "same site"), and must run nothing. Tools without a cookie are
// unaffected, except that nobody can run a mutation with a form post.

let hub: TestHub;
let cookie: string;
const password = 'correct horse battery';
const mutation = 'mutation { createComponentGroup(input: { name: "csrf" }) { id } }';

beforeAll(async () => {
  hub = await startTestHub();
  await staff.createUser(hub.system, { email: 'ada@example.com', name: 'Ada', role: 'admin', password });
  const res = await hub.gql(`mutation { signIn(email: "ada@example.com", password: "${password}") { id } }`);
  cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
});
afterAll(() => hub.close());

async function send(init: RequestInit & { path?: string }) {
  const before = await hub.snapshotCounts();
  const res = await hub.yoga.fetch(`http://hub.test${init.path ?? '/graphql'}`, init);
  const text = await res.text();
  return { status: res.status, body: text, json: text.startsWith('{') ? JSON.parse(text) : null, changed: JSON.stringify(await hub.snapshotCounts()) !== JSON.stringify(before) };
}

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.set(k, v);
  return data;
}

describe('simple requests with the session cookie are refused', () => {
  const cases: [string, () => RequestInit][] = [
    ['a form-urlencoded POST', () => ({ method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: mutation }).toString() })],
    ['a multipart POST', () => ({ method: 'POST', headers: { cookie }, body: form({ operations: JSON.stringify({ query: mutation }), map: '{}' }) })],
    ['a text/plain POST', () => ({ method: 'POST', headers: { cookie, 'content-type': 'text/plain' }, body: JSON.stringify({ query: mutation }) })],
    ['a POST without a content type', () => ({ method: 'POST', headers: { cookie }, body: JSON.stringify({ query: mutation }) })],
  ];
  for (const [label, init] of cases) {
    it(`${label} runs nothing and answers auth/csrf_header_required`, async () => {
      const res = await send(init());
      expect(res.changed).toBe(false);
      expect(res.status).toBe(403);
      expect(res.json.errors[0].extensions.code).toBe('auth/csrf_header_required');
    });
  }

  it('a GET with the cookie and no header is refused', async () => {
    const res = await send({ method: 'GET', headers: { cookie }, path: `/graphql?query=${encodeURIComponent('{ users { email } }')}` });
    expect(res.status).toBe(403);
    expect(res.body).not.toContain('ada@example.com');
  });

  it('a form post that signs in (login CSRF) is refused even without a cookie', async () => {
    const res = await send({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: `mutation { signIn(email: "ada@example.com", password: "${password}") { id } }` }).toString(),
    });
    expect(res.status).toBe(403);
    expect(res.changed).toBe(false);
  });
});

describe('the twins: what a browser preflights, and tools, still work', () => {
  it('a JSON POST with the cookie (the web app) runs the mutation', async () => {
    const res = await send({ method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ query: mutation }) });
    expect(res.json.errors).toBeUndefined();
    expect(res.changed).toBe(true);
  });
  it('a GET with the cookie and x-statushub-csrf answers', async () => {
    const res = await send({ method: 'GET', headers: { cookie, 'x-statushub-csrf': '1' }, path: `/graphql?query=${encodeURIComponent('{ users { email } }')}` });
    expect(res.status).toBe(200);
    expect(res.body).toContain('ada@example.com');
  });
  it('a GET with the cookie and a JSON content type (curl -H) answers', async () => {
    const res = await send({ method: 'GET', headers: { cookie, 'content-type': 'application/json' }, path: `/graphql?query=${encodeURIComponent('{ users { email } }')}` });
    expect(res.status).toBe(200);
  });
  it('an anonymous GET without any header (a plain curl or a link) answers', async () => {
    const res = await send({ method: 'GET', path: `/graphql?query=${encodeURIComponent('{ status { indicator } }')}` });
    expect(res.status).toBe(200);
    expect(res.json.data.status.indicator).toBe('none');
  });
  it('a token-authenticated JSON POST runs a mutation', async () => {
    const token = await hub.apiToken(['write:components']);
    const res = await send({ method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: 'mutation { createComponentGroup(input: { name: "by token" }) { id } }' }) });
    expect(res.json.errors).toBeUndefined();
    expect(res.changed).toBe(true);
  });
});
