/// <reference types="vite/client" />
import { parse, print, type DocumentNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../schema/index.js';
import { defaultLimits } from '../../server/limits/config.js';
import { DocumentLimiter } from '../../server/limits/graphql.js';
import * as catalog from '../../server/services/catalog.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

// GraphQL document limits per caller: the anonymous baseline is GraphQL Armor's defaults,
// staff and API tokens get more room, and every refusal is a typed 400, never a 500.

let hub: TestHub;
let staff: string;

beforeAll(async () => {
  hub = await startTestHub();
  staff = await hub.apiToken(['read:internal']);
  const group = await catalog.createGroup(hub.system, { name: 'Core' });
  await catalog.createComponent(hub.system, { name: 'API', groupId: group.id });
  await catalog.createComponent(hub.system, { name: 'Web', groupId: group.id });
});
afterAll(() => hub.close());

/** `components { group { components { group { … } } } }`, `levels` pairs deep. */
function nested(levels: number): string {
  let inner = 'id name';
  for (let i = 0; i < levels; i++) inner = `id group { id components { ${inner} } }`;
  return `{ components { ${inner} } }`;
}

const aliased = (n: number, field = 'summary { status { indicator } groups { components { uptime(days: 90) { date uptime } } } }') =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

/** GraphQL over HTTP: request errors answer 400 under this media type (200 under application/json). */
const strict = { headers: { accept: 'application/graphql-response+json' } };

function codeOf(result: { errors?: readonly { extensions?: Record<string, unknown> }[] }): unknown {
  return result.errors?.[0]?.extensions?.code;
}

describe('found cases', () => {
  it('anonymous 25-level components/group nesting is refused before it runs (input/too_complex, depth)', async () => {
    const result = await hub.gql(nested(25), {}, strict);
    expect(result.status).toBe(400);
    expect(codeOf(result)).toBe('input/too_complex');
    expect(result.errors![0]!.extensions).toMatchObject({ limit: 'depth', max: 6 });
    expect(result.data).toBeUndefined();
  }, 10_000);

  it('1000 aliases of summary with 90-day uptime are refused, and the answer stays small', async () => {
    const response = await hub.yoga.fetch('http://hub.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: aliased(1000) }),
    });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text.length).toBeLessThan(10_000);
    const body = JSON.parse(text);
    expect(body.errors[0].extensions.code).toBe('input/too_complex');
    expect(body.data).toBeUndefined();
  }, 10_000);
});

describe('anonymous baseline: Armor defaults', () => {
  it('depth 6 passes, 7 is refused', async () => {
    // nested(n) has depth 2n + 2: components → group → components …
    const six = await hub.gql(nested(2));
    expect(six.errors).toBeUndefined();
    const deeper = await hub.gql(`{ components { group { components { group { components { group { id } } } } } } }`);
    expect(codeOf(deeper)).toBe('input/too_complex');
    expect(deeper.errors![0]!.extensions).toMatchObject({ limit: 'depth', found: 7 });
  });

  it('15 aliases pass, 16 are refused', async () => {
    expect((await hub.gql(aliased(15, 'liveCursor'))).errors).toBeUndefined();
    const result = await hub.gql(aliased(16, 'liveCursor'));
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'input/too_complex', limit: 'aliases', max: 15, found: 16 });
  });

  it('more than 1000 tokens are refused', async () => {
    // 334 × `aN: liveCursor` is 1002 tokens (aliases are counted after tokens).
    const result = await hub.gql(aliased(334, 'liveCursor'), {}, strict);
    expect(result.status).toBe(400);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'input/too_complex', limit: 'tokens', max: 1000 });
  });

  it('more than 50 directives are refused', async () => {
    const query = `{ ${Array.from({ length: 51 }, () => '__typename @include(if: true)').join(' ')} }`;
    const result = await hub.gql(query);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'input/too_complex', limit: 'directives', max: 50 });
  });

  it('cost over the limit is refused (a tiny limit makes the case small)', async () => {
    const cheap = await startTestHub({ limits: { anonymous: { cost: 10 } } });
    try {
      expect((await cheap.gql('{ liveCursor }')).errors).toBeUndefined();
      const result = await cheap.gql('{ summary { status { indicator description } groups { name status components { name status } } } }');
      expect(result.errors![0]!.extensions).toMatchObject({ code: 'input/too_complex', limit: 'cost', max: 10 });
    } finally {
      await cheap.close();
    }
  });
});

