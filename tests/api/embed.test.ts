import type { AddressInfo } from 'node:net';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedScript } from '../../server/http/embed.js';
import { createHttpServer } from '../../server/http/server.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

/** GET /embed.js and the cross-origin GraphQL read it relies on. */

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

describe('/embed.js', () => {
  it('is served as JavaScript by the HTTP server', async () => {
    const server = createHttpServer(hub.yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/embed.js`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/javascript/);
      expect(await response.text()).toBe(embedScript);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('is valid, self-contained script that never uses innerHTML and sends no credentials', () => {
    expect(() => new Script(embedScript)).not.toThrow();
    expect(embedScript).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect(embedScript).not.toMatch(/\bimport\b|require\(/);
    expect(embedScript).toContain("credentials: 'omit'");
    expect(embedScript).toContain('textContent');
    expect(embedScript).toContain('attachShadow');
    expect(embedScript).toContain('{ status { indicator description } activeIncidents { id title impact } page { name } }');
  });

  it('the query it sends answers for the public', async () => {
    const { data, errors } = await hub.gql('{ status { indicator description } activeIncidents { id title impact } page { name } }');
    expect(errors).toBeUndefined();
    expect(data.status.indicator).toBe('none');
  });
});

describe('CORS on /graphql', () => {
  it('a preflight from any origin is allowed, without credentials', async () => {
    const response = await hub.yoga.fetch('http://hub.test/graphql', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://customer.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-statushub-audience',
      },
    });
    expect(response.status).toBeLessThan(300);
    expect(['*', 'https://customer.example']).toContain(response.headers.get('access-control-allow-origin'));
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-statushub-audience');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('a cross-origin POST is answered without allowing credentials', async () => {
    const response = await hub.yoga.fetch('http://hub.test/graphql', {
      method: 'POST',
      headers: { origin: 'https://customer.example', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ status { indicator } }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeTruthy();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });
});
