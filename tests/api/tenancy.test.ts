import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemViewer } from '../../server/auth/viewer.js';
import { pages } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let otherComponentId: string;

beforeAll(async () => {
  hub = await startTestHub();
  await catalog.createComponent(hub.system, { name: 'Default API' });
  const [other] = await hub.database.db.insert(pages).values({ slug: 'globex', name: 'Globex', customDomain: 'status.globex.test' }).returning();
  const otherCtx = { db: hub.database.db, viewer: systemViewer(other!) };
  otherComponentId = (await catalog.createComponent(otherCtx, { name: 'Globex API' })).id;
});
afterAll(() => hub.close());

const names = `{ page { slug } components { name } }`;

describe('pages are tenants', () => {
  it('the default page answers when no page is named', async () => {
    const { data } = await hub.gql(names);
    expect(data).toEqual({ page: { slug: 'acme' }, components: [{ name: 'Default API' }] });
  });

  it('a page is selected by its custom domain (Host header) or by slug', async () => {
    const byHost = await hub.gql(names, {}, { headers: { host: 'status.globex.test' } });
    expect(byHost.data).toEqual({ page: { slug: 'globex' }, components: [{ name: 'Globex API' }] });
    const bySlug = await hub.gql(names, {}, { headers: { 'x-statushub-page': 'globex' } });
    expect(bySlug.data.page.slug).toBe('globex');
  });

  it("another page's id answers not_found even for staff", async () => {
    const staff = await hub.apiToken(['read:internal']);
    const result = await hub.gql(`query ($id: ID!) { component(id: $id) { name } }`, { id: otherComponentId }, { token: staff });
    expect(result.errors?.[0]?.extensions?.code).toBe('component/not_found');
  });

  it("a token of one page is not accepted by another", async () => {
    const staff = await hub.apiToken(['read:internal']);
    const result = await hub.gql(names, {}, { token: staff, headers: { 'x-statushub-page': 'globex' } });
    expect(result.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
  });

  it('an unusable token is refused rather than silently downgraded to public', async () => {
    const result = await hub.gql(names, {}, { token: 'shp_not-a-real-token' });
    expect(result.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    expect(result.data ?? null).toBeNull();
  });

  it('asking for the internal audience without staff credentials is refused', async () => {
    const result = await hub.gql(names, {}, { audience: 'internal' });
    expect(result.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
  });
});

describe('malformed ids', () => {
  it('answer not_found, like a missing row, for every lookup and write', async () => {
    const staff = await hub.apiToken(['admin']);
    const cases: [string, string][] = [
      ['{ component(id: "abc") { name } }', 'component/not_found'],
      ['{ componentGroup(id: "abc") { name } }', 'group/not_found'],
      ['{ incident(id: "abc") { title } }', 'incident/not_found'],
      ['{ maintenance(id: "abc") { title } }', 'maintenance/not_found'],
      ['mutation { setComponentStatus(id: "abc", status: major_outage) { name } }', 'component/not_found'],
      ['mutation { deleteComponentGroup(id: "abc") }', 'group/not_found'],
      ['mutation { deleteDeployment(id: "abc") }', 'deployment/not_found'],
      ['mutation { cancelMaintenance(id: "abc") { id } }', 'maintenance/not_found'],
    ];
    for (const [query, code] of cases) {
      const result = await hub.gql(query, {}, { token: staff });
      expect(result.errors?.[0]?.extensions?.code, query).toBe(code);
    }
  });
});
