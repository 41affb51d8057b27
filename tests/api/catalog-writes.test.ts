import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as catalog from '../../server/services/catalog.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let writer: string;
let groupId: string;
let componentId: string;

beforeAll(async () => {
  hub = await startTestHub();
  writer = await hub.apiToken(['read:internal', 'write:components']);
  groupId = (await catalog.createGroup(hub.system, { name: 'Core' })).id;
  componentId = (await catalog.createComponent(hub.system, { name: 'API', groupId })).id;
});
afterAll(() => hub.close());

const create = `mutation ($input: ComponentInput!) { createComponent(input: $input) { id name status group { name } } }`;
const update = `mutation ($id: ID!, $patch: ComponentPatch!) { updateComponent(id: $id, patch: $patch) { id name status description } }`;

/** Runs a rejected write and proves it changed no row and appended no event. */
async function expectRejected(query: string, variables: Record<string, unknown>, token: string | undefined, code: string) {
  const before = await hub.snapshotCounts();
  const result = await hub.gql(query, variables, { token });
  expect(result.errors?.[0]?.extensions?.code, JSON.stringify(result.errors)).toBe(code);
  expect(await hub.snapshotCounts()).toEqual(before);
  return result.errors![0]!;
}

describe('component writes', () => {
  it('creates a component and appends one event', async () => {
    const before = await hub.snapshotCounts();
    const { data } = await hub.gql(create, { input: { name: 'Webhooks', groupId, status: 'degraded_performance' } }, { token: writer });
    expect(data.createComponent).toMatchObject({ name: 'Webhooks', status: 'degraded_performance', group: { name: 'Core' } });
    const after = await hub.snapshotCounts();
    expect(after.components).toBe(before.components! + 1);
    expect(after.events).toBe(before.events! + 1);
  });

  it('an update changes only the fields it names', async () => {
    await hub.gql(update, { id: componentId, patch: { description: 'REST API', status: 'partial_outage' } }, { token: writer });
    const { data } = await hub.gql(update, { id: componentId, patch: { status: 'operational' } }, { token: writer });
    expect(data.updateComponent).toMatchObject({ name: 'API', description: 'REST API', status: 'operational' });
  });

  it('wrong enum value is rejected before anything runs', async () => {
    const error = await expectRejected(create, { input: { name: 'X', status: 'on_fire' } }, writer, 'input/invalid');
    expect(error.message).toContain('ComponentStatus');
  });

  it('missing required field is rejected', async () => {
    const error = await expectRejected(create, { input: { status: 'operational' } }, writer, 'input/invalid');
    expect(error.message).toMatch(/Field "name" of required type/);
  });

  it('empty or oversized text names the field', async () => {
    const empty = await expectRejected(create, { input: { name: '   ' } }, writer, 'input/invalid');
    expect(empty.extensions?.field).toBe('name');
    const long = await expectRejected(create, { input: { name: 'x'.repeat(5000) } }, writer, 'input/invalid');
    expect(long.message).toMatch(/name.*at most 200/);
  });

  it('an unknown group id is invalid input and writes nothing', async () => {
    const error = await expectRejected(create, { input: { name: 'Orphan', groupId: '00000000-0000-4000-8000-000000000000' } }, writer, 'input/invalid');
    expect(error.extensions?.field).toBe('groupId');
  });

  it('updating an unknown id answers not_found', async () => {
    await expectRejected(update, { id: '00000000-0000-4000-8000-000000000000', patch: { name: 'Y' } }, writer, 'component/not_found');
  });

  it('unauthorised writes are refused: anonymous, read-only staff token, wrong scope', async () => {
    await expectRejected(create, { input: { name: 'Nope' } }, undefined, 'auth/forbidden');
    await expectRejected(create, { input: { name: 'Nope' } }, await hub.apiToken(['read:internal']), 'auth/forbidden');
    await expectRejected(create, { input: { name: 'Nope' } }, await hub.apiToken(['write:incidents']), 'auth/forbidden');
  });

  it('a deployment with groups cannot be deleted, so its groups never fall back to public', async () => {
    const deployment = await catalog.createDeployment(hub.system, { slug: 'eu-1', name: 'EU' });
    await catalog.createGroup(hub.system, { name: 'EU services', deploymentId: deployment.id });
    await expectRejected(`mutation ($id: ID!) { deleteDeployment(id: $id) }`, { id: deployment.id }, writer, 'deployment/has_groups');
  });

  it('duplicate deployment slug is refused with a typed error', async () => {
    await catalog.createDeployment(hub.system, { slug: 'us-1', name: 'US' });
    await expectRejected(`mutation { createDeployment(input: { slug: "us-1", name: "Again" }) { id } }`, {}, writer, 'deployment/slug_taken');
  });
});
