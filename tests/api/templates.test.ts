import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as catalog from '../../server/services/catalog.js';
import * as templates from '../../server/services/templates.js';
import { renderTemplate } from '../../server/services/templates.js';
import { seedDemo } from '../../server/seed.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let staff: string;
let editor: string;
let templateWriter: string;
let apiId: string;

beforeAll(async () => {
  hub = await startTestHub();
  staff = await hub.apiToken(['read:internal']);
  editor = await hub.apiToken(['read:internal', 'write:incidents', 'write:templates']);
  templateWriter = await hub.apiToken(['write:templates']);
  apiId = (await catalog.createComponent(hub.system, { name: 'API' })).id;
});
afterAll(() => hub.close());

const create = `mutation ($input: TemplateInput!) { createTemplate(input: $input) { id kind name title body status impact } }`;
const update = `mutation ($id: ID!, $patch: TemplatePatch!) { updateTemplate(id: $id, patch: $patch) { id name body } }`;
const remove = `mutation ($id: ID!) { deleteTemplate(id: $id) }`;
const list = `{ templates { name title } }`;
const createIncident = `mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { id title status impact nextUpdateDueAt updates { message status } } }`;

async function expectRejected(query: string, variables: Record<string, unknown>, token: string | undefined, code: string) {
  const before = await hub.snapshotCounts();
  const result = await hub.gql(query, variables, { token });
  expect(result.errors?.[0]?.extensions?.code, JSON.stringify(result.errors)).toBe(code);
  expect(await hub.snapshotCounts()).toEqual(before);
  return result.errors![0]!;
}

describe('renderTemplate', () => {
  it('fills the known placeholders and leaves everything else as written', () => {
    expect(renderTemplate('{service} is down: {impact}. Next update by {next_update}.', { service: 'API', impact: 'errors', next_update: '14:30 UTC' })).toBe(
      'API is down: errors. Next update by 14:30 UTC.',
    );
    expect(renderTemplate('{service} {unknown} {impact} {SERVICE} {service', { service: 'API' })).toBe('API {unknown} {impact} {SERVICE} {service');
    expect(renderTemplate('{service}{service}', { service: '$& {impact}', impact: 'no' })).toBe('$& {impact}$& {impact}');
  });
});

