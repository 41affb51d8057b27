import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, loadLimits } from '../../server/config.js';
import { clientIp } from '../../server/limits/client-ip.js';
import { defaultLimits, limitsFromEnv, resolveLimits } from '../../server/limits/config.js';
import { RateLimitedError, RateLimits } from '../../server/limits/rate.js';
import * as staff from '../../server/services/staff.js';
import { sleep } from '../helpers/live.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

// Rate limits answer HTTP 429 with Retry-After and `rate/limited` (retryAfter in seconds).
// Tiny limits through HubOptions keep every case quick; X-Forwarded-For names the client only
// because these hubs trust one proxy hop.

const password = 'correct horse battery';
const signIn = `mutation ($email: String!, $password: String!) { signIn(email: $email, password: $password) { id } }`;
const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

function expectLimited(result: { status: number; headers: Headers; errors?: readonly { extensions?: Record<string, unknown> }[] }): number {
  expect(result.status).toBe(429);
  const retryAfter = Number(result.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(result.errors![0]!.extensions).toMatchObject({ code: 'rate/limited', retryAfter });
  return retryAfter;
}

describe('anonymous reads, tokens and writes', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({
      limits: {
        trustProxy: 1,
        rates: { ...defaultLimits.rates, anonymousReads: { points: 3, seconds: 60 }, tokenUse: { points: 2, seconds: 60 }, writes: { points: 2, seconds: 60 } },
      },
    });
  });
  afterAll(() => hub.close());

  it('anonymous reads are counted per client IP: the 4th answers 429, another IP is unaffected', async () => {
    for (let i = 0; i < 3; i++) expect((await hub.gql('{ liveCursor }', {}, from('198.51.100.1'))).errors).toBeUndefined();
    const limited = await hub.gql('{ liveCursor }', {}, from('198.51.100.1'));
    expect(expectLimited(limited)).toBeLessThanOrEqual(60);
    expect(limited.data).toBeUndefined();
    expect((await hub.gql('{ liveCursor }', {}, from('198.51.100.2'))).errors).toBeUndefined();
  });

  it('each token is counted on its own', async () => {
    const a = await hub.apiToken(['read:internal']);
    const b = await hub.apiToken(['read:internal']);
    for (let i = 0; i < 2; i++) expect((await hub.gql('{ liveCursor }', {}, { token: a, ...from('198.51.100.3') })).errors).toBeUndefined();
    expectLimited(await hub.gql('{ liveCursor }', {}, { token: a, ...from('198.51.100.4') }));
    expect((await hub.gql('{ liveCursor }', {}, { token: b, ...from('198.51.100.3') })).errors).toBeUndefined();
  });

  it('writes are counted per actor, and a refused write changes nothing', async () => {
    const writes = await startTestHub({ limits: { rates: { ...defaultLimits.rates, writes: { points: 2, seconds: 60 } } } });
    try {
      const admin = await writes.apiToken(['admin']);
      const other = await writes.apiToken(['admin']);
      const create = `mutation ($name: String!) { createComponentGroup(input: { name: $name }) { id } }`;
      expect((await writes.gql(create, { name: 'one' }, { token: admin })).errors).toBeUndefined();
      expect((await writes.gql(create, { name: 'two' }, { token: admin })).errors).toBeUndefined();
      const before = await writes.snapshotCounts();
      expectLimited(await writes.gql(create, { name: 'three' }, { token: admin }));
      expect(await writes.snapshotCounts()).toEqual(before);
      // Reads by the same token still pass; another actor may write.
      expect((await writes.gql('{ liveCursor }', {}, { token: admin })).errors).toBeUndefined();
      expect((await writes.gql(create, { name: 'other' }, { token: other })).errors).toBeUndefined();
    } finally {
      await writes.close();
    }
  });
});

describe('without TRUST_PROXY', () => {
  it('X-Forwarded-For is ignored: a new header value is not a new client', async () => {
    const hub = await startTestHub({ limits: { rates: { ...defaultLimits.rates, anonymousReads: { points: 2, seconds: 60 } } } });
    try {
      expect((await hub.gql('{ liveCursor }', {}, from('203.0.113.1'))).errors).toBeUndefined();
      expect((await hub.gql('{ liveCursor }', {}, from('203.0.113.2'))).errors).toBeUndefined();
      expectLimited(await hub.gql('{ liveCursor }', {}, from('203.0.113.3')));
    } finally {
      await hub.close();
    }
  });
});

