import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rssHandler, feedHandler } from '../../server/http/feed.js';
import { createHttpServer } from '../../server/http/server.js';
import { statuspageApiHandler } from '../../server/http/statuspage-api.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import * as maintenance from '../../server/services/maintenance.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

/** The Statuspage-compatible read API over real HTTP: shapes, vocabulary, audiences, CORS, 404s. */

let hub: TestHub;
let server: Server;
let base: string;
let lockedToken: string;
const ids: Record<string, string> = {};

const isoPattern = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  hub = await startTestHub();
  const s = hub.system;
  const group = await catalog.createGroup(s, { name: 'Core', description: 'The core services' });
  const api = await catalog.createComponent(s, { name: 'API', groupId: group.id, description: 'REST and GraphQL' });
  const web = await catalog.createComponent(s, { name: 'Website' });
  const locked = await catalog.createDeployment(s, { slug: 'locked', name: 'Locked', access: 'protected' });
  const lockedGroup = await catalog.createGroup(s, { name: 'Locked services', deploymentId: locked.id });
  const lockedDb = await catalog.createComponent(s, { name: 'Locked DB', groupId: lockedGroup.id });
  lockedToken = await hub.audienceToken(locked.id);
  Object.assign(ids, { group: group.id, api: api.id, web: web.id, lockedDb: lockedDb.id });

  const open = await incidents.createIncident(s, {
    title: 'Slow API',
    message: 'Looking into it.',
    impact: 'major',
    components: [{ componentId: api.id, status: 'major_outage' }],
  });
  await incidents.postIncidentUpdate(s, open.id, { status: 'monitoring', message: 'A fix is out.', components: [{ componentId: api.id, status: 'degraded_performance' }] });
  ids.open = open.id;
  const done = await incidents.createIncident(s, { title: 'Website down', message: 'Down.', impact: 'critical', components: [{ componentId: web.id, status: 'major_outage' }] });
  await incidents.resolveIncident(s, done.id, { message: 'Back.' });
  ids.done = done.id;
  ids.locked = (await incidents.createIncident(s, { title: 'Locked DB outage', message: 'Locked down.', components: [{ componentId: lockedDb.id, status: 'partial_outage' }] })).id;

  const soon = new Date(Date.now() + 3_600_000);
  ids.upcoming = (await maintenance.createMaintenance(s, { title: 'DB upgrade', body: 'Upgrading.', scheduledStart: soon, scheduledEnd: new Date(soon.getTime() + 3_600_000), componentIds: [web.id] })).id;
  const now = (await maintenance.createMaintenance(s, { title: 'Network work', body: 'Rewiring.', scheduledStart: new Date(Date.now() - 60_000), scheduledEnd: soon, componentIds: [web.id] })).id;
  await maintenance.startMaintenance(s, now);
  ids.active = now;

  server = createHttpServer(hub.yoga, { api: statuspageApiHandler(hub.database.db), rss: rssHandler(hub.database.db), feed: feedHandler(hub.database.db) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await hub.close();
});

