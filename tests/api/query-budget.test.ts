import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

/**
 * No N+1: the whole page (component tree and the last 50 incidents with their updates and
 * affected components) costs a fixed number of SQL statements, however many rows there are.
 */

let hub: TestHub;
let staff: string;

const fullPage = (staff: boolean) => `{
  summary {
    status { indicator }
    groups { name status deployment { slug } components { name status group { name } } }
    ungroupedComponents { name }
    activeIncidents { title }
  }
  deployments { slug status groups { name } }
  incidents(first: 50) {
    edges { node { title updates { message ${staff ? 'staff { internalNote }' : ''} } affectedComponents { status component { name } } ${staff ? 'staff { roles { role } }' : ''} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function addRows(groups: number, perGroup: number, incidentCount: number): Promise<void> {
  const componentIds: string[] = [];
  for (let g = 0; g < groups; g++) {
    const deployment = await catalog.createDeployment(hub.system, { slug: `d-${Date.now().toString(36)}-${g}`, name: `Deployment ${g}` });
    const group = await catalog.createGroup(hub.system, { name: `Group ${g}`, deploymentId: g % 2 ? deployment.id : null });
    for (let c = 0; c < perGroup; c++) componentIds.push((await catalog.createComponent(hub.system, { name: `C ${g}.${c}`, groupId: group.id })).id);
  }
  for (let i = 0; i < incidentCount; i++) {
    const incident = await incidents.createIncident(hub.system, {
      title: `Incident ${i}`,
      message: 'Investigating',
      internalNote: 'note',
      roles: [{ role: 'incident_commander', assignee: 'Ann' }],
      components: [{ componentId: componentIds[i % componentIds.length]!, status: 'degraded_performance' }],
    });
    await incidents.postIncidentUpdate(hub.system, incident.id, { status: 'identified', message: 'Found it' });
    if (i % 3) await incidents.resolveIncident(hub.system, incident.id);
  }
}

async function statementsFor(options: { token?: string; audience?: string }): Promise<number> {
  const before = hub.database.queries.count;
  const result = await hub.gql(fullPage(Boolean(options.token)), {}, options);
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return hub.database.queries.count - before;
}

beforeAll(async () => {
  hub = await startTestHub();
  staff = await hub.apiToken(['read:internal']);
  // The token's first use records lastUsedAt: a one-off statement that is not part of the page.
  await hub.gql('{ page { slug } }', {}, { token: staff });
});
afterAll(() => hub.close());

describe('query budget', () => {
  it('the full page costs the same statements with 2 or 60 incidents and 4 or 40 components', async () => {
    await addRows(2, 2, 2);
    const smallStaff = await statementsFor({ token: staff });
    const smallPublic = await statementsFor({});

    await addRows(8, 4, 58);
    const largeStaff = await statementsFor({ token: staff });
    const largePublic = await statementsFor({});

    expect(largeStaff).toBe(smallStaff);
    expect(largePublic).toBe(smallPublic);
    // And the constant itself stays small.
    expect(largeStaff).toBeLessThanOrEqual(20);
  });
});