describe('sign-in lock-out', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({
      limits: {
        trustProxy: 1,
        rates: { ...defaultLimits.rates, signInAccount: { failures: 2, baseSeconds: 1, maxSeconds: 4 }, signInIp: { failures: 4, baseSeconds: 30, maxSeconds: 60 } },
      },
    });
    await staff.createUser(hub.system, { email: 'ada@example.com', name: 'Ada', role: 'admin', password });
    await staff.createUser(hub.system, { email: 'bob@example.com', name: 'Bob', role: 'viewer', password });
  });
  afterAll(() => hub.close());

  const attempt = (email: string, pw: string, ip: string) => hub.gql(signIn, { email, password: pw }, from(ip));
  const code = (r: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => r.errors?.[0]?.extensions?.code;

  it('per account: consecutive failures lock it, each further failure doubles the lock, a success clears it', async () => {
    expect(code(await attempt('ada@example.com', 'wrong password 1', '192.0.2.1'))).toBe('auth/invalid_credentials');
    expect(code(await attempt('ada@example.com', 'wrong password 2', '192.0.2.2'))).toBe('auth/invalid_credentials');
    // Locked for 1 s, whatever the IP, even with the right password.
    expect(expectLimited(await attempt('Ada@Example.com', password, '192.0.2.3'))).toBe(1);
    await sleep(1_100);
    expect(code(await attempt('ada@example.com', 'wrong password 3', '192.0.2.3'))).toBe('auth/invalid_credentials');
    // The next lock is twice as long.
    expect(expectLimited(await attempt('ada@example.com', password, '192.0.2.3'))).toBe(2);
    // Another account is not affected.
    expect((await attempt('bob@example.com', password, '192.0.2.3')).data.signIn.id).toEqual(expect.any(String));
    await sleep(2_100);
    expect((await attempt('ada@example.com', password, '192.0.2.3')).data.signIn.id).toEqual(expect.any(String));
    // The success forgot the failures: one wrong password is just a wrong password again.
    expect(code(await attempt('ada@example.com', 'wrong password 4', '192.0.2.3'))).toBe('auth/invalid_credentials');
    expect((await attempt('ada@example.com', password, '192.0.2.3')).data.signIn.id).toEqual(expect.any(String));
  }, 15_000);

  it('per IP: failures on many accounts lock the IP out; another IP may still sign in', async () => {
    for (let i = 0; i < 4; i++) expect(code(await attempt(`nobody${i}@example.com`, 'guess', '192.0.2.50'))).toBe('auth/invalid_credentials');
    expect(expectLimited(await attempt('bob@example.com', password, '192.0.2.50'))).toBeGreaterThan(1);
    expect((await attempt('bob@example.com', password, '192.0.2.51')).data.signIn.id).toEqual(expect.any(String));
  });

  it('parallel guesses cannot pass the threshold together', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => attempt('carol@example.com', `guess ${i}`, `192.0.2.${100 + i}`)));
    const checked = results.filter((r) => code(r) === 'auth/invalid_credentials').length;
    expect(checked).toBeLessThanOrEqual(2);
    expect(results.filter((r) => code(r) === 'rate/limited').length).toBe(8 - checked);
  });

  it('one signIn per request: aliases cannot multiply the guesses', async () => {
    const two = `mutation { a: signIn(email: "dan@example.com", password: "x1") { id } b: signIn(email: "dan@example.com", password: "x2") { id } }`;
    const result = await hub.gql(two, {}, from('192.0.2.200'));
    expect(code(result)).toBe('input/invalid');
    expect(result.data).toBeUndefined();
  });
});

