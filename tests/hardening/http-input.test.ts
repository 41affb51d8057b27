import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ensureDefaultPage } from '../../server/bootstrap.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestNode, type TestNode } from '../helpers/live.js';

// Malformed requests on every route answer 4xx with a body that names no file and holds no
// stack trace: bad cookies, a NUL in ?page=, Host headers that are not a host.

let database: TestDatabase;
let node: TestNode;

beforeAll(async () => {
  database = await createTestDatabase();
  await ensureDefaultPage(database.db);
  node = await startTestNode(database, { pollMs: 0 });
});
afterAll(async () => {
  await node?.close();
  await database?.destroy();
});

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request exactly as given: Host and every other header verbatim (fetch would refuse some). */
export function rawRequest(port: number, path: string, headers: Record<string, string>, method = 'GET', body?: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, setHost: !('host' in headers) }, (res) => {
      const chunks: Buffer[] = [];
      // An event stream stays open: what it sends in its first 300 ms is enough.
      if (String(res.headers['content-type']).startsWith('text/event-stream')) setTimeout(() => res.destroy(), 300);
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      const done = () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.on('end', done);
      res.on('close', done);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What no answer may ever contain: a stack frame or an absolute path of this machine. */
export function assertNoLeak(body: string): void {
  expect(body).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(body).not.toContain(process.cwd());
  expect(body).not.toMatch(/node_modules|node:internal|\/work\/|file:\/\//);
  expect(body).not.toMatch(/\bselect\b.+\bfrom\b/i);
}

const query = encodeURIComponent('{ status { indicator } }');
const live = encodeURIComponent('subscription { pageEvents { seq } }');
const routes = [`/graphql?query=${query}`, '/badge.svg', '/history.atom'];

describe('bad cookies', () => {
  for (const cookie of ['x=100%', 'statushub_session=%E0%A4%A', 'a=%; statushub_session=%zz', '=%%%']) {
    for (const path of routes) {
      it(`${path} with cookie ${cookie} answers as if the cookie were not there`, async () => {
        // x-statushub-csrf: a GET with a session cookie needs it (tests/hardening/csrf.test.ts).
        const res = await rawRequest(node.port, path, { cookie, 'x-statushub-csrf': '1' });
        expect(res.status).toBe(200);
        assertNoLeak(res.body);
      });
    }
    it(`a JSON POST to /graphql with cookie ${cookie} answers`, async () => {
      const res = await rawRequest(node.port, '/graphql', { cookie, 'content-type': 'application/json' }, 'POST', JSON.stringify({ query: '{ status { indicator } }' }));
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).data.status.indicator).toBe('none');
    });
    it(`an SSE subscription with cookie ${cookie} opens`, async () => {
      const res = await rawRequest(node.port, `/graphql?query=${live}`, { cookie, accept: 'text/event-stream' });
      expect(res.status).toBe(200);
      expect(res.body).not.toContain('errors');
    });
  }
});

describe('?page= that cannot name a page', () => {
  for (const page of ['%00', 'a%00b', '%ED%A0%80', 'x'.repeat(5000)]) {
    it(`/graphql?page=${page.slice(0, 20)} is page/not_found`, async () => {
      const res = await rawRequest(node.port, `/graphql?page=${page}&query=${query}`, {});
      assertNoLeak(res.body);
      expect(res.status).toBeLessThan(500);
      expect(JSON.parse(res.body).errors[0].extensions.code).toBe('page/not_found');
    });
    for (const path of ['/badge.svg', '/history.atom']) {
      it(`${path}?page=${page.slice(0, 20)} is 404`, async () => {
        const res = await rawRequest(node.port, `${path}?page=${page}`, {});
        expect(res.status).toBe(404);
        assertNoLeak(res.body);
      });
    }
    it(`an SSE subscription with ?page=${page.slice(0, 20)} ends with page/not_found`, async () => {
      const res = await rawRequest(node.port, `/graphql?page=${page}&query=${live}`, { accept: 'text/event-stream' });
      assertNoLeak(res.body);
      expect(res.body).toContain('page/not_found');
    });
  }
});

describe('a Host header that is not a host', () => {
  for (const host of ['[', 'a b', 'a/b', '[::1', 'x:99999999', '%']) {
    for (const path of [...routes, '/embed.js', '/healthz', '/', '/assets/none.js']) {
      it(`${path} with Host ${host} is 400`, async () => {
        const res = await rawRequest(node.port, path, { host });
        expect(res.status).toBe(400);
        assertNoLeak(res.body);
      });
    }
    it(`an SSE subscription with Host ${host} is 400`, async () => {
      const res = await rawRequest(node.port, `/graphql?query=${live}`, { host, accept: 'text/event-stream' });
      expect(res.status).toBe(400);
      assertNoLeak(res.body);
    });
  }

  it('a WebSocket upgrade with Host [ does not take the process down', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${node.port}/graphql`, 'graphql-transport-ws', { headers: { host: '[' } });
    const outcome = await new Promise<string>((resolve) => {
      socket.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
      socket.on('error', () => resolve('error'));
      socket.on('close', (code) => resolve(`close ${code}`));
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    });
    expect(outcome).toMatch(/^(http 400|close 4400|close 4403|error)$/);
    const after = await rawRequest(node.port, '/healthz', {});
    expect(after.status).toBe(200);
  });
});

describe('bad cookies on the WebSocket upgrade', () => {
  it('connects and answers as anonymous', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${node.port}/graphql`, 'graphql-transport-ws', { headers: { cookie: 'x=100%; statushub_session=%' } });
    const message = await new Promise<string>((resolve, reject) => {
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
      socket.on('message', (data) => resolve(String(data)));
      socket.on('close', (code) => reject(new Error(`closed ${code}`)));
    });
    socket.close();
    expect(JSON.parse(message).type).toBe('connection_ack');
  });
});

describe('requests the HTTP parser refuses', () => {
  it('a malformed request line is 400 and the server stays up', async () => {
    const { connect } = await import('node:net');
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(node.port, '127.0.0.1', () => socket.write('GET /\u0000 HTTP/1.1\r\nHost: x\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('close', () => resolve(data));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    assertNoLeak(answer);
    expect((await rawRequest(node.port, '/healthz', {})).status).toBe(200);
  });
});
