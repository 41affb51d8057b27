import { max } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageRow } from '../../server/db/tables/index.js';
import { events } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import * as tokens from '../../server/services/tokens.js';
import type { ServiceContext } from '../../server/services/context.js';
import type { TestDatabase } from '../helpers/database.js';
import { mintAudienceToken, seedTestDatabase, setStatus, startTestNode, systemContext, waitUntil, type Catalog, type TestNode } from '../helpers/live.js';

/**
 * The answer cache (server/http/answer-cache.ts, server/http/graphql-answers.ts) over real HTTP:
 * one answer per audience, never another's, even once the cache is warm for every audience; a
 * change shows in the next answer; validators; nothing a client sends forces a miss.
 */

let database: TestDatabase;
let page: PageRow;
let ids: Catalog;
let admin: string;
let staff: string;
let apToken: string;
let node: TestNode;
let ctx: ServiceContext;

const document = `query CachePage {
  summary { groups { name components { name status } } ungroupedComponents { name status } }
  viewer { audience actorType }
}`;

beforeAll(async () => {
  ({ database, page, ids, admin, staff } = await seedTestDatabase());
  node = await startTestNode(database);
  ctx = systemContext(database, page, node.node.onCommit);
  await catalog.updateComponent(ctx, ids.api, { name: 'MARK-pub API' });
  await catalog.updateComponent(ctx, ids.euApi, { name: 'MARK-eu API' });
  await catalog.updateComponent(ctx, ids.apApi, { name: 'MARK-ap API' });
  await catalog.updateComponent(ctx, ids.db, { name: 'MARK-int DB' });
  apToken = await mintAudienceToken(database.db, page, ids.ap);
  await caughtUp();
});
afterAll(async () => {
  await node?.close();
  await database?.destroy();
});

async function caughtUp(target: TestNode = node): Promise<void> {
  const [row] = await database.db.select({ seq: max(events.seq) }).from(events);
  await waitUntil(() => target.node.live.hub.lastSeq >= (row?.seq ?? 0), 5_000, 'hub caught up');
}

interface Ask {
  token?: string;
  audience?: string;
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  query?: string;
  search?: string;
  at?: TestNode;
}

