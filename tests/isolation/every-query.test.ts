import { getNamedType, isNonNullType, isObjectType, type GraphQLField } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../schema/index.js';
import * as catalog from '../../server/services/catalog.js';
import * as customers from '../../server/services/customers.js';
import * as incidents from '../../server/services/incidents.js';
import * as maintenance from '../../server/services/maintenance.js';
import * as templates from '../../server/services/templates.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { widestSelection } from '../helpers/schema-documents.js';

/**
 * The audience-isolation sweep. Every entity a viewer must not see carries a marker in its text:
 * `ZZSTAFF` for internal things, `ZZUSONE` for things of deployment us-1. For EVERY query field in
 * the schema we build the widest selection (all fields, nested, staff-only ones included) and run
 * it as the public, as deployment eu-1 and as deployment us-1: a marker that shows up anywhere in
 * the response (data, error messages, extensions) is a leak. Staff runs prove the markers exist.
 * A query field added later is swept automatically.
 */

const STAFF = 'ZZSTAFF';
const US = 'ZZUSONE';

let hub: TestHub;
let staffToken: string;
const hiddenIds: Record<string, string> = {};

beforeAll(async () => {
  hub = await startTestHub();
  staffToken = await hub.apiToken(['admin']);
  const s = hub.system;

  const shared = await catalog.createGroup(s, { name: 'Shared' });
  const api = await catalog.createComponent(s, { name: 'API', groupId: shared.id });
  const secretDb = await catalog.createComponent(s, { name: `${STAFF} database`, groupId: shared.id, visibility: 'internal', status: 'major_outage' });
  const staffGroup = await catalog.createGroup(s, { name: `${STAFF} infra`, visibility: 'internal' });
  await catalog.createComponent(s, { name: `${STAFF} queue`, groupId: staffGroup.id, status: 'partial_outage' });

  const eu = await catalog.createDeployment(s, { slug: 'eu-1', name: 'EU one' });
  const us = await catalog.createDeployment(s, { slug: 'us-1', name: `${US} deployment` });
  const euGroup = await catalog.createGroup(s, { name: 'EU services', deploymentId: eu.id });
  const usGroup = await catalog.createGroup(s, { name: `${US} services`, deploymentId: us.id });
  await catalog.createComponent(s, { name: 'EU API', groupId: euGroup.id });
  const usApi = await catalog.createComponent(s, { name: `${US} API`, groupId: usGroup.id, status: 'major_outage' });

  // A public incident that also touches an internal component: visible, but the component is not.
  await incidents.createIncident(s, {
    title: 'API errors',
    message: 'We are investigating',
    internalNote: `${STAFF} note: shard 7`,
    severity: 'SEV1',
    warRoomUrl: `https://${STAFF.toLowerCase()}.example.com/room`,
    roles: [{ role: 'incident_commander', assignee: `${STAFF} Ann` }],
    components: [
      { componentId: api.id, status: 'degraded_performance' },
      { componentId: secretDb.id, status: 'major_outage' },
    ],
  });
  const internalIncident = await incidents.createIncident(s, { title: `${STAFF} incident`, message: `${STAFF} message`, visibility: 'internal', impact: 'critical' });
  const usIncident = await incidents.createIncident(s, { title: `${US} incident`, message: `${US} message`, impact: 'critical', components: [{ componentId: usApi.id, status: 'major_outage' }] });
  const soon = new Date(Date.now() + 86_400_000);
  const later = new Date(Date.now() + 2 * 86_400_000);
  await maintenance.createMaintenance(s, { title: 'API upgrade', scheduledStart: soon, scheduledEnd: later, componentIds: [api.id] });
  const internalWindow = await maintenance.createMaintenance(s, { title: `${STAFF} window`, scheduledStart: soon, scheduledEnd: later, visibility: 'internal' });
  const usWindow = await maintenance.createMaintenance(s, { title: `${US} window`, scheduledStart: soon, scheduledEnd: later, componentIds: [usApi.id] });
  await templates.createTemplate(s, { name: `${STAFF} template`, title: `${STAFF} title`, body: `${STAFF} body` });
  // Customers are staff-only, even to their own deployment; eu-1's are subscribed as they are added.
  await catalog.updateDeployment(s, eu.id, { autoSubscribeCustomers: true });
  await customers.createCustomer(s, { deployment: 'eu-1', name: `${STAFF} customer of EU`, email: 'eu-customer@example.test' });
  await customers.createCustomer(s, { deployment: 'us-1', name: `${US} ${STAFF} customer`, email: 'us-customer@example.test' });

  Object.assign(hiddenIds, {
    component: secretDb.id,
    componentGroup: staffGroup.id,
    incident: internalIncident.id,
    maintenance: internalWindow.id,
    usComponent: usApi.id,
    usGroup: usGroup.id,
    usIncident: usIncident.id,
    usMaintenance: usWindow.id,
  });
});
afterAll(() => hub.close());

