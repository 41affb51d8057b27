import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as catalog from '../../server/services/catalog.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

// The publication guard through GraphQL: text about to go public is refused with
// `publication/leak_suspected` and nothing is written; `allowLeakOverride` publishes it and the
// audit log says so; staff-only items are never blocked.

let hub: TestHub;
let editor: string;
let admin: string;
let apiId: string;

const awsKey = 'AKIAIOSFODNN7EXAMPLE';
const leaky = `Rotated the credentials, the old key ${awsKey} no longer works.`;
const clean = 'We are investigating elevated error rates on the API in eu-west-1 since 14:02 UTC.';

beforeAll(async () => {
  hub = await startTestHub();
  editor = await hub.apiToken(['read:internal', 'write:incidents', 'write:maintenance', 'write:templates']);
  admin = await hub.apiToken(['admin']);
  apiId = (await catalog.createComponent(hub.system, { name: 'API' })).id;
});
afterAll(() => hub.close());

const createIncident = `mutation ($input: CreateIncidentInput!, $override: Boolean) { createIncident(input: $input, allowLeakOverride: $override) { id title staff { visibility } } }`;
const postUpdate = `mutation ($id: ID!, $input: IncidentUpdateInput!, $override: Boolean) { postIncidentUpdate(id: $id, input: $input, allowLeakOverride: $override) { id updates { message } } }`;
const updateIncident = `mutation ($id: ID!, $patch: IncidentPatch!, $override: Boolean) { updateIncident(id: $id, patch: $patch, allowLeakOverride: $override) { id staff { visibility } } }`;
const resolveIncident = `mutation ($id: ID!, $input: ResolveIncidentInput, $override: Boolean) { resolveIncident(id: $id, input: $input, allowLeakOverride: $override) { id status } }`;
const postmortem = `mutation ($id: ID!, $input: PostmortemInput!, $override: Boolean) { publishPostmortem(id: $id, input: $input, allowLeakOverride: $override) { id status } }`;
const createMaintenance = `mutation ($input: MaintenanceInput!, $override: Boolean) { createMaintenance(input: $input, allowLeakOverride: $override) { id } }`;
const updateMaintenance = `mutation ($id: ID!, $patch: MaintenancePatch!, $override: Boolean) { updateMaintenance(id: $id, patch: $patch, allowLeakOverride: $override) { id } }`;
const createTemplate = `mutation ($input: TemplateInput!, $override: Boolean) { createTemplate(input: $input, allowLeakOverride: $override) { id body } }`;
const updateTemplate = `mutation ($id: ID!, $patch: TemplatePatch!, $override: Boolean) { updateTemplate(id: $id, patch: $patch, allowLeakOverride: $override) { id body } }`;
const check = `query ($text: String!) { checkPublication(text: $text) { kind match index } }`;
const log = `query ($type: String, $id: String) { auditLog(first: 20, entityType: $type, entityId: $id) { edges { node { action actorName after } } } }`;

/** The write is refused with the guard's code, names what it found, and changes no row. */
async function expectBlocked(query: string, variables: Record<string, unknown>, field: string) {
  const before = await hub.snapshotCounts();
  const result = await hub.gql(query, variables, { token: editor });
  const error = result.errors?.[0];
  expect(error?.extensions?.code, JSON.stringify(result.errors)).toBe('publication/leak_suspected');
  expect(error!.message).toContain(`${field}: an API key (AKIA`);
  expect(error!.extensions!.field).toBe(field);
  expect(error!.extensions!.findings).toEqual([expect.objectContaining({ field, kind: 'api_key' })]);
  expect(JSON.stringify(result.errors)).not.toContain(awsKey);
  expect(await hub.snapshotCounts()).toEqual(before);
}

async function ok(query: string, variables: Record<string, unknown>) {
  const result = await hub.gql(query, variables, { token: editor });
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data;
}

