import { createClient } from 'graphql-ws';
import type { ExecutionResult } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { TestDatabase } from '../helpers/database.js';
import { startLiveFixture, stopLiveFixture, Subscriptions, type Catalog, type TestNode } from '../helpers/live.js';

/**
 * Queries and mutations sent over the WebSocket are answered by yoga with the connection's
 * credentials, so they get exactly what HTTP requests get: argument checks, document limits,
 * rate limits, permission checks and error masking.
 */

let database: TestDatabase;
let node: TestNode;
let ids: Catalog;
let admin: string;
const subs = new Subscriptions();

beforeAll(async () => {
  ({ database, node, ids, admin } = await startLiveFixture());
});
afterAll(() => stopLiveFixture({ node, database }, subs));

async function overWs(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<ExecutionResult> {
  const client = createClient({ url: node.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: token ? { authorization: `Bearer ${token}` } : {} });
  try {
    const results: ExecutionResult[] = [];
    await new Promise<void>((resolve, reject) => {
      client.subscribe({ query, variables }, { next: (r) => results.push(r as ExecutionResult), error: (e) => (Array.isArray(e) ? (results.push({ errors: e }), resolve()) : reject(e)), complete: resolve });
    });
    return results[0]!;
  } finally {
    await client.dispose();
  }
}

describe('queries and mutations over graphql-ws', () => {
  it('a query answers as it does over HTTP, for the connection\'s audience', async () => {
    const anonymous = await overWs(`{ components { name } }`);
    const names = (anonymous.data as { components: { name: string }[] }).components.map((c) => c.name);
    expect(names).toContain('API');
    expect(names).not.toContain('Primary DB');
    const staff = await overWs(`{ components { name } }`, {}, admin);
    expect((staff.data as { components: { name: string }[] }).components.map((c) => c.name)).toContain('Primary DB');
  });

  it('a NUL in an argument is input/invalid, not a masked or raw database error', async () => {
    const result = await overWs(`mutation ($name: String!) { createComponent(input: { name: $name }) { id } }`, { name: 'bad\u0000name' }, admin);
    expect(result.errors?.[0]?.extensions?.code).toBe('input/invalid');
    expect(JSON.stringify(result)).not.toMatch(/invalid byte sequence|0x00|at .*\.ts/);
  });

  it('an anonymous mutation is refused, a staff one runs', async () => {
    const refused = await overWs(`mutation ($id: ID!) { setComponentStatus(id: $id, status: major_outage) { status } }`, { id: ids.api });
    expect(refused.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const done = await overWs(`mutation ($id: ID!) { setComponentStatus(id: $id, status: operational) { status } }`, { id: ids.api }, admin);
    expect(done.data).toEqual({ setComponentStatus: { status: 'operational' } });
  });

  it('an anonymous document over the depth limit is input/too_complex', async () => {
    const deep = `{ components { group { components { group { components { group { components { name } } } } } } } }`;
    const result = await overWs(deep);
    expect(result.errors?.[0]?.extensions?.code).toBe('input/too_complex');
  });
});