describe('template writes and reads', () => {
  it('a template writer creates templates; renaming and deleting also need read:internal; names are unique per page', async () => {
    const input = { name: 'Outage', title: '{service} outage', body: '{service} is unavailable.', status: 'investigating', impact: 'critical' };
    const created = await hub.gql(create, { input }, { token: templateWriter });
    expect(created.errors).toBeUndefined();
    expect(created.data.createTemplate).toMatchObject({ kind: 'incident', name: 'Outage', status: 'investigating', impact: 'critical' });
    const { id } = created.data.createTemplate;

    const taken = await expectRejected(create, { input }, templateWriter, 'template/name_taken');
    expect(taken.extensions?.field).toBe('name');

    await hub.gql(create, { input: { name: 'Other', title: 't', body: 'b' } }, { token: templateWriter });
    // Changing an existing template reads it back: that takes staff eyes (read:internal) as well.
    await expectRejected(update, { id, patch: {} }, templateWriter, 'template/not_found');
    await expectRejected(remove, { id }, templateWriter, 'template/not_found');
    await expectRejected(update, { id, patch: { name: 'Other' } }, editor, 'template/name_taken');
    const renamed = await hub.gql(update, { id, patch: { name: 'Full outage', body: 'Down.' } }, { token: editor });
    expect(renamed.data.updateTemplate).toEqual({ id, name: 'Full outage', body: 'Down.' });

    const deleted = await hub.gql(remove, { id }, { token: editor });
    expect(deleted.data.deleteTemplate).toBe(id);
    await expectRejected(remove, { id }, editor, 'template/not_found');
    await expectRejected(remove, { id: 'not-a-uuid' }, editor, 'template/not_found');
  });

  it('templates are staff-only: the public and deployments are refused, staff read them', async () => {
    await templates.createTemplate(hub.system, { name: 'Staff wording', title: 'Investigating {service}', body: 'Looking into it.' });
    const pub = await hub.gql(list);
    expect(pub.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect(pub.data).toBeNull();
    expect(JSON.stringify(pub)).not.toContain('Staff wording');

    const internal = await hub.gql(list, {}, { token: staff });
    expect(internal.errors).toBeUndefined();
    expect(internal.data.templates).toContainEqual({ name: 'Staff wording', title: 'Investigating {service}' });

    const preview = await hub.gql(`{ templates { name rendered(vars: { service: "Push" }) { title } } }`, {}, { token: staff });
    expect(preview.data.templates.find((t: { name: string }) => t.name === 'Staff wording').rendered.title).toBe('Investigating Push');
  });

  it('unauthorised writes are refused and change nothing', async () => {
    const input = { name: 'Nope', title: 't', body: 'b' };
    await expectRejected(create, { input }, undefined, 'auth/forbidden');
    await expectRejected(create, { input }, staff, 'auth/forbidden');
    // The allowed twin.
    expect((await hub.gql(create, { input }, { token: editor })).errors).toBeUndefined();
  });

  it('bad input names the field and changes nothing', async () => {
    const long = await expectRejected(create, { input: { name: 'Long', title: 'x'.repeat(20_000), body: 'b' } }, editor, 'input/invalid');
    expect(long.extensions?.field).toBe('title');
    const empty = await expectRejected(create, { input: { name: '  ', title: 't', body: 'b' } }, editor, 'input/invalid');
    expect(empty.extensions?.field).toBe('name');
    const badEnum = await expectRejected(create, { input: { name: 'Enum', title: 't', body: 'b', kind: 'newsletter' } }, editor, 'input/invalid');
    expect(badEnum.message).toContain('TemplateKind');
    const postmortem = await expectRejected(create, { input: { name: 'PM', title: 't', body: 'b', status: 'postmortem' } }, editor, 'input/invalid');
    expect(postmortem.message).toContain('UpdateStatus');
    await expectRejected(create, { input: { name: 'Missing', title: 't' } }, editor, 'input/invalid');
  });
});

describe('incidents written from a template', () => {
  it('renders title and message and takes status and impact from the template', async () => {
    const template = await templates.createTemplate(hub.system, {
      name: 'Partial outage',
      title: 'Partial outage of {service}',
      body: 'Some requests to {service} fail; customers may see {impact}. Next update by {next_update}. {unknown} stays.',
      status: 'identified',
      impact: 'major',
    });
    const due = new Date('2031-05-04T14:30:00Z');
    const { data, errors } = await hub.gql(
      createIncident,
      {
        input: {
          templateId: template.id,
          templateVars: { service: 'Push delivery', impact: 'delayed notifications' },
          nextUpdateDueAt: due.toISOString(),
          components: [{ componentId: apiId, status: 'partial_outage' }],
        },
      },
      { token: editor },
    );
    expect(errors).toBeUndefined();
    expect(data.createIncident).toMatchObject({
      title: 'Partial outage of Push delivery',
      status: 'identified',
      impact: 'major',
      nextUpdateDueAt: due.toISOString(),
      updates: [
        {
          status: 'identified',
          message: 'Some requests to Push delivery fail; customers may see delayed notifications. Next update by May 4, 14:30 UTC. {unknown} stays.',
        },
      ],
    });

    // What the input gives wins over the template.
    const explicit = await hub.gql(
      createIncident,
      { input: { templateId: template.id, title: 'My own title', impact: 'minor', templateVars: { service: 'API', nextUpdate: 'noon' } } },
      { token: editor },
    );
    expect(explicit.data.createIncident).toMatchObject({ title: 'My own title', impact: 'minor', status: 'identified' });
    expect(explicit.data.createIncident.updates[0].message).toContain('Some requests to API fail; customers may see {impact}. Next update by noon.');
  });

  it('an unknown, foreign-kind or over-long rendering is rejected and writes nothing', async () => {
    const unknown = await expectRejected(createIncident, { input: { templateId: '00000000-0000-4000-8000-000000000000' } }, editor, 'input/invalid');
    expect(unknown.extensions?.field).toBe('templateId');

    const maintenance = await templates.createTemplate(hub.system, { kind: 'maintenance', name: 'Maint', title: 'Maintenance of {service}', body: 'Planned work.' });
    const wrongKind = await expectRejected(createIncident, { input: { templateId: maintenance.id } }, editor, 'input/invalid');
    expect(wrongKind.extensions?.field).toBe('templateId');

    const long = await templates.createTemplate(hub.system, { name: 'Long', title: '{service} {service} {service}', body: 'x' });
    const tooLong = await expectRejected(createIncident, { input: { templateId: long.id, templateVars: { service: 'y'.repeat(150) } } }, editor, 'input/invalid');
    expect(tooLong.extensions?.field).toBe('title');
  });
});

describe('demo seed', () => {
  it('writes the standard templates and two resolved incidents with their timelines', async () => {
    const demo = await startTestHub();
    try {
      await seedDemo(demo.database.db, demo.page);
      const token = await demo.apiToken(['read:internal']);
      const seeded = await demo.gql(`{ templates { name kind } }`, {}, { token });
      expect(seeded.data.templates.map((t: { name: string }) => t.name).sort()).toEqual(
        ['Full outage', 'Identified', 'Investigating', 'Monitoring', 'Partial outage', 'Resolved', 'Scheduled maintenance'],
      );

      const query = `{ incidents(state: resolved) { edges { node { title status impact updates { message staff { internalNote } } affectedComponents { component { name } } staff { severity warRoomUrl roles { role } } } } } }`;
      const internal = await demo.gql(query, {}, { token });
      expect(internal.errors).toBeUndefined();
      const nodes = internal.data.incidents.edges.map((e: { node: unknown }) => e.node);
      expect(nodes).toHaveLength(2);
      for (const node of nodes) {
        expect(node.updates.length).toBeGreaterThanOrEqual(3);
        expect(node.updates.length).toBeLessThanOrEqual(4);
        expect(node.updates.some((u: { staff: { internalNote: string | null } }) => u.staff.internalNote)).toBe(true);
        expect(node.staff.severity).toMatch(/^SEV/);
        expect(node.staff.warRoomUrl).toMatch(/^https:/);
        expect(node.staff.roles.length).toBeGreaterThan(0);
        expect(node.affectedComponents.length).toBeGreaterThan(0);
      }
      // Live statuses are untouched by history.
      const live = await demo.gql(`{ status { indicator } }`, {}, { token });
      expect(live.data.status.indicator).toBe('none');

      // The public sees the push incident (public component) but not the EU-1 one, and no note.
      const pub = await demo.gql(`{ incidents { edges { node { title affectedComponents { component { name } } } } } }`);
      expect(pub.data.incidents.edges.map((e: { node: { title: string } }) => e.node.title)).toEqual(['Delayed push notifications']);
      expect(JSON.stringify(pub)).not.toMatch(/Job queue|SEV|meet\.example|push-workers/);
      const eu = await demo.gql(`{ incidents { edges { node { title } } } }`, {}, { audience: 'deployment:eu-1' });
      expect(eu.data.incidents.edges.map((e: { node: { title: string } }) => e.node.title)).toEqual(['Delayed push notifications', 'Elevated API error rates in EU-1']);
    } finally {
      await demo.close();
    }
  });
});
