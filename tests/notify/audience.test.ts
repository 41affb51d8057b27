import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createSubscriberMutation, drain, startReceiver, testWorker, type Receiver } from './helpers.js';

let hub: TestHub;
let receiver: Receiver;
let worker: ReturnType<typeof testWorker>;

beforeAll(async () => {
  hub = await startTestHub();
  receiver = await startReceiver();
  worker = testWorker(hub.database.db);
});
afterAll(async () => {
  await worker.close();
  await receiver.close();
  await hub.close();
});

describe('notifications per audience', () => {
  it('each subscriber receives exactly what its audience may see, and only what it follows', async () => {
    const admin = await hub.apiToken(['admin']);
    const eu = await catalog.createDeployment(hub.system, { slug: 'eu-1', name: 'EU 1', access: 'open' });
    const us = await catalog.createDeployment(hub.system, { slug: 'us-2', name: 'US 2', access: 'protected' });
    const euGroup = await catalog.createGroup(hub.system, { name: 'EU group', deploymentId: eu.id });
    const usGroup = await catalog.createGroup(hub.system, { name: 'US group', deploymentId: us.id });
    const api = await catalog.createComponent(hub.system, { name: 'Public API' });
    const web = await catalog.createComponent(hub.system, { name: 'Public Web' });
    const euDb = await catalog.createComponent(hub.system, { name: 'EU database', groupId: euGroup.id });
    const usDb = await catalog.createComponent(hub.system, { name: 'US database', groupId: usGroup.id });
    const secret = await catalog.createComponent(hub.system, { name: 'Internal queue', visibility: 'internal' });

    const subscribe = async (audience: string, path: string, componentIds: string[] = []) => {
      const r = await hub.gql(createSubscriberMutation, { input: { audience, channel: 'webhook', target: `${receiver.url}${path}`, componentIds } }, { token: admin });
      expect(r.errors).toBeUndefined();
    };
    await subscribe('public', '/public');
    await subscribe('public', '/public-web-only', [web.id]);
    await subscribe('deployment:eu-1', '/eu');
    await subscribe('deployment:us-2', '/us');
    // A deployment's subscriber cannot follow another deployment's component.
    const refused = await hub.gql(createSubscriberMutation, { input: { audience: 'deployment:eu-1', channel: 'webhook', target: `${receiver.url}/x`, componentIds: [usDb.id] } }, { token: admin });
    expect(refused.errors?.[0]?.extensions?.code).toBe('input/invalid');

    // Internal, deployment-only and public changes.
    await catalog.setComponentStatus(hub.system, secret.id, 'major_outage');
    const hidden = await incidents.createIncident(hub.system, { title: 'Queue backlog (staff)', status: 'investigating', impact: 'major', message: 'Staff only.', visibility: 'internal', components: [{ componentId: api.id, status: 'major_outage' }] });
    const euIncident = await incidents.createIncident(hub.system, { title: 'EU database slow', status: 'investigating', impact: 'minor', message: 'EU only.', components: [{ componentId: euDb.id, status: 'degraded_performance' }] });
    const usIncident = await incidents.createIncident(hub.system, { title: 'US database down', status: 'identified', impact: 'major', message: 'US only.', components: [{ componentId: usDb.id, status: 'major_outage' }] });
    await catalog.setComponentStatus(hub.system, web.id, 'partial_outage');
    await drain(worker);
    await receiver.waitFor((r) => new Set(r.map((x) => x.path)).size === 4);
    await drain(worker);

    // Staff see the hidden things in the same test: "not received" means something.
    const staff = await hub.apiToken(['read:internal']);
    const seen = await hub.gql(`query ($id: ID!) { incident(id: $id) { title } component(id: "${secret.id}") { status } }`, { id: hidden.id }, { token: staff });
    expect(seen.errors).toBeUndefined();
    expect(seen.data).toEqual({ incident: { title: 'Queue backlog (staff)' }, component: { status: 'major_outage' } });

    const about = (path: string) =>
      receiver.requests
        .filter((r) => r.path === path)
        .map((r) => JSON.parse(r.body))
        .map((m) => (m.incident ? `incident:${m.incident.name}` : `component:${m.component.name}:${m.component_update.new_status}`))
        .sort();
    // The internal incident set the public API's status: that change is public (the component is), its cause is not.
    expect(about('/public')).toEqual(['component:Public API:major_outage', 'component:Public Web:partial_outage']);
    expect(about('/public-web-only')).toEqual(['component:Public Web:partial_outage']);
    expect(about('/eu')).toEqual(['component:EU database:degraded_performance', 'component:Public API:major_outage', 'component:Public Web:partial_outage', 'incident:EU database slow']);
    expect(about('/us')).toEqual(['component:Public API:major_outage', 'component:Public Web:partial_outage', 'component:US database:major_outage', 'incident:US database down']);

    // Nothing hidden leaks in any body: names, ids, messages.
    const everything = receiver.requests.map((r) => r.body).join('\n');
    for (const text of ['Queue backlog', 'Staff only', 'Internal queue', secret.id, hidden.id]) expect(everything).not.toContain(text);
    for (const r of receiver.requests.filter((x) => x.path.startsWith('/public'))) {
      for (const text of ['EU database', 'US database', euIncident.id, usIncident.id, euGroup.id, usGroup.id]) expect(r.body).not.toContain(text);
    }
    for (const r of receiver.requests.filter((x) => x.path === '/eu')) for (const text of ['US database', usIncident.id, usGroup.id]) expect(r.body).not.toContain(text);
    for (const r of receiver.requests.filter((x) => x.path === '/us')) for (const text of ['EU database', euIncident.id, euGroup.id]) expect(r.body).not.toContain(text);
    // The page status each one is told is its own audience's: the EU view is degraded by the EU database, the public one is not.
    const euIncidentMessage = receiver.requests.filter((r) => r.path === '/eu').map((r) => JSON.parse(r.body)).find((m) => m.incident);
    expect(euIncidentMessage.incident.shortlink).toContain('deployment=eu-1');
  });
});