describe('staff and API tokens get more room', () => {
  it('an API token may nest 12 levels; the same text stays refused for anonymous callers', async () => {
    const query = nested(5);
    const asStaff = await hub.gql(query, {}, { token: staff });
    expect(asStaff.errors).toBeUndefined();
    expect(asStaff.data.components.length).toBeGreaterThan(0);
    // yoga caches parse and validation by text: the limit must still apply per caller.
    const anonymous = await hub.gql(query);
    expect(codeOf(anonymous)).toBe('input/too_complex');
    expect(anonymous.data).toBeUndefined();
  });

  it('an API token may use 60 aliases, not 61', async () => {
    expect((await hub.gql(aliased(60, 'liveCursor'), {}, { token: staff })).errors).toBeUndefined();
    expect(codeOf(await hub.gql(aliased(61, 'liveCursor'), {}, { token: staff }))).toBe('input/too_complex');
  });

  it('the found deep query is refused for staff too', async () => {
    const result = await hub.gql(nested(25), {}, { token: staff });
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'input/too_complex', limit: 'depth', max: 12 });
  });

  it('documents over the staff token bound are refused while they are parsed', async () => {
    const result = await hub.gql(aliased(1334, 'liveCursor'), {}, { token: staff, ...strict });
    expect(result.status).toBe(400);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'input/too_complex', limit: 'tokens', max: 4000 });
  });

  it('an audience token gets the anonymous limits', async () => {
    const eu = await catalog.createDeployment(hub.system, { slug: 'eu-lim', name: 'EU', access: 'protected' });
    const token = await hub.audienceToken(eu.id);
    expect(codeOf(await hub.gql(aliased(16, 'liveCursor'), {}, { token }))).toBe('input/too_complex');
  });
});

describe('introspection and GraphiQL', () => {
  const introspection = '{ __schema { queryType { name } } }';

  it('anonymous introspection answers auth/introspection_disabled; staff introspect', async () => {
    const anonymous = await hub.gql(introspection);
    expect(anonymous.status).toBe(403);
    expect(codeOf(anonymous)).toBe('auth/introspection_disabled');
    expect(anonymous.data).toBeUndefined();
    expect(codeOf(await hub.gql('{ __type(name: "Query") { name } }'))).toBe('auth/introspection_disabled');
    const asStaff = await hub.gql(introspection, {}, { token: staff });
    expect(asStaff.errors).toBeUndefined();
    expect(asStaff.data.__schema.queryType.name).toBe('Query');
  });

  it('__typename stays open to everyone', async () => {
    expect((await hub.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('GRAPHQL_INTROSPECTION=all opens it, off closes it for staff too', async () => {
    const open = await startTestHub({ limits: { introspection: 'all' } });
    const off = await startTestHub({ limits: { introspection: 'off' } });
    try {
      expect((await open.gql(introspection)).data.__schema.queryType.name).toBe('Query');
      const token = await off.apiToken(['read:internal']);
      expect(codeOf(await off.gql(introspection, {}, { token }))).toBe('auth/introspection_disabled');
    } finally {
      await open.close();
      await off.close();
    }
  });

  const graphiql = (headers: Record<string, string> = {}) => hub.yoga.fetch('http://hub.test/graphql', { headers: { accept: 'text/html', ...headers } });

  it('GraphiQL is served to staff, not to anonymous callers', async () => {
    const anonymous = await graphiql();
    expect(await anonymous.text()).not.toContain('GraphiQL');
    const asStaff = await graphiql({ authorization: `Bearer ${staff}` });
    expect(asStaff.status).toBe(200);
    expect(await asStaff.text()).toContain('statushub GraphQL');
  });
});

describe('the web app fits the anonymous limits', () => {
  const modules = import.meta.glob('../../web/src/graphql/*.ts', { eager: true }) as Record<string, Record<string, unknown>>;
  const isDocument = (value: unknown): value is DocumentNode => typeof value === 'object' && value !== null && (value as DocumentNode).kind === 'Document';
  const operations = Object.entries(modules).flatMap(([file, exports]) =>
    Object.entries(exports)
      .filter(([, value]) => isDocument(value) && (value as DocumentNode).definitions.some((d) => d.kind === 'OperationDefinition'))
      .map(([name, value]) => [`${file.split('/').pop()} ${name}`, value as DocumentNode] as const),
  );
  const limiter = new DocumentLimiter(schema, defaultLimits);

  it('finds every operation in web/src/graphql', () => {
    expect(operations.length).toBeGreaterThanOrEqual(60);
  });

  it.each(operations)('%s', (_name, document) => {
    // urql builds its own AST objects: print and parse them as the server would.
    const parsed = limiter.parse(print(document));
    expect(limiter.check(parsed, 'anonymous').map((e) => e.message)).toEqual([]);
  });

  it('measured headroom: the costliest web operation stays under the anonymous cost limit', () => {
    const tight = new DocumentLimiter(schema, { ...defaultLimits, anonymous: { ...defaultLimits.anonymous, cost: 0 } });
    const costs = operations.map(([, d]) => Number(tight.check(parse(print(d)), 'anonymous')[0]?.extensions.found ?? 0));
    expect(Math.max(...costs)).toBeLessThanOrEqual(defaultLimits.anonymous.cost);
  });
});