describe('shared stores', () => {
  it.skipIf(!process.env.DATABASE_URL)('PostgreSQL: two nodes share one count', async () => {
    const { createTestDatabase } = await import('../helpers/database.js');
    const database = await createTestDatabase();
    const limits = resolveLimits({ rates: { ...defaultLimits.rates, store: 'postgres', anonymousReads: { points: 2, seconds: 60 } } });
    const rates = limits.rates;
    const a = await RateLimits.create({ ...limits, rates: { ...rates, tokenUse: { points: 2, seconds: 60 } } }, { store: 'postgres', sql: database.sql });
    const b = await RateLimits.create({ ...limits, rates: { ...rates, tokenUse: { points: 2, seconds: 60 } } }, { store: 'postgres', sql: database.sql });
    try {
      await a.tokenUse('t1');
      await b.tokenUse('t1');
      await expect(a.tokenUse('t1')).rejects.toBeInstanceOf(RateLimitedError);
      await expect(b.tokenUse('t1')).rejects.toBeInstanceOf(RateLimitedError);
      await b.tokenUse('t2');
    } finally {
      await a.close();
      await b.close();
      await database.destroy();
    }
  });

  it.skipIf(!process.env.REDIS_URL)('Redis: two nodes share one count', async () => {
    const limits = resolveLimits({ rates: { ...defaultLimits.rates, store: 'redis', writes: { points: 1, seconds: 60 } } });
    const a = await RateLimits.create(limits, { store: 'redis', redisUrl: process.env.REDIS_URL });
    const b = await RateLimits.create(limits, { store: 'redis', redisUrl: process.env.REDIS_URL });
    const key = `test:${Math.random()}`;
    try {
      await a.write(key);
      await expect(b.write(key)).rejects.toBeInstanceOf(RateLimitedError);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('configuration', () => {
  it('client IP: the socket address unless TRUST_PROXY; then the hop it names', () => {
    expect(clientIp('::ffff:10.0.0.9', '1.1.1.1', false)).toBe('10.0.0.9');
    expect(clientIp('10.0.0.9', 'spoofed, 1.1.1.1', 1)).toBe('1.1.1.1');
    expect(clientIp('10.0.0.9', '1.1.1.1, 2.2.2.2', 2)).toBe('1.1.1.1');
    expect(clientIp('10.0.0.9', '1.1.1.1, 2.2.2.2', true)).toBe('1.1.1.1');
    expect(clientIp('10.0.0.9', 'not an ip', 1)).toBe('10.0.0.9');
    expect(clientIp(undefined, null, false)).toBe('unknown');
  });

  it('every limit has an environment variable', () => {
    const override = limitsFromEnv({
      GRAPHQL_LIMITS: 'depth:5, aliases:10',
      GRAPHQL_STAFF_LIMITS: 'cost:9000',
      MAX_BODY_BYTES: '2048',
      WS_MAX_SUBSCRIPTIONS: '7',
      SSE_MAX_STREAMS_PER_CLIENT: '3',
      GRAPHQL_INTROSPECTION: 'off',
      GRAPHIQL: 'all',
      TRUST_PROXY: '2',
      RATE_LIMIT_STORE: 'memory',
      RATE_LIMIT_READS: '100/10',
      RATE_LIMIT_TOKEN: '50/10',
      RATE_LIMIT_WRITES: '5/60',
      RATE_LIMIT_SUBSCRIPTIONS: '9/60',
      SIGNIN_LOCKOUT_ACCOUNT: '3/10/600',
      SIGNIN_LOCKOUT_IP: '30/60/1800',
    });
    const limits = resolveLimits(override);
    expect(limits.anonymous).toEqual({ ...defaultLimits.anonymous, depth: 5, aliases: 10 });
    expect(limits.staff).toEqual({ ...defaultLimits.staff, cost: 9000 });
    expect(limits).toMatchObject({ maxBodyBytes: 2048, wsSubscriptionsPerSocket: 7, sseStreamsPerClient: 3, introspection: 'off', graphiql: 'all', trustProxy: 2 });
    expect(limits.rates).toEqual({
      store: 'memory',
      anonymousReads: { points: 100, seconds: 10 },
      tokenUse: { points: 50, seconds: 10 },
      writes: { points: 5, seconds: 60 },
      subscriptions: { points: 9, seconds: 60 },
      signInAccount: { failures: 3, baseSeconds: 10, maxSeconds: 600 },
      signInIp: { failures: 30, baseSeconds: 60, maxSeconds: 1800 },
    });
    expect(() => limitsFromEnv({ GRAPHQL_LIMITS: 'height:3' })).toThrow(/GRAPHQL_LIMITS/);
    expect(() => limitsFromEnv({ RATE_LIMIT_READS: 'many' })).toThrow(/RATE_LIMIT_READS/);
  });

  it('the store follows the deployment: Redis, else PostgreSQL, else memory', () => {
    expect(loadLimits(loadConfig({}), {}).rates?.store).toBe('memory');
    expect(loadLimits(loadConfig({ DATABASE_URL: 'postgres://x' }), {}).rates?.store).toBe('postgres');
    expect(loadLimits(loadConfig({ DATABASE_URL: 'postgres://x', REDIS_URL: 'redis://x' }), {}).rates?.store).toBe('redis');
    expect(loadLimits(loadConfig({ REDIS_URL: 'redis://x' }), { RATE_LIMIT_STORE: 'memory' }).rates?.store).toBe('memory');
  });
});
