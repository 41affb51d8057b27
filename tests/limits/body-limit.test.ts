import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTestDatabase, startTestNode, type SeededDatabase, type TestNode } from '../helpers/live.js';

// /graphql takes at most 1 MiB of body: a larger one answers 413 with a typed JSON error and is
// never read to the end, let alone parsed.

let seeded: SeededDatabase;
let node: TestNode;

beforeAll(async () => {
  seeded = await seedTestDatabase();
  node = await startTestNode(seeded.database);
});
afterAll(async () => {
  await node?.close();
  await seeded?.database.destroy();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * POST to /graphql, writing `first` and then holding the request open (never ending it) unless
 * `end`: an answer that arrives anyway was given without reading the rest of the body.
 */
function post(headers: Record<string, string>, first: Buffer, end: boolean, rest: Buffer[] = []): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${node.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode!, headers: res.headers, body });
        req.destroy();
      });
    });
    req.on('error', (error) => {
      // The server may close the connection while a large body is still being written.
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET' && (error as NodeJS.ErrnoException).code !== 'EPIPE') reject(error);
    });
    req.write(first);
    for (const chunk of rest) req.write(chunk);
    if (end) req.end();
  });
}

describe('request body limit', () => {
  it('a declared 10 MB body answers 413 input/too_large before the body is sent', async () => {
    const answer = await post({ 'content-length': String(10 * 1024 * 1024) }, Buffer.from('{"query":"'), false);
    expect(answer.status).toBe(413);
    expect(answer.headers['content-type']).toContain('application/json');
    const body = JSON.parse(answer.body);
    expect(body.errors[0].extensions).toMatchObject({ code: 'input/too_large', max: 1024 * 1024 });
  });

  it('a chunked body (no Content-Length) is counted as it arrives and refused past 1 MiB', async () => {
    const chunk = Buffer.alloc(256 * 1024, 'a');
    // 5 × 256 KiB, without ending the request: the answer comes once the limit is passed.
    const answer = await post({ 'transfer-encoding': 'chunked' }, Buffer.from('{"query":"{ liveCursor }","x":"'), false, [chunk, chunk, chunk, chunk, chunk]);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('input/too_large');
  });

  it('a body within the limit is served as usual', async () => {
    const padding = 'x'.repeat(900 * 1024);
    const payload = Buffer.from(JSON.stringify({ query: '{ liveCursor }', extensions: { padding } }));
    const answer = await post({ 'content-length': String(payload.length) }, payload, true);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).data.liveCursor).toEqual(expect.any(Number));
  });

  it('the limit is configurable (MAX_BODY_BYTES / limits.maxBodyBytes)', async () => {
    const small = await startTestNode(seeded.database, { limits: { maxBodyBytes: 64 } });
    try {
      const payload = Buffer.from(JSON.stringify({ query: '{ liveCursor }', variables: { pad: 'y'.repeat(100) } }));
      const response = await fetch(`${small.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
      expect(response.status).toBe(413);
      expect((await response.json()).errors[0].extensions.code).toBe('input/too_large');
    } finally {
      await small.close();
    }
  });
});
