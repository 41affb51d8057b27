import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemViewer } from '../../server/auth/viewer.js';
import { apiTokens, audienceTokens, events, pages, sessions, users } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import * as staff from '../../server/services/staff.js';
import * as tokens from '../../server/services/tokens.js';
import * as maintenance from '../../server/services/maintenance.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let ids: Record<string, string>;
let adminToken: string;
const plaintexts: string[] = [];
const password = 'correct horse battery';

beforeAll(async () => {
  hub = await startTestHub();
  const s = hub.system;
  const admin = await staff.createUser(s, { email: 'ada@example.com', name: 'Ada Admin', role: 'admin', password });
  await staff.createUser(s, { email: 'ed@example.com', name: 'Ed Editor', role: 'editor', password });
  const api = await catalog.createComponent(s, { name: 'API' });
  const dep = await catalog.createDeployment(s, { slug: 'eu-1', name: 'EU 1', access: 'protected' });
  ids = { admin: admin.id, api: api.id, dep: dep.id };

  // Every kind of secret-bearing write, so the log has a chance to leak one.
  const asAdmin = { ...s, viewer: { ...s.viewer, actor: { type: 'user' as const, id: admin.id, name: admin.name, email: admin.email, role: admin.role } } };
  const signedIn = await staff.signIn({ db: s.db, viewer: { ...s.viewer, actor: { type: 'anonymous' } } }, 'ada@example.com', password);
  plaintexts.push(signedIn.token, password);
  const api1 = await tokens.createApiToken(asAdmin, { name: 'CI', scopes: ['write:components'] });
  const aud1 = await tokens.createAudienceToken(asAdmin, { deploymentId: dep.id, label: 'Customer' });
  plaintexts.push(api1.token, aud1.token);
  await tokens.revokeApiToken(asAdmin, api1.apiToken.id);
  await tokens.revokeAudienceToken(asAdmin, aud1.audienceToken.id);
  await staff.updateUser(asAdmin, (await staff.createUser(asAdmin, { email: 'tmp@example.com', name: 'Temp', password })).id, { password: 'another long password', disabled: true });
  plaintexts.push('another long password');
  await staff.signOut({ db: s.db, viewer: asAdmin.viewer }, signedIn.token);
  await staff.changeOwnPassword(asAdmin, password, 'a third long password');
  await staff.updateUser(s, admin.id, { password });
  await catalog.updateComponent(asAdmin, api.id, { status: 'degraded_performance' });
  await maintenance.createMaintenance(s, { title: 'Window', scheduledStart: new Date('2040-01-01T00:00:00Z'), scheduledEnd: new Date('2040-01-01T01:00:00Z'), componentIds: [api.id] });

  // Another page's history must never show up.
  const [other] = await hub.database.db.insert(pages).values({ slug: 'other', name: 'Other' }).returning();
  await catalog.createComponent({ db: s.db, viewer: systemViewer(other!, 'other page') }, { name: 'Other page component' });

  adminToken = await hub.apiToken(['admin']);
});
afterAll(() => hub.close());

