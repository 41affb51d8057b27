import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as catalog from '../../server/services/catalog.js';
import * as staff from '../../server/services/staff.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

// Bad input in any argument answers a typed `input/...` error (or not_found for an id that names
// nothing) and changes nothing: never the masked "Unexpected error.".

let hub: TestHub;
let admin: string;
let ids: { group: string; component: string; deployment: string; user: string };
const password = 'correct horse battery';

beforeAll(async () => {
  hub = await startTestHub();
  const s = hub.system;
  const user = await staff.createUser(s, { email: 'ada@example.com', name: 'Ada', role: 'admin', password });
  const group = await catalog.createGroup(s, { name: 'Core' });
  const component = await catalog.createComponent(s, { name: 'API', groupId: group.id });
  const deployment = await catalog.createDeployment(s, { slug: 'eu-1', name: 'EU 1' });
  ids = { group: group.id, component: component.id, deployment: deployment.id, user: user.id };
  const signedIn = await hub.gql(`mutation { signIn(email: "ada@example.com", password: "${password}") { id } }`);
  admin = signedIn.headers.getSetCookie()[0]!.split(';')[0]!;
});
afterAll(() => hub.close());

const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

/** Each create/update mutation with one string argument to poison. */
function writes(): { name: string; query: string; variables: (bad: string) => Record<string, unknown> }[] {
  return [
    { name: 'createComponent', query: 'mutation ($v: ComponentInput!) { createComponent(input: $v) { id } }', variables: (bad) => ({ v: { name: `a${bad}`, groupId: ids.group } }) },
    { name: 'updateComponent', query: 'mutation ($id: ID!, $v: ComponentPatch!) { updateComponent(id: $id, patch: $v) { id } }', variables: (bad) => ({ id: ids.component, v: { description: bad } }) },
    { name: 'createComponentGroup', query: 'mutation ($v: ComponentGroupInput!) { createComponentGroup(input: $v) { id } }', variables: (bad) => ({ v: { name: `g${bad}` } }) },
    { name: 'updateComponentGroup', query: 'mutation ($id: ID!, $v: ComponentGroupPatch!) { updateComponentGroup(id: $id, patch: $v) { id } }', variables: (bad) => ({ id: ids.group, v: { name: `g${bad}` } }) },
    { name: 'createDeployment', query: 'mutation ($v: DeploymentInput!) { createDeployment(input: $v) { id } }', variables: (bad) => ({ v: { slug: 'x-1', name: `d${bad}` } }) },
    { name: 'updateDeployment', query: 'mutation ($id: ID!, $v: DeploymentPatch!) { updateDeployment(id: $id, patch: $v) { id } }', variables: (bad) => ({ id: ids.deployment, v: { description: bad } }) },
    { name: 'createIncident', query: 'mutation ($v: CreateIncidentInput!) { createIncident(input: $v) { id } }', variables: (bad) => ({ v: { title: `i${bad}`, message: 'm' } }) },
    { name: 'createMaintenance', query: 'mutation ($v: MaintenanceInput!) { createMaintenance(input: $v) { id } }', variables: (bad) => ({ v: { title: 't', body: bad, scheduledStart: future(1), scheduledEnd: future(2) } }) },
    { name: 'createTemplate', query: 'mutation ($v: TemplateInput!) { createTemplate(input: $v) { id } }', variables: (bad) => ({ v: { name: `n${bad}`, kind: 'incident', title: 't', body: 'b' } }) },
    { name: 'createUser', query: 'mutation ($v: UserInput!) { createUser(input: $v) { id } }', variables: (bad) => ({ v: { email: 'new@example.com', name: `u${bad}`, password } }) },
    { name: 'updateUser', query: 'mutation ($id: ID!, $v: UserPatch!) { updateUser(id: $id, patch: $v) { id } }', variables: (bad) => ({ id: ids.user, v: { name: `u${bad}` } }) },
    { name: 'createApiToken', query: 'mutation ($v: ApiTokenInput!) { createApiToken(input: $v) { token } }', variables: (bad) => ({ v: { name: `t${bad}`, scopes: ['read:internal'] } }) },
    { name: 'createAudienceToken', query: 'mutation ($v: AudienceTokenInput!) { createAudienceToken(input: $v) { token } }', variables: (bad) => ({ v: { label: `t${bad}`, deploymentId: ids.deployment } }) },
  ];
}

async function expectInvalid(query: string, variables: Record<string, unknown> | undefined, cookie?: string, field?: string) {
  const before = await hub.snapshotCounts();
  const res = await hub.gql(query, variables, { cookie });
  expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res.errors)).toBe('input/invalid');
  if (field) expect(res.errors![0]!.extensions!.field).toBe(field);
  expect(res.status).toBeLessThan(500);
  expect(await hub.snapshotCounts()).toEqual(before);
  return res;
}