/** The newest audit log entry about this entity, its `after` parsed. */
async function lastEvent(type: string, id: string) {
  const result = await hub.gql(log, { type, id }, { token: admin });
  expect(result.errors).toBeUndefined();
  const node = result.data.auditLog.edges[0].node;
  return { ...node, after: JSON.parse(node.after) };
}

describe('publication guard', () => {
  it('refuses a public incident with a leaked AWS key and writes nothing', async () => {
    await expectBlocked(createIncident, { input: { title: 'Elevated errors', message: leaky } }, 'message');
    await expectBlocked(createIncident, { input: { title: `Key ${awsKey} exposed`, message: clean } }, 'title');
  });

  it('publishes it with the override, and the audit log shows the override', async () => {
    const data = await ok(createIncident, { input: { title: 'Elevated errors', message: leaky }, override: true });
    const event = await lastEvent('incident', data.createIncident.id);
    expect(event.action).toBe('incident.created');
    expect(event.after.leakOverride).toEqual({ findings: [{ field: 'message', kind: 'api_key', match: 'AKIAIO…', index: leaky.indexOf(awsKey) }] });
    expect(JSON.stringify(event.after.leakOverride)).not.toContain(awsKey);
  });

  it('accepts the same text on an internal incident, with nothing to record', async () => {
    const data = await ok(createIncident, { input: { title: 'Elevated errors', message: leaky, visibility: 'internal' } });
    expect(data.createIncident.staff.visibility).toBe('internal');
    expect((await lastEvent('incident', data.createIncident.id)).after.leakOverride).toBeUndefined();
  });

  it('records nothing when the override was given but nothing was found', async () => {
    const data = await ok(createIncident, { input: { title: 'Elevated errors', message: clean }, override: true });
    expect((await lastEvent('incident', data.createIncident.id)).after.leakOverride).toBeUndefined();
  });

  it('checks updates, resolutions and postmortems of a public incident, not of an internal one', async () => {
    const { createIncident: incident } = await ok(createIncident, { input: { title: 'Slow checkout', message: clean, components: [{ componentId: apiId, status: 'degraded_performance' }] } });
    await expectBlocked(postUpdate, { id: incident.id, input: { status: 'identified', message: leaky } }, 'message');
    await ok(postUpdate, { id: incident.id, input: { status: 'identified', message: leaky }, override: true });
    const posted = await lastEvent('incident', incident.id);
    expect(posted.action).toBe('incident.update_posted');
    expect(posted.after.leakOverride.findings).toEqual([expect.objectContaining({ field: 'message', kind: 'api_key' })]);

    await expectBlocked(resolveIncident, { id: incident.id, input: { message: `Fixed; ${awsKey} revoked.` } }, 'message');
    await ok(resolveIncident, { id: incident.id, input: { message: 'Fixed.' } });
    await expectBlocked(postmortem, { id: incident.id, input: { body: `# What happened\n\n${leaky}` } }, 'body');
    await ok(postmortem, { id: incident.id, input: { body: '# What happened\n\nA bad deploy.' } });

    const { createIncident: internal } = await ok(createIncident, { input: { title: 'Staff only', message: clean, visibility: 'internal' } });
    await ok(postUpdate, { id: internal.id, input: { status: 'identified', message: leaky } });
  });

  it('refuses to make an internal incident public while one of its texts leaks', async () => {
    const { createIncident: incident } = await ok(createIncident, { input: { title: 'Staff only', message: clean, visibility: 'internal' } });
    await ok(postUpdate, { id: incident.id, input: { status: 'identified', message: leaky } });
    await expectBlocked(updateIncident, { id: incident.id, patch: { visibility: 'public' } }, 'updates.1.message');
    const read = await hub.gql(`query ($id: ID!) { incident(id: $id) { staff { visibility } } }`, { id: incident.id }, { token: editor });
    expect(read.data.incident.staff.visibility).toBe('internal');

    await ok(updateIncident, { id: incident.id, patch: { visibility: 'public' }, override: true });
    const event = await lastEvent('incident', incident.id);
    expect(event.action).toBe('incident.updated');
    expect(event.after.visibility).toBe('public');
    expect(event.after.leakOverride.findings).toEqual([expect.objectContaining({ field: 'updates.1.message', kind: 'api_key' })]);
    // Already public: only a new title is checked.
    await expectBlocked(updateIncident, { id: incident.id, patch: { title: `Key ${awsKey}` } }, 'title');
    await ok(updateIncident, { id: incident.id, patch: { severity: 'SEV2' } });
  });

  it('checks a public maintenance, and an internal one when it is made public', async () => {
    const window = { scheduledStart: '2040-01-01T00:00:00Z', scheduledEnd: '2040-01-01T01:00:00Z' };
    await expectBlocked(createMaintenance, { input: { title: 'Database upgrade', body: leaky, ...window } }, 'body');
    const { createMaintenance: internal } = await ok(createMaintenance, { input: { title: 'Database upgrade', body: leaky, visibility: 'internal', ...window } });
    await expectBlocked(updateMaintenance, { id: internal.id, patch: { visibility: 'public' } }, 'body');
    await ok(updateMaintenance, { id: internal.id, patch: { visibility: 'public', body: 'We will upgrade the database.' } });
    await expectBlocked(updateMaintenance, { id: internal.id, patch: { title: `Rotate ${awsKey}` } }, 'title');
  });

  it('checks templates, which feed public text', async () => {
    const input = { name: 'Key rotation', title: 'Credentials rotated', body: leaky };
    await expectBlocked(createTemplate, { input }, 'body');
    const { createTemplate: template } = await ok(createTemplate, { input, override: true });
    expect((await lastEvent('template', template.id)).after.leakOverride.findings).toEqual([expect.objectContaining({ field: 'body', kind: 'api_key' })]);
    await expectBlocked(updateTemplate, { id: template.id, patch: { title: `Rotated ${awsKey}` } }, 'title');
    await ok(updateTemplate, { id: template.id, patch: { name: 'Renamed' } });
  });

  it('tells the console what it would find, for staff and writers only', async () => {
    const result = await hub.gql(check, { text: leaky }, { token: editor });
    expect(result.errors).toBeUndefined();
    expect(result.data.checkPublication).toEqual([{ kind: 'api_key', match: 'AKIAIO…', index: leaky.indexOf(awsKey) }]);
    expect((await hub.gql(check, { text: clean }, { token: editor })).data.checkPublication).toEqual([]);
    expect((await hub.gql(check, { text: leaky }, { token: await hub.apiToken(['write:templates']) })).errors).toBeUndefined();
    const anonymous = await hub.gql(check, { text: leaky });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
  });

  it('treats hosts under INTERNAL_DOMAINS as internal', async () => {
    const text = 'Failover to db1.corp.example completed.';
    const previous = process.env.INTERNAL_DOMAINS;
    try {
      delete process.env.INTERNAL_DOMAINS;
      expect((await hub.gql(check, { text }, { token: editor })).data.checkPublication).toEqual([]);
      process.env.INTERNAL_DOMAINS = 'corp.example';
      expect((await hub.gql(check, { text }, { token: editor })).data.checkPublication).toEqual([{ kind: 'internal_host', match: 'db1.corp.example', index: 12 }]);
      const before = await hub.snapshotCounts();
      const refused = await hub.gql(createIncident, { input: { title: 'Failover', message: text } }, { token: editor });
      expect(refused.errors?.[0]?.extensions?.code).toBe('publication/leak_suspected');
      expect(refused.errors?.[0]?.message).toContain('message: an internal hostname (db1.corp.example)');
      expect(await hub.snapshotCounts()).toEqual(before);
    } finally {
      if (previous === undefined) delete process.env.INTERNAL_DOMAINS;
      else process.env.INTERNAL_DOMAINS = previous;
    }
  });
});