async function ask({ token, audience, headers = {}, method = 'POST', query = document, search = '', at = node }: Ask = {}) {
  const h: Record<string, string> = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (audience) h['x-statushub-audience'] = audience;
  const response =
    method === 'POST'
      ? await fetch(`${at.url}/graphql${search}`, { method, headers: { 'content-type': 'application/json', ...h }, body: JSON.stringify({ query }) })
      : await fetch(`${at.url}/graphql?query=${encodeURIComponent(query)}${search}`, { headers: h });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const audiences = {
  public: { markers: ['MARK-pub'], hidden: ['MARK-eu', 'MARK-ap', 'MARK-int'], ask: {} },
  'deployment eu-1 (open)': { markers: ['MARK-pub', 'MARK-eu'], hidden: ['MARK-ap', 'MARK-int'], ask: { audience: 'deployment:eu-1' } },
  'deployment ap-1 (token)': { markers: ['MARK-pub', 'MARK-ap'], hidden: ['MARK-eu', 'MARK-int'], ask: { get token() { return apToken; } } },
} as const;

describe('one answer per audience', () => {
  it('public, an open deployment, a token deployment and staff each get their own answer, cold and warm, in any order', async () => {
    const stores = node.node.answers.metrics.stores;
    for (const round of [1, 2, 3]) {
      // Staff first: a cache warmed by staff must not reach anyone else.
      const asStaff = await ask({ token: staff });
      for (const marker of ['MARK-pub', 'MARK-eu', 'MARK-ap', 'MARK-int']) expect(asStaff.text, `staff round ${round}`).toContain(marker);
      for (const [name, a] of Object.entries(audiences)) {
        for (const method of ['POST', 'GET'] as const) {
          const answer = await ask({ ...a.ask, method });
          expect(answer.status, answer.text).toBe(200);
          for (const marker of a.markers) expect(answer.text, `${name} ${method} round ${round}`).toContain(marker);
          for (const marker of a.hidden) expect(answer.text, `${name} ${method} round ${round} leaked`).not.toContain(marker);
        }
      }
    }
    // Three cacheable audiences × two methods (GET and POST share the answer) stored once.
    expect(node.node.answers.metrics.stores - stores).toBe(3);
  });

  it('staff answers are never stored, and a staff cookie-less token asking as public gets the public answer', async () => {
    const stores = node.node.answers.metrics.stores;
    await ask({ token: staff });
    await ask({ token: admin });
    expect(node.node.answers.metrics.stores).toBe(stores);
    const asPublic = await ask({ token: staff, audience: 'public' });
    expect(asPublic.text).toContain('MARK-pub');
    expect(asPublic.text).not.toContain('MARK-int');
    expect(JSON.parse(asPublic.text).data.viewer.actorType).toBe('api_token');
  });

  it('an audience token reading as public is keyed apart from an anonymous reader (viewer.actorType differs)', async () => {
    const anonymous = JSON.parse((await ask()).text);
    const token = JSON.parse((await ask({ token: apToken, audience: 'public' })).text);
    expect(anonymous.data.viewer).toEqual({ audience: 'public', actorType: 'anonymous' });
    expect(token.data.viewer).toEqual({ audience: 'public', actorType: 'audience_token' });
  });
});

describe('invalidation', () => {
  it('a change on the committing node shows in the next answer, for every audience', async () => {
    await ask();
    await ask({ audience: 'deployment:eu-1' });
    await setStatus(node.url, admin, ids.api, 'major_outage');
    await caughtUp();
    expect((await ask()).text).toContain('major_outage');
    expect((await ask({ audience: 'deployment:eu-1' })).text).toContain('major_outage');
    await setStatus(node.url, admin, ids.api, 'operational');
    await caughtUp();
    expect((await ask()).text).not.toContain('major_outage');
  });

  it('a change only staff can see leaves the outside audiences\' answers warm; one they can see, or a visibility change, drops them', async () => {
    const cache = node.node.answers;
    const staffSees = async () => (await ask({ token: staff })).text;
    await ask();
    await ask({ audience: 'deployment:eu-1' });
    // Internal-only: an internal component renamed. Staff see it at once; the cached answers stay.
    const { stores, staffOnlyEvents } = cache.metrics;
    await catalog.updateComponent(ctx, ids.db, { name: 'MARK-int DB renamed' });
    await caughtUp();
    expect(await staffSees()).toContain('MARK-int DB renamed');
    const hits = cache.metrics.hits;
    for (const asking of [{}, { audience: 'deployment:eu-1' }]) expect((await ask(asking)).text).not.toContain('MARK-int');
    expect(cache.metrics.hits - hits).toBe(2);
    expect(cache.metrics.stores).toBe(stores);
    expect(cache.metrics.staffOnlyEvents).toBeGreaterThan(staffOnlyEvents);

    // Made public: after.visibility is public, so every audience's answers go and it shows.
    await catalog.updateComponent(ctx, ids.db, { visibility: 'public' });
    await caughtUp();
    expect((await ask()).text).toContain('MARK-int DB renamed');
    // And internal again: before.visibility was public, so it is gone from the next answer.
    await catalog.updateComponent(ctx, ids.db, { visibility: 'internal', name: 'MARK-int DB' });
    await caughtUp();
    expect((await ask()).text).not.toContain('MARK-int');
    expect((await ask({ audience: 'deployment:eu-1' })).text).not.toContain('MARK-int');
    expect(await staffSees()).toContain('MARK-int DB');
  });

  it('an answer computed before an invalidation is not stored after it (page generation)', async () => {
    const cache = node.node.answers;
    const generation = cache.generation(page.id);
    cache.invalidatePage(page.id);
    const answer = { status: 200, headers: {}, body: Buffer.from('{}'), etag: '"x"' };
    expect(cache.store(page.id, 'stale-key', generation, answer)).toBe(false);
    expect(cache.get(page.id, 'stale-key')).toBeUndefined();
    expect(cache.store(page.id, 'stale-key', cache.generation(page.id), answer)).toBe(true);
  });

  it('a rush right after an event runs the query once: the requests that miss together wait for one execution', async () => {
    const cache = node.node.answers;
    // What one execution of the page query costs in statements, on a cold cache.
    cache.invalidatePage(page.id);
    let before = database.queries.count;
    const single = await ask();
    const perExecution = database.queries.count - before;
    expect(perExecution).toBeGreaterThan(0);

    for (const [who, asking] of [['public', {}], ['deployment eu-1', { audience: 'deployment:eu-1' }], ['API summary', null]] as const) {
      cache.invalidatePage(page.id);
      const { coalesced, stores } = cache.metrics;
      before = database.queries.count;
      const rush = await Promise.all(
        Array.from({ length: 20 }, () =>
          asking === null ? fetch(`${node.url}/api/v2/summary.json`).then(async (r) => ({ status: r.status, text: await r.text() })) : ask(asking),
        ),
      );
      expect(rush.every((r) => r.status === 200), who).toBe(true);
      expect(new Set(rush.map((r) => r.text)).size, who).toBe(1);
      if (asking !== null && Object.keys(asking).length === 0) expect(rush[0]!.text).toBe(single.text);
      expect(cache.metrics.stores - stores, who).toBe(1);
      expect(cache.metrics.coalesced - coalesced, who).toBeGreaterThan(0);
      // One execution's statements (plus the viewer's resolution, remembered after the first).
      expect(database.queries.count - before, who).toBeLessThan(2 * perExecution + 5);
    }
  });

  it.skipIf(!process.env.DATABASE_URL)('a change committed on another node shows on this one (LISTEN/NOTIFY)', async () => {
    const second = await startTestNode(database);
    try {
      const before = await ask({ at: second });
      expect(before.text).not.toContain('major_outage');
      await ask({ at: second }); // warm
      const started = Date.now();
      await setStatus(node.url, admin, ids.web, 'major_outage');
      await waitUntil(async () => (await ask({ at: second })).text.includes('major_outage'), 5_000, 'second node shows the change');
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await setStatus(node.url, admin, ids.web, 'operational');
      await second.close();
    }
  });

  it('a revoked audience token gets its refusal, not the cached answer', async () => {
    const token = await mintAudienceToken(database.db, page, ids.ap);
    const warm = await ask({ token });
    expect(warm.text).toContain('MARK-ap');
    expect((await ask({ token })).text).toContain('MARK-ap');
    const [row] = await database.db.query.audienceTokens.findMany({ where: (t, { eq }) => eq(t.deploymentId, ids.ap), orderBy: (t, { desc }) => desc(t.createdAt), limit: 1 });
    await tokens.revokeAudienceToken(ctx, row!.id);
    await caughtUp();
    const refused = await ask({ token });
    expect(refused.text).not.toContain('MARK-ap');
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('auth/unauthenticated');
    // The deployment's other token still reads it.
    expect((await ask({ token: apToken })).text).toContain('MARK-ap');
  });
});

describe('HTTP caching', () => {
  it('ETag and If-None-Match answer 304; public answers are shareable, deployment answers private; both vary on the audience', async () => {
    const first = await ask({ method: 'GET' });
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect(first.headers.get('cache-control')).toMatch(/^public, .*s-maxage=\d+, stale-while-revalidate=\d+/);
    const vary = first.headers.get('vary')!;
    for (const h of ['Authorization', 'Cookie', 'X-Statushub-Audience', 'X-Statushub-Page']) expect(vary).toContain(h);
    const again = await ask({ method: 'GET', headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    expect((await ask({ method: 'GET', headers: { 'if-none-match': '"other"' } })).status).toBe(200);

    const deployment = await ask({ method: 'GET', audience: 'deployment:eu-1' });
    expect(deployment.headers.get('cache-control')).toMatch(/^private/);
    expect(deployment.headers.get('vary')).toContain('X-Statushub-Audience');
    expect(deployment.headers.get('etag')).not.toBe(etag);
    // The public ETag does not validate the deployment's answer.
    expect((await ask({ method: 'GET', audience: 'deployment:eu-1', headers: { 'if-none-match': etag } })).status).toBe(200);
    const token = await ask({ method: 'GET', token: apToken });
    expect(token.headers.get('cache-control')).toMatch(/^private/);
  });

  it('the badge and the Atom feed are cached with validators too', async () => {
    for (const path of ['/badge.svg', '/history.atom']) {
      const first = await fetch(`${node.url}${path}`);
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag')!;
      expect(etag).toBeTruthy();
      expect(first.headers.get('cache-control')).toMatch(/^public/);
      const again = await fetch(`${node.url}${path}`, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
      const deployment = await fetch(`${node.url}${path}?audience=deployment:eu-1`);
      expect(deployment.headers.get('cache-control')).toMatch(/^private/);
    }
  });

  it('the Statuspage API and RSS go through the cache per audience, keep their CORS, and ignore cache-busting parameters', async () => {
    const cache = node.node.answers.metrics;
    const paths = ['/api/v2/summary.json', '/api/v2/components.json', '/history.rss', '/history.atom'];
    for (const path of paths) await fetch(`${node.url}${path}`).then((r) => r.text());
    const stores = cache.stores;
    for (const path of paths) {
      const busted = await fetch(`${node.url}${path}?x=${Math.random()}`, { headers: { 'cache-control': 'no-cache', origin: 'https://example.org' } });
      const text = await busted.text();
      expect(busted.status).toBe(200);
      if (path.includes('components') || path.includes('summary')) expect(text).toContain('MARK-pub');
      for (const marker of ['MARK-eu', 'MARK-ap', 'MARK-int']) expect(text, `${path} public`).not.toContain(marker);
      expect(text, 'a junk parameter is not echoed into a stored answer').not.toContain('x=');
      if (path.startsWith('/api/')) expect(busted.headers.get('access-control-allow-origin')).toBe('*');
    }
    expect(cache.stores, 'no request re-executed').toBe(stores);
    // A deployment's view by path and by token: its own answer, never the public one or another's.
    const eu = await (await fetch(`${node.url}/d/eu-1/api/v2/components.json`)).text();
    expect(eu).toContain('MARK-eu');
    expect(eu).not.toContain('MARK-ap');
    const ap = await fetch(`${node.url}/api/v2/components.json`, { headers: { authorization: `Bearer ${apToken}` } });
    expect(ap.headers.get('cache-control')).toMatch(/^private/);
    const apText = await ap.text();
    expect(apText).toContain('MARK-ap');
    expect(apText).not.toContain('MARK-eu');
    // Protected without a token: the API's refusal (404), not a cached answer.
    const refused = await fetch(`${node.url}/d/ap-1/api/v2/components.json`);
    expect(refused.status).toBe(404);
    expect(await refused.text()).not.toContain('MARK-ap');
  });

  it('an audience token that expires (no event) stops reading at its expiry, on the GraphQL and the route fast paths', async () => {
    const token = await mintAudienceToken(database.db, page, ids.ap, new Date(Date.now() + 1_500));
    for (let i = 0; i < 2; i++) {
      expect((await ask({ token })).text).toContain('MARK-ap');
      expect(await (await fetch(`${node.url}/api/v2/components.json`, { headers: { authorization: `Bearer ${token}` } })).text()).toContain('MARK-ap');
    }
    await new Promise((resolve) => setTimeout(resolve, 1_700));
    const refused = await ask({ token });
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('auth/unauthenticated');
    const api = await fetch(`${node.url}/api/v2/components.json`, { headers: { authorization: `Bearer ${token}` } });
    expect(api.status).toBe(404);
    expect(await api.text()).not.toContain('MARK-ap');
  });

  it('CORS as yoga sends it: the origin reflected, no credentials', async () => {
    await ask();
    const answer = await ask({ headers: { origin: 'https://example.org' } });
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://example.org');
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    expect(answer.headers.get('vary')).toContain('Origin');
  });
});

describe('nothing a client sends forces a miss or crosses audiences', () => {
  it('no-cache headers, cache-busting parameters, respelled documents and reordered variables are served from the cache', async () => {
    await ask();
    await ask({ method: 'GET' });
    const cache = node.node.answers.metrics;
    const stores = cache.stores;
    const hits = cache.hits;
    const respelled = document.replace(/ /g, '  ').replace(/\n/g, ' , \n');
    const tries: Ask[] = [
      { headers: { 'cache-control': 'no-cache', pragma: 'no-cache' } },
      { method: 'GET', headers: { 'cache-control': 'no-store, max-age=0' } },
      { method: 'GET', search: `&_=${Date.now()}&nocache=1` },
      { search: `?bust=${Math.random()}` },
      { query: respelled },
      { method: 'GET', query: `${respelled}  ` },
      { headers: { accept: 'application/json, */*;q=0.5' } },
    ];
    for (const t of tries) {
      const answer = await ask(t);
      expect(answer.status, JSON.stringify(t)).toBe(200);
      expect(JSON.parse(answer.text).data.viewer.audience).toBe('public');
    }
    expect(cache.stores, 'no request re-executed the query').toBe(stores);
    expect(cache.hits - hits).toBe(tries.length);
  });

  it('an audience header, token or page header never hits another audience\'s answer', async () => {
    await ask();
    for (const a of [{ audience: 'deployment:eu-1' }, { token: apToken }, { audience: 'deployment:us-1' }]) {
      const answer = JSON.parse((await ask(a)).text);
      expect(answer.data.viewer.audience).toMatch(/^deployment:/);
    }
    const refused = await ask({ audience: 'deployment:ap-1' });
    expect(refused.text).not.toContain('MARK-ap');
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('auth/audience_token_required');
    const internal = await ask({ audience: 'internal' });
    expect(internal.text).not.toContain('MARK-int');
    expect(JSON.parse(internal.text).errors[0].extensions.code).toBe('auth/forbidden');
    const bogus = await ask({ token: 'not-a-token' });
    expect(bogus.text).not.toContain('MARK-pub');
  });

  it('a bogus session cookie is resolved (anonymous) and then served the public answer', async () => {
    await ask();
    const hits = node.node.answers.metrics.hits;
    const answer = await ask({ headers: { cookie: 'statushub_session=forged' } });
    expect(JSON.parse(answer.text).data.viewer).toEqual({ audience: 'public', actorType: 'anonymous' });
    expect(node.node.answers.metrics.hits).toBe(hits + 1);
  });

  it('mutations are never served from or stored in the cache', async () => {
    const stores = node.node.answers.metrics.stores;
    const mutation = `mutation { setComponentStatus(id: "${ids.web}", status: degraded_performance) { status } }`;
    const first = await ask({ token: admin, query: mutation });
    expect(first.text).toContain('degraded_performance');
    const anonymous = await ask({ query: mutation });
    expect(JSON.parse(anonymous.text).errors).toBeTruthy();
    expect(node.node.answers.metrics.stores).toBe(stores);
    await setStatus(node.url, admin, ids.web, 'operational');
  });
});

describe('rate limits on cached answers', () => {
  it('anonymous reads per IP and token uses per token are counted on hits too', async () => {
    const tight = await startTestNode(database, { limits: { rates: { anonymousReads: { points: 3, seconds: 60 }, tokenUse: { points: 3, seconds: 60 } } } });
    try {
      const codes: (string | undefined)[] = [];
      let last: Awaited<ReturnType<typeof ask>> | undefined;
      for (let i = 0; i < 5; i++) {
        last = await ask({ at: tight });
        codes.push(JSON.parse(last.text).errors?.[0]?.extensions?.code);
      }
      expect(codes.slice(0, 3)).toEqual([undefined, undefined, undefined]);
      expect(codes.slice(3)).toEqual(['rate/limited', 'rate/limited']);
      // The refusal yoga would send: 429, Retry-After, retryAfter in the error.
      expect(last!.status).toBe(429);
      const retryAfter = Number(last!.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(JSON.parse(last!.text).errors[0].extensions).toEqual({ code: 'rate/limited', retryAfter });
      expect(tight.node.answers.metrics.hits).toBeGreaterThanOrEqual(4);
      // A token's uses are counted per token on hits too.
      const tokenCodes: (string | undefined)[] = [];
      for (let i = 0; i < 5; i++) tokenCodes.push(JSON.parse((await ask({ at: tight, token: apToken })).text).errors?.[0]?.extensions?.code);
      expect(tokenCodes).toEqual([undefined, undefined, undefined, 'rate/limited', 'rate/limited']);
    } finally {
      await tight.close();
    }
  });
});
