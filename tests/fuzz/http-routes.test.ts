import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemViewer } from '../../server/auth/viewer.js';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { webDist } from '../../server/http/server.js';
import * as catalog from '../../server/services/catalog.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestNode, type TestNode } from '../helpers/live.js';
import { assertNoLeak, assertTypedErrors, hostileString, runScale, seed } from './hostile.js';
import { queryRows } from '../../server/db/client.js';
import { sql } from 'drizzle-orm';

// Hostile requests over real HTTP, written byte for byte to a socket (so that what Node's own
// client would refuse to send gets sent too): every route, every method, hostile Host headers,
// cookies, credentials, audiences, query strings, content types and bodies. The server answers
// every one below 500, leaks nothing, names a typed code in every GraphQL error, writes nothing,
// and is still up at the end.

let database: TestDatabase;
let node: TestNode;
let cases = 0;
const statuses = new Map<number, number>();

beforeAll(async () => {
  database = await createTestDatabase();
  const { page } = await ensureDefaultPage(database.db);
  await catalog.createDeployment({ db: database.db, viewer: systemViewer(page, 'test') }, { slug: 'eu-1', name: 'EU 1', access: 'protected' });
  node = await startTestNode(database, { pollMs: 0 });
});
afterAll(async () => {
  console.log(`http-routes fuzz: ${cases} requests (seed ${seed}, FUZZ_RUNS=${runScale}); statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
  await node?.close();
  await database?.destroy();
});

async function rowCounts(): Promise<string> {
  const rows = await queryRows<{ t: string }>(
    database.db,
    sql`select table_name as t from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  );
  const counts: string[] = [];
  for (const { t } of rows) {
    const [row] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from ${sql.identifier(t)}`);
    counts.push(`${t}=${row!.n}`);
  }
  return counts.join(' ');
}

/** Every UTF-8 byte percent-encoded (a lone surrogate arrives as the bytes of U+FFFD). */
const percentEncode = (value: string) => [...Buffer.from(value, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

const asset = () => readdirSync(join(webDist, 'assets')).find((f) => f.endsWith('.js'))!;

// Mostly values the HTTP parser lets through (so they reach the routes), some it must refuse.
const hostileHeaderValue = fc.oneof(
  { weight: 4, arbitrary: hostileString.map((s) => Buffer.from(s.slice(0, 2_000), 'utf8').toString('latin1').replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '')) },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', 'a\r\nX-Injected: 1', '\u00ff\u00fe', 'x'.repeat(9_000)) },
);

const request = fc.record({
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'BREW'),
  path: fc.constantFrom('/graphql', '/graphql', '/badge.svg', '/history.atom', '/history.rss', '/api/v2/summary.json', '/d/eu-1/api/v2/incidents.json', '/d/%00/api/v2/status.json', '/api/v2/%zz', '/embed.js', '/healthz', '/readyz', '/', '/internal/components', `/assets/${asset()}`, '/assets/%2e%2e/%2e%2e/package.json', '/assets/%zz', '/metrics', '/subscriptions/confirm', '/subscriptions/manage', '/subscriptions/unsubscribe', '/graphql/', '//graphql', '*', 'http://evil.test/graphql', '/%00', '/d/%ED%A0%80'),
  query: fc.oneof(
    fc.constant(''),
    fc.constantFrom('?token=%00', '?token=x', `?token=${'a'.repeat(64)}`, '?page=%00', '?page=acme', '?page=%zz', '?audience=deployment:%00', '?audience=internal', '?audience=deployment:eu-1', '?access_token=sha_%00', '?access_token=x', '?query=%7B%20status%20%7B%20indicator%20%7D%20%7D', '?query=mutation%7BsignOut%7D', '?query=%7B', '?query=%7Bstatus%7Bindicator%7D%7D&variables=%7Bbad', '?query=%7Bstatus%7Bindicator%7D%7D&variables=%22%5Cu0000%22', `?query=${'%7B'.repeat(3000)}`, '?query=subscription%7BpageEvents%7Bseq%7D%7D', '?a=%&b=%%&c=%F0%9F'),
    fc.tuple(fc.constantFrom('page', 'audience', 'access_token', 'query', 'variables', 'operationName'), hostileString).map(([name, value]) => `?${name}=${percentEncode(value.slice(0, 500))}`),
  ),
  host: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: fc.constantFrom('[', 'a b', '%', 'x:99999999', '[::1', 'a/b', '', 'status.globex.test', 'ACME.example', '\u00e9', 'x'.repeat(300)) }, { weight: 1, arbitrary: hostileHeaderValue }),
  cookie: fc.option(fc.oneof(fc.constantFrom('x=100%', 'statushub_session=%', 'statushub_session=%E0%A4%A', 'statushub_session=sss_forged', '=;=;;', 'a="unterminated', `statushub_session=${'%'.repeat(4000)}`), hostileHeaderValue), { freq: 2, nil: null }),
  accept: fc.option(fc.constantFrom('text/event-stream', 'text/html', 'application/json', '*/*', 'application/graphql-response+json', 'text/event-stream, text/html', '\u0000'), { nil: null }),
  contentType: fc.option(fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'multipart/form-data', 'multipart/form-data; boundary=x', 'text/plain', 'application/graphql', 'application/json; charset=utf-16', 'garbage'), { nil: null }),
  authorization: fc.option(fc.oneof(fc.constantFrom('Bearer ', 'Bearer sha_x', 'Bearer sau_x', 'Basic Zm9vOmJhcg==', 'Bearer \u0000'), hostileHeaderValue), { freq: 3, nil: null }),
  audience: fc.option(fc.oneof(fc.constantFrom('public', 'internal', 'deployment:eu-1', 'deployment:', 'deployment:%00'), hostileHeaderValue), { freq: 3, nil: null }),
  csrf: fc.boolean(),
  origin: fc.option(fc.constantFrom('https://evil.test', 'null', 'http://[', '\u0000'), { freq: 4, nil: null }),
  body: fc.oneof(
    fc.constant(''),
    fc.constantFrom('{', '[]', 'null', '"x"', '{"query":1}', '{"query":"{ status { indicator } }"}', '{"query":"{ status { indicator } }","variables":"\\u0000"}', '{"query":"mutation { createComponentGroup(input: { name: \\"x\\" }) { id } }"}', '{"query":"mutation { signIn(email: \\"a\\u0000@b\\", password: \\"x\\") { id } }"}', '{"query":"query($p: String) { page { name } }","variables":{"p":"\\ud800"}}', 'query=%7Bstatus%7Bindicator%7D%7D', '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{status{indicator}}"}\r\n--x--', `{"query":"${'{'.repeat(5000)}"}`, `{"query":"{ status { indicator } }","extensions":${'['.repeat(2000)}${']'.repeat(2000)}}`),
    hostileString.map((s) => JSON.stringify({ query: s })),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    fc.constant(`{"query":"{ status { indicator } }","pad":"${'x'.repeat(300_000)}"}`),
  ),
});

type HostileRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function toBytes(r: HostileRequest, port: number): Buffer {
  const body = Buffer.from(r.body, 'utf8');
  const lines = [`${r.method} ${r.path}${r.query} HTTP/1.1`];
  lines.push(`Host: ${r.host ?? `127.0.0.1:${port}`}`);
  if (r.cookie !== null) lines.push(`Cookie: ${r.cookie}`);
  if (r.accept !== null) lines.push(`Accept: ${r.accept}`);
  if (r.contentType !== null) lines.push(`Content-Type: ${r.contentType}`);
  if (r.authorization !== null) lines.push(`Authorization: ${r.authorization}`);
  if (r.audience !== null) lines.push(`X-Statushub-Audience: ${r.audience}`);
  if (r.origin !== null) lines.push(`Origin: ${r.origin}`);
  if (r.csrf) lines.push('X-Statushub-Csrf: 1');
  if (body.length || r.method === 'POST') lines.push(`Content-Length: ${body.length}`);
  lines.push('Connection: close', '', '');
  // Header values go out as latin1 bytes: a NUL or a stray CR reaches the server's parser.
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]);
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Send raw bytes, read until the server closes (an event stream: for 300 ms). */
function send(port: number, bytes: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    const timer = setTimeout(() => socket.destroy(), 300);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => {
      // The server may close while the request is still being written (a refused body).
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET' && (error as NodeJS.ErrnoException).code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const end = raw.indexOf('\r\n\r\n');
      const head = raw.slice(0, end < 0 ? raw.length : end).split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      let body = end < 0 ? '' : raw.slice(end + 4);
      if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
      resolve({ status, headers, body });
    });
  });
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return out + rest;
    const size = parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

function graphqlErrors(answer: Answer): { message: string; extensions?: { code?: unknown } }[] {
  const type = answer.headers['content-type'] ?? '';
  if (type.includes('json')) {
    try {
      return (JSON.parse(answer.body) as { errors?: [] }).errors ?? [];
    } catch {
      return [];
    }
  }
  if (type.includes('text/event-stream')) {
    return answer.body
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .flatMap((l) => (JSON.parse(l.slice(6)) as { errors?: [] }).errors ?? []);
  }
  return [];
}

describe('hostile HTTP requests on every route', () => {
  it('never a 500, never a leak, always a typed code, no write, and the server stays up', async () => {
    const before = await rowCounts();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const answer = await send(node.port, toBytes(r, node.port));
        cases++;
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const context = `${r.method} ${r.path}${r.query.slice(0, 100)} ${JSON.stringify({ ...r, body: r.body.slice(0, 200), query: undefined })} → ${answer.status} ${answer.body.slice(0, 300)}`;
        // 0: the server read the request and closed without an answer (HTTP/1.1 lets it, for a
        // request it will not parse); it must still be up, which the next request checks.
        expect(answer.status === 0 || (answer.status >= 100 && answer.status < 500), context).toBe(true);
        assertNoLeak(answer.body, context);
        assertTypedErrors(graphqlErrors(answer), context, true);
      }),
      { seed, numRuns: 300 * runScale, endOnFailure: true },
    );
    expect(await rowCounts()).toBe(before);
    const health = await send(node.port, Buffer.from(`GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`));
    expect(health.status).toBe(200);
  });
});
