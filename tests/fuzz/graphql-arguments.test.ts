import fc from 'fast-check';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../schema/index.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import * as staff from '../../server/services/staff.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { assertNoLeak, assertTypedErrors, hostileDate, hostileFloat, hostileInt, hostileString, malformedId, runScale, seed, wrongType } from './hostile.js';

// Every argument of every Query and Mutation field, generated from the schema: hostile values
// (NUL, huge, unpaired surrogates, RTL, zero-width, emoji, wrong types, boundary dates and ints,
// malformed and foreign ids, empty lists, input objects with hostile fields), as an admin token
// and as an anonymous caller. Never a 500, never a leak, always a typed error, and a rejected
// mutation changes no row.

let hub: TestHub;
const idPool: string[] = [];
let cases = 0;
/** How the requests were answered: proof the fuzz reaches the services, not only the front door. */
const outcomes = new Map<string, number>();

beforeAll(async () => {
  hub = await startTestHub();
  const s = hub.system;
  const deployment = await catalog.createDeployment(s, { slug: 'eu-1', name: 'EU 1', access: 'protected' });
  const group = await catalog.createGroup(s, { name: 'Core', deploymentId: deployment.id });
  const component = await catalog.createComponent(s, { name: 'API', groupId: group.id });
  const incident = await incidents.createIncident(s, { title: 'Outage', message: 'Looking', components: [{ componentId: component.id, status: 'major_outage' }] });
  // Not the caller: updateUser/deleteUser on it may succeed without ending the fuzzing session.
  const user = await staff.createUser(s, { email: 'victim@example.com', name: 'Victim', role: 'editor', password: 'correct horse battery' });
  idPool.push(deployment.id, group.id, component.id, incident.id, user.id);
});
afterAll(async () => {
  console.log(`graphql-arguments fuzz: ${cases} requests (seed ${seed}, FUZZ_RUNS=${runScale}); outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])))}`);
  await hub?.close();
});

const validId = () => fc.constantFrom(...idPool);

/** A value for a GraphQL input type: usually of that type, sometimes hostile or of another type. */
function valueFor(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return fc.oneof({ weight: 12, arbitrary: valueFor(type.ofType, depth) }, { weight: 1, arbitrary: fc.constant(null) });
  const some = (arbitrary: fc.Arbitrary<unknown>) => fc.oneof({ weight: 10, arbitrary }, { weight: 1, arbitrary: wrongType }, { weight: 1, arbitrary: fc.constant(null) });
  if (isListType(type)) return some(fc.oneof(fc.constant([]), fc.array(valueFor(type.ofType, depth + 1), { minLength: 1, maxLength: 3 })));
  if (isEnumType(type)) return some(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...type.getValues().map((v) => v.name)) }, { weight: 1, arbitrary: fc.constantFrom('NOT_A_VALUE', '', '\u0000') }));
  if (isInputObjectType(type)) {
    if (depth > 3) return fc.constant(null);
    const fields = Object.values(type.getFields());
    const shape: Record<string, fc.Arbitrary<unknown>> = {};
    for (const field of fields) {
      const value = valueFor(field.type, depth + 1);
      shape[field.name] = isNonNullType(field.type) ? value : fc.option(value, { nil: undefined, freq: 2 });
    }
    const record = fc.record(shape).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
    return some(fc.oneof({ weight: 8, arbitrary: record }, { weight: 1, arbitrary: record.map((r) => ({ ...r, unknownField: '\u0000' })) }));
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'ID':
        return some(fc.oneof({ weight: 3, arbitrary: validId() }, { weight: 2, arbitrary: malformedId }));
      case 'String':
        return some(fc.oneof({ weight: 5, arbitrary: hostileString }, { weight: 1, arbitrary: validId() }));
      case 'Int':
        return hostileInt;
      case 'Float':
        return hostileFloat;
      case 'Boolean':
        return some(fc.boolean());
      case 'DateTime':
        return hostileDate;
    }
  }
  throw new Error(`no generator for ${String(type)}`);
}

interface Case {
  document: string;
  variables: Record<string, unknown>;
}

/** `mutation ($a: T!) { field(a: $a) { __typename } }`, optional arguments sometimes left out. */
function caseFor(operation: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): fc.Arbitrary<Case> {
  const args: Record<string, fc.Arbitrary<unknown>> = {};
  for (const arg of field.args) args[arg.name] = isNonNullType(arg.type) ? valueFor(arg.type) : fc.option(valueFor(arg.type), { nil: undefined, freq: 3 });
  const selection = /^(Query|Mutation)$/.test(getNamedType(field.type).name) || isScalarType(getNamedType(field.type)) || isEnumType(getNamedType(field.type)) ? '' : ' { __typename }';
  return fc.record(args).map((values) => {
    const used = field.args.filter((a: GraphQLArgument) => values[a.name] !== undefined);
    const defs = used.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
    const call = used.map((a) => `${a.name}: $${a.name}`).join(', ');
    return {
      document: `${operation}${defs ? ` (${defs})` : ''} { ${field.name}${call ? `(${call})` : ''}${selection} }`,
      variables: Object.fromEntries(used.map((a) => [a.name, values[a.name]])),
    };
  });
}

async function run(c: Case, token: string | undefined, mutation: boolean): Promise<void> {
  const before = mutation ? await hub.snapshotCounts() : null;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await hub.yoga.fetch('http://hub.test/graphql', { method: 'POST', headers, body: JSON.stringify({ query: c.document, variables: c.variables }) });
  const body = await response.text();
  cases++;
  const context = `${c.document} ${JSON.stringify(c.variables).slice(0, 300)}`;
  expect(response.status, `${context} → ${body.slice(0, 300)}`).toBeLessThan(500);
  assertNoLeak(body, context);
  const result = JSON.parse(body) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: unknown } }[] };
  assertTypedErrors(result.errors, context);
  const outcome = result.errors?.length ? String(result.errors[0]!.extensions?.code) : 'ok';
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  if (before && result.errors?.length) expect(await hub.snapshotCounts(), `a rejected ${context} wrote rows`).toEqual(before);
}

// Fields that end the caller's own session are fuzzed as anonymous only (they need a user).
const rootFields = (['query', 'mutation'] as const).flatMap((operation) => {
  const type = operation === 'query' ? schema.getQueryType()! : schema.getMutationType()!;
  return Object.values(type.getFields()).map((field) => ({ operation, field }));
});

describe.each([
  ['an admin token', 'admin', 12],
  ['an anonymous caller', 'anonymous', 3],
] as const)('every root field, as %s', (_label, who, runs) => {
  it.each(rootFields.map((f) => [`${f.operation} ${f.field.name}`, f] as const))('%s: never a 500, always a typed error, no partial write', async (_name, { operation, field }) => {
    // A token of its own per field: the per-caller write rate limit counts each field apart.
    const token = who === 'admin' ? await hub.apiToken(['admin']) : undefined;
    await fc.assert(
      fc.asyncProperty(caseFor(operation, field), (c) => run(c, token, operation === 'mutation')),
      { seed, numRuns: runs * runScale, endOnFailure: true },
    );
  });
});
