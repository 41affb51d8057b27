import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../server/http/server.js';
import { statuspageApiHandler, statuspageEndpoints } from '../../server/http/statuspage-api.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import * as maintenance from '../../server/services/maintenance.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

/**
 * The API is a new channel: what an audience may not see never reaches it through any endpoint,
 * and staff prove in the same test that each hidden thing exists (so "not seen" means something).
 */

let hub: TestHub;
let server: Server;
let base: string;
let staff: string;
let tokenA: string;
let tokenB: string;
const ids: Record<string, string> = {};

/** Every endpoint's body, as the outsider reads it; every answer must be a 200. */
async function everything(prefix: string, headers: Record<string, string> = {}): Promise<string> {
  const bodies: string[] = [];
  for (const endpoint of statuspageEndpoints) {
    const response = await fetch(`${base}${prefix}/api/v2/${endpoint}`, { headers });
    expect(response.status, `${prefix}/api/v2/${endpoint}`).toBe(200);
    bodies.push(await response.text());
  }
  return bodies.join('\n');
}

/** Staff's view through GraphQL: names of components, incident titles, update texts, component changes. */
async function staffSees(): Promise<string> {
  const answer = await hub.gql(
    `{ components { id name } incidents(first: 100) { edges { node { id title updates { message componentChanges { componentId name from to } } } } }
       maintenances { id title body } }`,
    {},
    { token: staff },
  );
  expect(answer.errors).toBeUndefined();
  return JSON.stringify(answer.data);
}

beforeAll(async () => {
  hub = await startTestHub();
  const s = hub.system;
  staff = await hub.apiToken(['read:internal']);
  const pub = await catalog.createComponent(s, { name: 'Public API' });
  const internal = await catalog.createComponent(s, { name: 'HIDE-internal-component', visibility: 'internal' });
  const a = await catalog.createDeployment(s, { slug: 'dep-a', name: 'HIDE-dep-a-name', access: 'protected' });
  const b = await catalog.createDeployment(s, { slug: 'dep-b', name: 'Dep B', access: 'protected' });
  const aGroup = await catalog.createGroup(s, { name: 'HIDE-dep-a-group', deploymentId: a.id });
  const aComponent = await catalog.createComponent(s, { name: 'HIDE-dep-a-component', groupId: aGroup.id });
  tokenA = await hub.audienceToken(a.id);
  tokenB = await hub.audienceToken(b.id);
  Object.assign(ids, { pub: pub.id, internal: internal.id, aComponent: aComponent.id });

  ids.internalIncident = (await incidents.createIncident(s, { title: 'HIDE-internal-incident', message: 'HIDE-internal-message', visibility: 'internal' })).id;
  ids.aIncident = (
    await incidents.createIncident(s, { title: 'HIDE-dep-a-incident', message: 'HIDE-dep-a-message', components: [{ componentId: aComponent.id, status: 'major_outage' }] })
  ).id;
  // A public incident that also changed an internal and a deployment's component: the update is
  // public, but those two changes are not.
  ids.mixed = (
    await incidents.createIncident(s, {
      title: 'Mixed outage',
      message: 'Several things are down.',
      components: [
        { componentId: pub.id, status: 'partial_outage' },
        { componentId: internal.id, status: 'major_outage' },
        { componentId: aComponent.id, status: 'degraded_performance' },
      ],
    })
  ).id;
  const soon = new Date(Date.now() + 3_600_000);
  ids.aMaintenance = (
    await maintenance.createMaintenance(s, { title: 'HIDE-dep-a-maintenance', body: 'HIDE-dep-a-body', scheduledStart: soon, scheduledEnd: new Date(soon.getTime() + 3_600_000), componentIds: [aComponent.id] })
  ).id;

  server = createHttpServer(hub.yoga, { api: statuspageApiHandler(hub.database.db) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await hub.close();
});

describe('/api/v2 isolation', () => {
  it('the public never sees an internal component or incident, nor a deployment\'s; staff prove they exist', async () => {
    const asStaff = await staffSees();
    for (const marker of ['HIDE-internal-component', 'HIDE-internal-incident', 'HIDE-dep-a-component', 'HIDE-dep-a-incident', 'HIDE-dep-a-maintenance']) {
      expect(asStaff, `staff see ${marker}`).toContain(marker);
    }
    for (const id of [ids.internal, ids.aComponent, ids.internalIncident, ids.aIncident, ids.aMaintenance]) expect(asStaff).toContain(id);

    const text = await everything('');
    expect(text).not.toContain('HIDE-');
    for (const id of [ids.internal, ids.aComponent, ids.internalIncident, ids.aIncident, ids.aMaintenance]) expect(text).not.toContain(id);
    expect(text).toContain('Mixed outage');
  });

  it("another deployment's audience never sees dep-a's rows, by path or by Bearer", async () => {
    for (const text of [await everything('/d/dep-b', { authorization: `Bearer ${tokenB}` }), await everything('', { authorization: `Bearer ${tokenB}` })]) {
      expect(text).not.toContain('HIDE-');
      for (const id of [ids.internal, ids.aComponent, ids.internalIncident, ids.aIncident, ids.aMaintenance]) expect(text).not.toContain(id);
    }
    // dep-b's token does not open dep-a's view: the same 404 as a missing deployment.
    const wrong = await fetch(`${base}/d/dep-a/api/v2/summary.json`, { headers: { authorization: `Bearer ${tokenB}` } });
    expect(wrong.status).toBe(404);
  });

  it("dep-a's own audience sees its rows but never the internal ones", async () => {
    const text = await everything('/d/dep-a', { authorization: `Bearer ${tokenA}` });
    expect(text).toContain('HIDE-dep-a-component');
    expect(text).toContain('HIDE-dep-a-incident');
    expect(text).toContain('HIDE-dep-a-maintenance');
    expect(text).not.toContain('HIDE-internal');
    expect(text).not.toContain(ids.internal);
  });

  it('an update lists only the component changes its reader may see; staff see all three', async () => {
    const changesOf = async (prefix: string, headers: Record<string, string> = {}) => {
      const { incidents: list } = await (await fetch(`${base}${prefix}/api/v2/incidents.json`, { headers })).json();
      const mixed = list.find((i: { id: string }) => i.id === ids.mixed);
      return mixed.incident_updates[0].affected_components.map((c: { code: string }) => c.code).sort();
    };
    expect(await changesOf('')).toEqual([ids.pub]);
    expect(await changesOf('/d/dep-b', { authorization: `Bearer ${tokenB}` })).toEqual([ids.pub]);
    expect(await changesOf('/d/dep-a', { authorization: `Bearer ${tokenA}` })).toEqual([ids.pub, ids.aComponent].sort());

    const staffAnswer = await hub.gql(`query ($id: ID!) { incident(id: $id) { updates { componentChanges { componentId from to } } } }`, { id: ids.mixed }, { token: staff });
    const all = staffAnswer.data.incident.updates[0].componentChanges;
    expect(all.map((c: { componentId: string }) => c.componentId).sort()).toEqual([ids.pub, ids.internal, ids.aComponent].sort());
    const publicAnswer = await hub.gql(`query ($id: ID!) { incident(id: $id) { updates { componentChanges { componentId name from to } } } }`, { id: ids.mixed }, { audience: 'public' });
    expect(publicAnswer.data.incident.updates[0].componentChanges).toEqual([{ componentId: ids.pub, name: 'Public API', from: 'operational', to: 'partial_outage' }]);
  });
});