/** Arguments for query fields that need more than an id: values that reach hidden rows. */
const requiredArguments: Record<string, () => string> = {
  checkPublication: () => `(text: "Failover to db1.${STAFF}.internal at 10.0.0.7")`,
  // Staff reading as us-1: what reaches its US markers (outsiders are refused the field).
  subscriberFollowable: () => `(audience: "deployment:us-1")`,
  previewIncident: () =>
    `(input: { title: "Preview", message: "Preview", components: [{ componentId: "${hiddenIds.component}", status: major_outage }, { componentId: "${hiddenIds.usComponent}", status: major_outage }] })`,
};

/** One document per query field; `id` arguments get an id the viewer must not reach. */
function documentFor(field: GraphQLField<unknown, unknown>, id?: string): string | null {
  const named = getNamedType(field.type);
  const body = isObjectType(named) ? `{ ${widestSelection(named, 4)} }` : '';
  const special = requiredArguments[field.name];
  if (special) return `{ ${field.name}${special()} ${body} }`;
  const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  if (required.some((a) => a.name !== 'id')) return null;
  if (required.length && !id) return null;
  const args = required.length ? `(id: "${id}")` : '';
  return `{ ${field.name}${args} ${body} }`;
}

const queryFields = Object.values(schema.getQueryType()!.getFields());
const byIdFields = queryFields.filter((f) => f.args.some((a) => a.name === 'id' && isNonNullType(a.type)));
const listFields = queryFields.filter((f) => !byIdFields.includes(f));

const audiences = [
  { name: 'public', options: {}, forbidden: [STAFF, US, 'SEV1'] },
  { name: 'deployment eu-1', options: { audience: 'deployment:eu-1' }, forbidden: [STAFF, US, 'SEV1'] },
  { name: 'deployment us-1', options: { audience: 'deployment:us-1' }, forbidden: [STAFF, 'SEV1'] },
];

describe('every query field, every audience', () => {
  it('the sweep covers every query field of the schema', () => {
    expect(listFields.length + byIdFields.length).toBe(queryFields.length);
    // A field the sweep cannot build a document for would pass its checks without running.
    for (const field of listFields) expect(documentFor(field), field.name).not.toBeNull();
    expect(byIdFields.map((f) => f.name).sort()).toEqual(['component', 'componentGroup', 'incident', 'maintenance']);
  });

  for (const field of listFields) {
    for (const audience of audiences) {
      it(`${field.name}: ${audience.name} sees no marker of another audience`, async () => {
        const result = await hub.gql(documentFor(field)!, {}, audience.options);
        const text = JSON.stringify(result);
        for (const marker of audience.forbidden) expect(text, `${field.name} leaked ${marker}`).not.toContain(marker);
      });
    }
  }

  it('staff see the markers: the hidden rows really exist', async () => {
    const everything = listFields.map((f) => documentFor(f)!.slice(1, -1)).join(' ');
    const text = JSON.stringify(await hub.gql(`{ ${everything} }`, {}, { token: staffToken }));
    for (const marker of [STAFF, US, 'SEV1', `${STAFF} note`, `${STAFF} Ann`, `${STAFF} template`, `${STAFF} window`, `${US} window`, `${STAFF} customer of EU`, 'eu-customer@example.test']) {
      expect(text).toContain(marker);
    }
  });

  for (const field of byIdFields) {
    it(`${field.name}(id): hidden ids answer exactly like missing ids for every audience, and staff reach them`, async () => {
      const entity = field.name;
      const internalId = hiddenIds[entity]!;
      const usId = hiddenIds[`us${entity[0]!.toUpperCase()}${entity.slice(1)}`.replace('usComponentGroup', 'usGroup')]!;
      const missing = await hub.gql(documentFor(field, '00000000-0000-4000-8000-000000000000')!);
      expect(missing.errors?.[0]?.extensions?.code).toMatch(/\/not_found$/);

      for (const audience of audiences) {
        const ids = audience.name === 'deployment us-1' ? [internalId] : [internalId, usId];
        for (const id of ids) {
          const result = await hub.gql(documentFor(field, id)!, {}, audience.options);
          expect(result.errors?.map((e) => [e.message, e.extensions])).toEqual(missing.errors?.map((e) => [e.message, e.extensions]));
          for (const marker of audience.forbidden) expect(JSON.stringify(result)).not.toContain(marker);
        }
      }
      const staff = await hub.gql(documentFor(field, internalId)!, {}, { token: staffToken });
      expect(staff.errors).toBeUndefined();
      expect(JSON.stringify(staff.data)).toContain(STAFF);
    });
  }

  it('rollups: neither an internal nor another deployment\'s outage reaches the indicator or a group status', async () => {
    const q = `{ status { indicator description } componentGroups { name status } }`;
    for (const options of [{}, { audience: 'deployment:eu-1' }]) {
      const { data } = await hub.gql(q, {}, options);
      // The only visible trouble is the public incident on API (degraded) → minor.
      expect(data.status.indicator).toBe('minor');
      expect(data.componentGroups.find((g: { name: string }) => g.name === 'Shared').status).toBe('degraded_performance');
    }
    const us = await hub.gql(q, {}, { audience: 'deployment:us-1' });
    expect(us.data.status.indicator).toBe('critical');
    const staff = await hub.gql(q, {}, { token: staffToken });
    expect(staff.data.componentGroups.find((g: { name: string }) => g.name === 'Shared').status).toBe('major_outage');
  });
});


