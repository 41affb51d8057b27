import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as catalog from '../../server/services/catalog.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let ids: Record<string, string>;

beforeAll(async () => {
  hub = await startTestHub();
  const s = hub.system;
  const shared = await catalog.createGroup(s, { name: 'Shared' });
  const api = await catalog.createComponent(s, { name: 'API', groupId: shared.id });
  const db = await catalog.createComponent(s, { name: 'Primary DB', groupId: shared.id, visibility: 'internal' });
  const eu = await catalog.createDeployment(s, { slug: 'eu-1', name: 'EU 1' });
  const us = await catalog.createDeployment(s, { slug: 'us-1', name: 'US 1' });
  const ap = await catalog.createDeployment(s, { slug: 'ap-1', name: 'AP 1', access: 'protected' });
  const euGroup = await catalog.createGroup(s, { name: 'EU services', deploymentId: eu.id });
  const usGroup = await catalog.createGroup(s, { name: 'US services', deploymentId: us.id });
  const apGroup = await catalog.createGroup(s, { name: 'AP services', deploymentId: ap.id });
  const euApi = await catalog.createComponent(s, { name: 'EU API', groupId: euGroup.id });
  const usApi = await catalog.createComponent(s, { name: 'US API', groupId: usGroup.id });
  const apApi = await catalog.createComponent(s, { name: 'AP API', groupId: apGroup.id });
  ids = { shared: shared.id, api: api.id, db: db.id, eu: eu.id, ap: ap.id, euApi: euApi.id, usApi: usApi.id, apApi: apApi.id };
});
afterAll(() => hub.close());

const tree = `{ summary { audience status { indicator description } groups { name status components { name status } } } }`;

describe('component tree per audience', () => {
  it('public viewer sees public shared components only', async () => {
    const { data } = await hub.gql(tree);
    expect(data.summary.audience).toBe('public');
    expect(data.summary.groups).toEqual([{ name: 'Shared', status: 'operational', components: [{ name: 'API', status: 'operational' }] }]);
    // The hidden rows exist: staff see them.
    const staff = await hub.gql(tree, {}, { token: await hub.apiToken(['read:internal']) });
    expect(staff.data.summary.groups.map((g: { name: string }) => g.name)).toEqual(['AP services', 'EU services', 'Shared', 'US services']);
  });

  it('deployment viewer sees public plus its own deployment and nothing of another', async () => {
    const { data } = await hub.gql(tree, {}, { audience: 'deployment:eu-1' });
    expect(data.summary.audience).toBe('deployment:eu-1');
    expect(JSON.stringify(data)).not.toMatch(/US API|AP API|Primary DB/);
    expect(data.summary.groups.map((g: { name: string }) => g.name)).toEqual(['EU services', 'Shared']);
  });

  it('protected deployment needs its audience token, and the token grants only that deployment', async () => {
    const denied = await hub.gql(tree, {}, { audience: 'deployment:ap-1' });
    expect(denied.errors?.[0]?.extensions?.code).toBe('auth/audience_token_required');
    const missing = await hub.gql(tree, {}, { audience: 'deployment:nope-1' });
    expect(missing.errors?.[0]?.message).toBe(denied.errors?.[0]?.message);

    const token = await hub.audienceToken(ids.ap!);
    const allowed = await hub.gql(tree, {}, { token });
    expect(allowed.data.summary.audience).toBe('deployment:ap-1');
    expect(allowed.data.summary.groups.map((g: { name: string }) => g.name)).toEqual(['AP services', 'Shared']);
  });

  it('an internal component going down moves neither the public group nor the page indicator', async () => {
    await catalog.setComponentStatus(hub.system, ids.db!, 'major_outage');
    const pub = await hub.gql(tree);
    expect(pub.data.summary.status).toEqual({ indicator: 'none', description: 'All Systems Operational' });
    expect(pub.data.summary.groups[0].status).toBe('operational');
    const staff = await hub.gql(tree, {}, { token: await hub.apiToken(['read:internal']) });
    expect(staff.data.summary.status.indicator).toBe('critical');
    expect(staff.data.summary.groups.find((g: { name: string }) => g.name === 'Shared').status).toBe('major_outage');
    await catalog.setComponentStatus(hub.system, ids.db!, 'operational');
  });

  it("another deployment's outage does not reach a deployment viewer's rollups", async () => {
    await catalog.setComponentStatus(hub.system, ids.usApi!, 'partial_outage');
    const eu = await hub.gql(tree, {}, { audience: 'deployment:eu-1' });
    expect(eu.data.summary.status.indicator).toBe('none');
    const us = await hub.gql(tree, {}, { audience: 'deployment:us-1' });
    expect(us.data.summary.status).toEqual({ indicator: 'major', description: 'Partial System Outage' });
    await catalog.setComponentStatus(hub.system, ids.usApi!, 'operational');
  });

  it('a hidden component id answers not_found, exactly like one that does not exist', async () => {
    const q = `query ($id: ID!) { component(id: $id) { name } }`;
    const hidden = await hub.gql(q, { id: ids.db });
    const absent = await hub.gql(q, { id: '00000000-0000-4000-8000-000000000000' });
    expect(hidden.errors?.[0]?.extensions).toEqual({ code: 'component/not_found' });
    expect(hidden.errors?.[0]?.message).toBe(absent.errors?.[0]?.message);
    const staff = await hub.gql(q, { id: ids.db }, { token: await hub.apiToken(['read:internal']) });
    expect(staff.data.component.name).toBe('Primary DB');
  });

  it('public viewer cannot read staff details; staff can', async () => {
    const q = `{ components { name staff { visibility } } }`;
    const pub = await hub.gql(q);
    expect(pub.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect(pub.data.components.every((c: { staff: unknown }) => c.staff === null)).toBe(true);
    const staff = await hub.gql(q, {}, { token: await hub.apiToken(['read:internal']) });
    expect(staff.data.components.find((c: { name: string }) => c.name === 'Primary DB').staff.visibility).toBe('internal');
  });
});