describe('a NUL or a lone surrogate in a string argument', () => {
  for (const [label, bad] of [['NUL', 'x\u0000y'], ['lone high surrogate', 'x\uD800y'], ['lone low surrogate', '\uDC00']] as const) {
    for (const write of writes()) {
      it(`${write.name} with a ${label} is input/invalid and writes nothing`, async () => {
        await expectInvalid(write.query, write.variables(bad), admin);
      });
    }
    it(`signIn with a ${label} in the email is input/invalid`, async () => {
      await expectInvalid('mutation ($e: String!, $p: String!) { signIn(email: $e, password: $p) { id } }', { e: `ada${bad}@example.com`, p: password }, undefined, 'email');
    });
    it(`signIn with a ${label} in the password is input/invalid`, async () => {
      await expectInvalid('mutation ($e: String!, $p: String!) { signIn(email: $e, password: $p) { id } }', { e: 'ada@example.com', p: `${password}${bad}` }, undefined, 'password');
    });
  }

  it('in a literal of the document, the field is named', async () => {
    await expectInvalid(`mutation { createComponentGroup(input: { name: "g\\u0000" }) { id } }`, undefined, admin, 'input.name');
  });

  it('auditLog(entityId: "\\u0000") is input/invalid', async () => {
    await expectInvalid('query ($e: String) { auditLog(entityId: $e) { edges { cursor } } }', { e: '\u0000' }, admin, 'entityId');
  });

  it('the same strings without the bad character are written (the twin)', async () => {
    const res = await hub.gql('mutation ($v: ComponentGroupInput!) { createComponentGroup(input: $v) { name } }', { v: { name: 'g \u202Eevil\u200B 🚦' } }, { cookie: admin });
    expect(res.errors).toBeUndefined();
    expect(res.data.createComponentGroup.name).toBe('g \u202Eevil\u200B 🚦');
  });
});

describe('malformed ids', () => {
  it('audienceTokens(deploymentId: "not-a-uuid") lists nothing, like an id that does not exist', async () => {
    await hub.gql('mutation ($d: ID!) { createAudienceToken(input: { label: "t", deploymentId: $d }) { token } }', { d: ids.deployment }, { cookie: admin });
    const all = await hub.gql('query ($d: ID) { audienceTokens(deploymentId: $d) { id } }', { d: ids.deployment }, { cookie: admin });
    expect(all.data.audienceTokens.length).toBeGreaterThan(0);
    for (const d of ['not-a-uuid', '00000000-0000-0000-0000-00000000000g']) {
      const res = await hub.gql('query ($d: ID) { audienceTokens(deploymentId: $d) { id } }', { d }, { cookie: admin });
      expect(res.errors, d).toBeUndefined();
      expect(res.data.audienceTokens).toEqual([]);
    }
  });

  it('auditLog(entityId: "not-a-uuid") is an empty page', async () => {
    const res = await hub.gql('{ auditLog(entityId: "not-a-uuid") { edges { cursor } } }', undefined, { cookie: admin });
    expect(res.errors).toBeUndefined();
    expect(res.data.auditLog.edges).toEqual([]);
  });
});

describe('DateTime out of range', () => {
  const create = 'mutation ($s: DateTime!, $e: DateTime!) { createMaintenance(input: { title: "t", scheduledStart: $s, scheduledEnd: $e }) { id } }';
  for (const start of ['0000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', '+300000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '10000-01-01T00:00:00Z']) {
    it(`createMaintenance with scheduledStart ${start} is input/invalid`, async () => {
      await expectInvalid(create, { s: start, e: future(2) }, admin);
    });
  }
  it('as a literal too', async () => {
    await expectInvalid(`mutation { createMaintenance(input: { title: "t", scheduledStart: "0000-01-01T00:00:00Z", scheduledEnd: "9999-12-31T23:59:59Z" }) { id } }`, undefined, admin);
  });
  it('the first and last representable years are accepted', async () => {
    const res = await hub.gql(create, { s: '0001-01-01T00:00:00Z', e: '9999-12-31T23:59:59.999Z' }, { cookie: admin });
    expect(res.errors).toBeUndefined();
  });
});

describe('an empty patch (found by the fuzz test)', () => {
  for (const [name, type, id] of [
    ['updateComponentGroup', 'ComponentGroupPatch', () => ids.group],
    ['updateDeployment', 'DeploymentPatch', () => ids.deployment],
    ['updateUser', 'UserPatch', () => ids.user],
    ['updateComponent', 'ComponentPatch', () => ids.component],
  ] as const) {
    it(`${name}(patch: {}) answers the row unchanged`, async () => {
      const res = await hub.gql(`mutation ($id: ID!, $p: ${type}!) { ${name}(id: $id, patch: $p) { id } }`, { id: id(), p: {} }, { cookie: admin });
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      expect(res.data[name].id).toBe(id());
    });
  }
});