const log = `query ($first: Int, $after: String, $type: String, $id: String) {
  auditLog(first: $first, after: $after, entityType: $type, entityId: $id) {
    edges { cursor node { seq action entityType entityId actorType actorName before after createdAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

async function allEvents(token: string) {
  const nodes: any[] = [];
  let after: string | null = null;
  for (;;) {
    const res: any = await hub.gql(log, { first: 7, after }, { token });
    expect(res.errors).toBeUndefined();
    nodes.push(...res.data.auditLog.edges.map((e: { node: unknown }) => e.node));
    if (!res.data.auditLog.pageInfo.hasNextPage) return nodes;
    after = res.data.auditLog.pageInfo.endCursor;
  }
}

describe('audit log', () => {
  it('admins read who changed what, with before and after', async () => {
    const res = await hub.gql(log, { type: 'component', id: ids.api }, { token: adminToken });
    expect(res.errors).toBeUndefined();
    const nodes = res.data.auditLog.edges.map((e: { node: any }) => e.node);
    expect(nodes.map((n: { action: string }) => n.action)).toEqual(['component.updated', 'component.created']);
    const [updated] = nodes;
    expect(updated).toMatchObject({ entityType: 'component', entityId: ids.api, actorType: 'user', actorName: 'Ada Admin' });
    expect(JSON.parse(updated.before)).toMatchObject({ name: 'API', status: 'operational' });
    expect(JSON.parse(updated.after)).toMatchObject({ name: 'API', status: 'degraded_performance' });
    expect(nodes[1].before).toBeNull();
    expect(nodes[1].actorType).toBe('system');
    expect(res.data.auditLog.edges[0].cursor).toBe(String(updated.seq));
  });

  it('pages newest first by sequence number, within this page only', async () => {
    const nodes = await allEvents(adminToken);
    const seqs = nodes.map((n) => n.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(JSON.stringify(nodes)).not.toContain('Other page component');
    // The other page's event exists: it is in the table.
    const all = await hub.database.db.select().from(events);
    expect(all.length).toBeGreaterThan(nodes.length);
    expect(JSON.stringify(all)).toContain('Other page component');

    const first = await hub.gql(log, { first: 2 }, { token: adminToken });
    expect(first.data.auditLog.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const next = await hub.gql(log, { first: 2, after: first.data.auditLog.pageInfo.endCursor }, { token: adminToken });
    expect(next.data.auditLog.edges[0].node.seq).toBe(seqs[2]);
    expect(next.data.auditLog.pageInfo.hasPreviousPage).toBe(true);
  });

  it('rejects bad paging arguments', async () => {
    for (const variables of [{ first: 0 }, { first: 201 }, { after: 'abc' }, { after: '-1' }]) {
      const res = await hub.gql(log, variables, { token: adminToken });
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('input/invalid');
    }
  });

  it('non-admins and the public are refused', async () => {
    const callers = [{}, { token: await hub.apiToken(['read:internal']) }, { token: await hub.apiToken(['write:components', 'write:incidents', 'write:maintenance', 'write:templates', 'read:internal']) }];
    const signIn = await hub.gql(`mutation { signIn(email: "ed@example.com", password: "${password}") { id } }`);
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
    for (const options of [...callers, { cookie }]) {
      const res = await hub.gql(log, {}, options);
      expect(res.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
      expect(res.data).toBeNull();
    }
  });

  it('no event holds a password, a token or any secret hash', async () => {
    const db = hub.database.db;
    const secrets = [
      ...plaintexts,
      ...(await db.select({ h: users.passwordHash }).from(users)).map((r) => r.h),
      ...(await db.select({ h: apiTokens.tokenHash }).from(apiTokens)).map((r) => r.h),
      ...(await db.select({ h: audienceTokens.tokenHash }).from(audienceTokens)).map((r) => r.h),
      ...(await db.select({ h: sessions.tokenHash }).from(sessions)).map((r) => r.h),
    ];
    expect(secrets.length).toBeGreaterThan(8);
    // The stored rows themselves, not only what the API renders.
    const stored = JSON.stringify(await db.select().from(events));
    for (const secret of secrets) expect(stored).not.toContain(secret);
    expect(stored).not.toMatch(/passwordHash|tokenHash/);
    const rendered = JSON.stringify(await allEvents(adminToken));
    for (const secret of secrets) expect(rendered).not.toContain(secret);

    const actions = new Set((await allEvents(adminToken)).map((n) => n.action));
    for (const action of ['user.created', 'user.updated', 'user.signed_in', 'user.signed_out', 'user.password_changed', 'api_token.created', 'api_token.revoked', 'audience_token.created', 'audience_token.revoked', 'maintenance.created']) {
      expect(actions, action).toContain(action);
    }
  });
});