describe('/api/v2', () => {
  it('summary.json has the page, the status, components, unresolved incidents and current maintenances', async () => {
    const { status, headers, json } = await get('/api/v2/summary.json');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(headers.get('access-control-allow-origin')).toBe('*');
    expect(headers.get('access-control-allow-credentials')).toBeNull();
    expect(headers.get('cache-control')).toContain('public');
    expect(Object.keys(json).sort()).toEqual(['components', 'incidents', 'page', 'scheduled_maintenances', 'status']);
    expect(Object.keys(json.page).sort()).toEqual(['id', 'name', 'time_zone', 'updated_at', 'url']);
    expect(json.page.url).toBe(`${base}/`);
    expect(json.page.updated_at).toMatch(isoPattern);
    expect(json.status).toEqual({ indicator: 'major', description: 'Partial System Outage' });
    expect(json.incidents.map((i: { id: string }) => i.id)).toEqual([ids.open]);
    expect(json.scheduled_maintenances.map((m: { id: string }) => m.id).sort()).toEqual([ids.upcoming, ids.active].sort());
  });

  it('status.json: page and indicator', async () => {
    const { json } = await get('/api/v2/status.json');
    expect(Object.keys(json).sort()).toEqual(['page', 'status']);
    expect(['none', 'minor', 'major', 'critical']).toContain(json.status.indicator);
  });

  it('components.json: Statuspage fields, a group row listing its component ids', async () => {
    const { json } = await get('/api/v2/components.json');
    const fields = ['created_at', 'description', 'group', 'group_id', 'id', 'name', 'only_show_if_degraded', 'page_id', 'position', 'showcase', 'start_date', 'status', 'updated_at'];
    const group = json.components.find((c: { id: string }) => c.id === ids.group);
    const api = json.components.find((c: { id: string }) => c.id === ids.api);
    const web = json.components.find((c: { id: string }) => c.id === ids.web);
    expect(Object.keys(group).sort()).toEqual([...fields, 'components'].sort());
    expect(group).toMatchObject({ name: 'Core', group: true, group_id: null, components: [ids.api], status: 'degraded_performance', description: 'The core services' });
    expect(Object.keys(api).sort()).toEqual(fields);
    expect(api).toMatchObject({ name: 'API', group: false, group_id: ids.group, status: 'degraded_performance', description: 'REST and GraphQL', showcase: true });
    expect(api.created_at).toMatch(isoPattern);
    expect(api.start_date).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(web).toMatchObject({ group_id: null, status: 'under_maintenance', description: null });
    expect(json.components.map((c: { position: number }) => c.position)).toEqual(json.components.map((_: unknown, i: number) => i + 1));
    expect(JSON.stringify(json)).not.toContain('Locked');
  });

  it('incidents.json: latest incidents with their updates and the component changes each made', async () => {
    const { json } = await get('/api/v2/incidents.json');
    expect(json.incidents.map((i: { id: string }) => i.id).sort()).toEqual([ids.open, ids.done].sort());
    const open = json.incidents.find((i: { id: string }) => i.id === ids.open);
    expect(Object.keys(open).sort()).toEqual(
      ['components', 'created_at', 'id', 'impact', 'incident_updates', 'monitoring_at', 'name', 'page_id', 'resolved_at', 'shortlink', 'started_at', 'status', 'updated_at'].sort(),
    );
    expect(open).toMatchObject({ name: 'Slow API', status: 'monitoring', impact: 'major', resolved_at: null, shortlink: `${base}/incidents/${ids.open}` });
    expect(open.monitoring_at).toMatch(isoPattern);
    expect(open.components.map((c: { id: string }) => c.id)).toEqual([ids.api]);
    const [latest, first] = open.incident_updates;
    expect(Object.keys(latest).sort()).toEqual(['affected_components', 'body', 'created_at', 'deliver_notifications', 'display_at', 'id', 'incident_id', 'status', 'updated_at']);
    expect(latest).toMatchObject({ status: 'monitoring', body: 'A fix is out.', incident_id: ids.open });
    expect(latest.affected_components).toEqual([{ code: ids.api, name: 'API', old_status: 'major_outage', new_status: 'degraded_performance' }]);
    expect(first.affected_components).toEqual([{ code: ids.api, name: 'API', old_status: 'operational', new_status: 'major_outage' }]);

    const done = json.incidents.find((i: { id: string }) => i.id === ids.done);
    expect(done.status).toBe('resolved');
    expect(done.resolved_at).toMatch(isoPattern);
    expect(done.incident_updates[0].affected_components).toEqual([{ code: ids.web, name: 'Website', old_status: 'major_outage', new_status: 'operational' }]);
  });

  it('incidents/unresolved.json lists only open incidents', async () => {
    const { json } = await get('/api/v2/incidents/unresolved.json');
    expect(json.incidents.map((i: { id: string }) => i.id)).toEqual([ids.open]);
  });

  it('scheduled maintenances: all, upcoming and active, with scheduled_for/until and Statuspage statuses', async () => {
    const all = (await get('/api/v2/scheduled-maintenances.json')).json.scheduled_maintenances;
    const upcoming = (await get('/api/v2/scheduled-maintenances/upcoming.json')).json.scheduled_maintenances;
    const active = (await get('/api/v2/scheduled-maintenances/active.json')).json.scheduled_maintenances;
    expect(upcoming.map((m: { id: string }) => m.id)).toEqual([ids.upcoming]);
    expect(active.map((m: { id: string }) => m.id)).toEqual([ids.active]);
    expect(all.map((m: { id: string }) => m.id).sort()).toEqual([ids.upcoming, ids.active].sort());
    expect(upcoming[0]).toMatchObject({ name: 'DB upgrade', status: 'scheduled', impact: 'maintenance' });
    expect(upcoming[0].scheduled_for).toMatch(isoPattern);
    expect(upcoming[0].scheduled_until).toMatch(isoPattern);
    expect(active[0].status).toBe('in_progress');
    expect(active[0].incident_updates.map((u: { status: string }) => u.status)).toEqual(['in_progress', 'scheduled']);
    for (const m of all) expect(['scheduled', 'in_progress', 'verifying', 'completed']).toContain(m.status);
  });

  it("a deployment's view under /d/<slug> or with its audience token; refused like missing (404 JSON)", async () => {
    const refused = await get('/d/locked/api/v2/summary.json');
    const missing = await get('/d/no-such/api/v2/summary.json');
    const badToken = await get('/api/v2/summary.json', { authorization: 'Bearer sh_aud_nope' });
    for (const r of [refused, missing, badToken]) {
      expect(r.status).toBe(404);
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(r.json).toEqual({ error: 'not_found', message: 'Not found' });
    }
    const byPath = await get(`/d/locked/api/v2/summary.json?access_token=${lockedToken}`);
    const byBearer = await get('/api/v2/summary.json', { authorization: `Bearer ${lockedToken}` });
    for (const r of [byPath, byBearer]) {
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toContain('private');
      expect(r.json.page.url).toBe(`${base}/d/locked`);
      expect(r.json.components.map((c: { id: string }) => c.id)).toContain(ids.lockedDb);
      expect(r.json.incidents.map((i: { id: string }) => i.id)).toContain(ids.locked);
    }
    expect(byPath.json.incidents.find((i: { id: string }) => i.id === ids.locked).shortlink).toBe(`${base}/incidents/${ids.locked}?deployment=locked`);
  });

  it('unknown /api paths answer JSON 404, not the web app; OPTIONS is a CORS preflight; writes are refused', async () => {
    for (const path of ['/api/v2/nope.json', '/api/v1/summary.json', '/api', '/api/', '/d/locked/api/v2/nope.json']) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(r.json, path).toEqual({ error: 'not_found', message: 'Not found' });
    }
    const preflight = await fetch(`${base}/api/v2/summary.json`, { method: 'OPTIONS', headers: { origin: 'https://elsewhere.example', 'access-control-request-headers': 'authorization' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    const post = await fetch(`${base}/api/v2/summary.json`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
  });
});

describe('component changes in the web app', () => {
  it("the public page's and the incident page's own documents carry each update's changes within the public limits", async () => {
    const { print } = await import('graphql');
    const { PublicSummaryQuery } = await import('../../web/src/graphql/summary.js');
    const { IncidentDetailQuery, HistoryQuery } = await import('../../web/src/graphql/history.js');
    const summary = await hub.gql(print(PublicSummaryQuery));
    expect(summary.errors, JSON.stringify(summary.errors)).toBeUndefined();
    const open = summary.data.summary.activeIncidents.find((i: { id: string }) => i.id === ids.open);
    expect(open.updates[0].componentChanges).toEqual([{ componentId: ids.api, name: 'API', from: 'major_outage', to: 'degraded_performance' }]);
    const detail = await hub.gql(print(IncidentDetailQuery), { id: ids.done });
    expect(detail.errors, JSON.stringify(detail.errors)).toBeUndefined();
    expect(detail.data.incident.updates[0].componentChanges).toEqual([{ componentId: ids.web, name: 'Website', from: 'major_outage', to: 'operational' }]);
    const history = await hub.gql(print(HistoryQuery), { first: 20, withMaintenance: true });
    expect(history.errors, JSON.stringify(history.errors)).toBeUndefined();
  });

  it('a backfilled incident tells its story: the first update took the components down, the resolving one back', async () => {
    const start = new Date(Date.now() - 86_400_000);
    const backfilled = await incidents.backfillIncident(hub.system, {
      title: 'Imported outage',
      startedAt: start,
      resolvedAt: new Date(start.getTime() + 3_600_000),
      components: [{ componentId: ids.api!, status: 'partial_outage' }],
      updates: [
        { status: 'investigating', message: 'Down.', at: new Date(start.getTime() + 60_000) },
        { status: 'identified', message: 'Found it.', at: new Date(start.getTime() + 120_000) },
        { status: 'resolved', message: 'Up.', at: new Date(start.getTime() + 3_600_000) },
      ],
    });
    const { json } = await get('/api/v2/incidents.json');
    const incident = json.incidents.find((i: { id: string }) => i.id === backfilled.id);
    expect(incident.incident_updates.map((u: { affected_components: unknown }) => u.affected_components)).toEqual([
      [{ code: ids.api, name: 'API', old_status: 'partial_outage', new_status: 'operational' }],
      null,
      [{ code: ids.api, name: 'API', old_status: 'operational', new_status: 'partial_outage' }],
    ]);
  });
});
