import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../server/auth/secrets.js';
import { apiTokens, audienceTokens, sessions, users } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import * as staff from '../../server/services/staff.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let ids: Record<string, string>;
const password = 'correct horse battery';

beforeAll(async () => {
  hub = await startTestHub();
  const s = hub.system;
  const admin = await staff.createUser(s, { email: 'Ada@Example.com', name: 'Ada Admin', role: 'admin', password });
  const editor = await staff.createUser(s, { email: 'ed@example.com', name: 'Ed Editor', role: 'editor', password });
  const viewer = await staff.createUser(s, { email: 'vi@example.com', name: 'Vi Viewer', role: 'viewer', password });
  const shared = await catalog.createGroup(s, { name: 'Shared' });
  await catalog.createComponent(s, { name: 'API', groupId: shared.id });
  const ap1 = await catalog.createDeployment(s, { slug: 'ap-1', name: 'AP 1', access: 'protected' });
  const ap2 = await catalog.createDeployment(s, { slug: 'ap-2', name: 'AP 2', access: 'protected' });
  const ap1Group = await catalog.createGroup(s, { name: 'AP1 services', deploymentId: ap1.id });
  const ap2Group = await catalog.createGroup(s, { name: 'AP2 services', deploymentId: ap2.id });
  await catalog.createComponent(s, { name: 'AP1 API', groupId: ap1Group.id });
  await catalog.createComponent(s, { name: 'AP2 API', groupId: ap2Group.id });
  ids = { admin: admin.id, editor: editor.id, viewer: viewer.id, ap1: ap1.id, ap2: ap2.id };
});
afterAll(() => hub.close());

const signInMutation = `mutation ($email: String!, $password: String!) { signIn(email: $email, password: $password) { id email name role } }`;
const whoami = `{ viewer { audience actorType email role } }`;

/** Sign in through yoga and return the `name=value` pair to send back as a Cookie header. */
async function signIn(email: string, pw = password): Promise<{ cookie: string; setCookie: string; value: string }> {
  const res = await hub.gql(signInMutation, { email, password: pw });
  expect(res.errors).toBeUndefined();
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('statushub_session='))!;
  const pair = setCookie.split(';')[0]!;
  return { cookie: pair, setCookie, value: decodeURIComponent(pair.slice(pair.indexOf('=') + 1)) };
}

describe('sign-in and sessions', () => {
  it('signing in sets an httpOnly Lax cookie that then authenticates as staff', async () => {
    const res = await hub.gql(signInMutation, { email: ' ada@EXAMPLE.com ', password });
    expect(res.data.signIn).toEqual({ id: ids.admin, email: 'ada@example.com', name: 'Ada Admin', role: 'admin' });
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('statushub_session='))!;
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Lax/);
    expect(setCookie).toMatch(/; Expires=/);
    expect(setCookie).not.toMatch(/; Secure/);

    const { cookie, value } = await signIn('ada@example.com');
    const anonymous = await hub.gql(whoami);
    expect(anonymous.data.viewer).toEqual({ audience: 'public', actorType: 'anonymous', email: null, role: null });
    const me = await hub.gql(whoami, {}, { cookie });
    expect(me.data.viewer).toEqual({ audience: 'internal', actorType: 'user', email: 'ada@example.com', role: 'admin' });

    // Only the hash is stored.
    const stored = await hub.database.db.select().from(sessions).where(eq(sessions.userId, ids.admin!));
    expect(stored.map((s) => s.tokenHash)).toContain(hashSecret(value));
    expect(JSON.stringify(stored)).not.toContain(value);
  });

  it('a wrong password, an unknown email and a disabled account give the same answer', async () => {
    const wrong = await hub.gql(signInMutation, { email: 'ada@example.com', password: 'not the password' });
    const unknown = await hub.gql(signInMutation, { email: 'nobody@example.com', password });
    await staff.updateUser(hub.system, ids.viewer!, { disabled: true });
    const disabled = await hub.gql(signInMutation, { email: 'vi@example.com', password });
    await staff.updateUser(hub.system, ids.viewer!, { disabled: false });
    for (const res of [wrong, unknown, disabled]) {
      expect(res.errors?.[0]?.extensions).toEqual({ code: 'auth/invalid_credentials' });
      expect(res.errors?.[0]?.message).toBe(wrong.errors?.[0]?.message);
      expect(res.headers.getSetCookie()).toEqual([]);
    }
  });

  it('signing out ends the session and clears the cookie', async () => {
    const { cookie } = await signIn('ed@example.com');
    expect((await hub.gql(whoami, {}, { cookie })).data.viewer.actorType).toBe('user');
    const out = await hub.gql(`mutation { signOut }`, {}, { cookie });
    expect(out.data.signOut).toBe(true);
    const cleared = out.headers.getSetCookie().find((c) => c.startsWith('statushub_session='))!;
    expect(cleared).toMatch(/^statushub_session=;/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
    // The old cookie is dead even if a client keeps sending it.
    const after = await hub.gql(whoami, {}, { cookie });
    expect(after.data.viewer).toMatchObject({ audience: 'public', actorType: 'anonymous' });
    const staffOnly = await hub.gql(whoami, {}, { cookie, audience: 'internal' });
    expect(staffOnly.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
  });

  it('disabling a user ends their sessions at once', async () => {
    const { cookie } = await signIn('vi@example.com');
    await staff.updateUser(hub.system, ids.viewer!, { disabled: true });
    expect((await hub.gql(whoami, {}, { cookie })).data.viewer.actorType).toBe('anonymous');
    await staff.updateUser(hub.system, ids.viewer!, { disabled: false });
  });

  it('changing your own password needs the current one and ends your other sessions', async () => {
    const first = await signIn('ed@example.com');
    const second = await signIn('ed@example.com');
    const change = `mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`;
    const wrong = await hub.gql(change, { c: 'not the password', n: 'a brand new password' }, { cookie: first.cookie });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('auth/invalid_credentials');
    const short = await hub.gql(change, { c: password, n: 'short' }, { cookie: first.cookie });
    expect(short.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', field: 'newPassword' });
    const anonymous = await hub.gql(change, { c: password, n: 'a brand new password' });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');

    const ok = await hub.gql(change, { c: password, n: 'a brand new password' }, { cookie: first.cookie });
    expect(ok.data.changePassword).toBe(true);
    expect((await hub.gql(whoami, {}, { cookie: first.cookie })).data.viewer.actorType).toBe('user');
    expect((await hub.gql(whoami, {}, { cookie: second.cookie })).data.viewer.actorType).toBe('anonymous');
    expect((await hub.gql(signInMutation, { email: 'ed@example.com', password })).errors?.[0]?.extensions?.code).toBe('auth/invalid_credentials');
    await signIn('ed@example.com', 'a brand new password');
    await staff.updateUser(hub.system, ids.editor!, { password });
  });
});

describe('roles', () => {
  const createComponent = `mutation { createComponent(input: { name: "Role test" }) { id } }`;
  const createUser = `mutation ($input: UserInput!) { createUser(input: $input) { id email role } }`;

  it('a viewer reads staff data but cannot write', async () => {
    const { cookie } = await signIn('vi@example.com');
    const before = await hub.snapshotCounts();
    expect((await hub.gql(createComponent, {}, { cookie })).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect((await hub.gql(`{ components { name staff { visibility } } }`, {}, { cookie })).errors).toBeUndefined();
    expect(await hub.snapshotCounts()).toEqual(before);
  });

  it('an editor writes the page but cannot manage users or tokens', async () => {
    const { cookie } = await signIn('ed@example.com');
    expect((await hub.gql(createComponent, {}, { cookie })).errors).toBeUndefined();
    const before = await hub.snapshotCounts();
    const res = await hub.gql(createUser, { input: { email: 'x@example.com', name: 'X', password } }, { cookie });
    expect(res.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect((await hub.gql(`{ users { email } }`, {}, { cookie })).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect((await hub.gql(`{ apiTokens { id } }`, {}, { cookie })).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const token = await hub.gql(`mutation { createApiToken(input: { name: "t", scopes: [admin] }) { token } }`, {}, { cookie });
    expect(token.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect(await hub.snapshotCounts()).toEqual(before);
  });

  it('an admin manages users; emails are unique per page and passwords have a minimum length', async () => {
    const { cookie } = await signIn('ada@example.com');
    const created = await hub.gql(createUser, { input: { email: 'New@Example.com', name: 'New Person', role: 'editor', password } }, { cookie });
    expect(created.data.createUser).toMatchObject({ email: 'new@example.com', role: 'editor' });
    const before = await hub.snapshotCounts();
    const taken = await hub.gql(createUser, { input: { email: 'new@example.com', name: 'Again', password } }, { cookie });
    expect(taken.errors?.[0]?.extensions).toMatchObject({ code: 'user/email_taken', field: 'email' });
    const short = await hub.gql(createUser, { input: { email: 'short@example.com', name: 'Short', password: '123456789' } }, { cookie });
    expect(short.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', field: 'password' });
    const badEmail = await hub.gql(createUser, { input: { email: 'not-an-email', name: 'Bad', password } }, { cookie });
    expect(badEmail.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', field: 'email' });
    expect(await hub.snapshotCounts()).toEqual(before);

    const list = await hub.gql(`{ users { email role disabled } }`, {}, { cookie });
    expect(list.data.users.map((u: { email: string }) => u.email)).toContain('new@example.com');
    const updated = await hub.gql(`mutation ($id: ID!) { updateUser(id: $id, patch: { role: viewer, name: "Renamed" }) { name role } }`, { id: created.data.createUser.id }, { cookie });
    expect(updated.data.updateUser).toEqual({ name: 'Renamed', role: 'viewer' });
    const deleted = await hub.gql(`mutation ($id: ID!) { deleteUser(id: $id) }`, { id: created.data.createUser.id }, { cookie });
    expect(deleted.data.deleteUser).toBe(created.data.createUser.id);
    const missing = await hub.gql(`mutation ($id: ID!) { deleteUser(id: $id) }`, { id: created.data.createUser.id }, { cookie });
    expect(missing.errors?.[0]?.extensions?.code).toBe('user/not_found');
  });

  it('the last active admin cannot be demoted, disabled or removed', async () => {
    const { cookie } = await signIn('ada@example.com');
    const before = await hub.snapshotCounts();
    const attempts = [
      `mutation ($id: ID!) { updateUser(id: $id, patch: { role: editor }) { id } }`,
      `mutation ($id: ID!) { updateUser(id: $id, patch: { disabled: true }) { id } }`,
      `mutation ($id: ID!) { deleteUser(id: $id) }`,
    ];
    for (const q of attempts) {
      const res = await hub.gql(q, { id: ids.admin }, { cookie });
      expect(res.errors?.[0]?.extensions?.code, q).toBe('user/last_admin');
    }
    expect(await hub.snapshotCounts()).toEqual(before);

    // With a second admin, the first may step down.
    const second = await staff.createUser(hub.system, { email: 'grace@example.com', name: 'Grace', role: 'admin', password });
    const demoted = await hub.gql(attempts[0]!, { id: ids.admin }, { cookie });
    expect(demoted.errors).toBeUndefined();
    // Now Grace is the last one.
    await expect(staff.updateUser(hub.system, second.id, { disabled: true })).rejects.toMatchObject({ extensions: { code: 'user/last_admin' } });
    await staff.updateUser(hub.system, ids.admin!, { role: 'admin' });
  });
});

describe('API tokens', () => {
  const create = `mutation ($input: ApiTokenInput!) { createApiToken(input: $input) { token apiToken { id name prefix scopes expiresAt revokedAt lastUsedAt } } }`;

  it('the plaintext is returned once and only its hash is stored', async () => {
    const admin = await hub.apiToken(['admin']);
    const res = await hub.gql(create, { input: { name: 'CI', scopes: ['write_components', 'read_internal'] } }, { token: admin });
    expect(res.errors).toBeUndefined();
    const { token, apiToken } = res.data.createApiToken;
    expect(token).toMatch(/^shp_/);
    expect(apiToken).toMatchObject({ name: 'CI', prefix: token.slice(0, 10), scopes: ['write_components', 'read_internal'], revokedAt: null, lastUsedAt: null });
    const [row] = await hub.database.db.select().from(apiTokens).where(eq(apiTokens.id, apiToken.id));
    expect(row!.tokenHash).toBe(hashSecret(token));
    expect(JSON.stringify(row)).not.toContain(token);
    // Nothing in the schema can give it (or its hash) back (introspection is for staff and tokens).
    const fields = await hub.gql(`{ __type(name: "ApiToken") { fields { name } } }`, {}, { token: admin });
    expect(fields.data.__type.fields.map((f: { name: string }) => f.name)).not.toEqual(expect.arrayContaining(['token']));
    expect(JSON.stringify(fields.data)).not.toMatch(/hash/i);
    const listed = await hub.gql(`{ apiTokens { id prefix } }`, {}, { token: admin });
    expect(JSON.stringify(listed.data)).not.toContain(token);
  });

  it('scopes limit what a token may do, and it reads as public without read:internal', async () => {
    const admin = await hub.apiToken(['admin']);
    const { data } = await hub.gql(create, { input: { name: 'writer', scopes: ['write_components'] } }, { token: admin });
    const token = data.createApiToken.token;
    expect((await hub.gql(`mutation { createComponent(input: { name: "From CI" }) { id } }`, {}, { token })).errors).toBeUndefined();
    const maint = await hub.gql(
      `mutation { createMaintenance(input: { title: "x", scheduledStart: "2040-01-01T00:00:00Z", scheduledEnd: "2040-01-01T01:00:00Z" }) { id } }`,
      {},
      { token },
    );
    expect(maint.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect((await hub.gql(whoami, {}, { token })).data.viewer).toMatchObject({ audience: 'public', actorType: 'api_token' });
  });

  it('lastUsedAt is written on first use and then at most once a minute', async () => {
    const admin = await hub.apiToken(['admin']);
    const { data } = await hub.gql(create, { input: { name: 'reader', scopes: ['read_internal'] } }, { token: admin });
    const { token, apiToken } = data.createApiToken;
    const queries = hub.database.queries;
    let n = queries.count;
    await hub.gql(`{ page { id } }`, {}, { token });
    const first = queries.count - n;
    const [used] = await hub.database.db.select().from(apiTokens).where(eq(apiTokens.id, apiToken.id));
    expect(used!.lastUsedAt).toBeInstanceOf(Date);
    n = queries.count;
    await hub.gql(`{ page { id } }`, {}, { token });
    expect(queries.count - n).toBe(first - 1);
    const [again] = await hub.database.db.select().from(apiTokens).where(eq(apiTokens.id, apiToken.id));
    expect(again!.lastUsedAt).toEqual(used!.lastUsedAt);
  });

  it('revoked and expired tokens stop working', async () => {
    const admin = await hub.apiToken(['admin']);
    const { data } = await hub.gql(create, { input: { name: 'short-lived', scopes: ['read_internal'] } }, { token: admin });
    const { token, apiToken } = data.createApiToken;
    expect((await hub.gql(whoami, {}, { token })).data.viewer.audience).toBe('internal');

    const revoked = await hub.gql(`mutation ($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: apiToken.id }, { token: admin });
    expect(revoked.data.revokeApiToken.revokedAt).toBeTruthy();
    const denied = await hub.gql(whoami, {}, { token });
    expect(denied.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    expect(denied.data).toBeFalsy();

    const past = await hub.gql(create, { input: { name: 'expired', scopes: ['read_internal'], expiresAt: '2000-01-01T00:00:00Z' } }, { token: admin });
    expect(past.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', field: 'expiresAt' });
    const soon = await hub.gql(create, { input: { name: 'expiring', scopes: ['read_internal'], expiresAt: new Date(Date.now() + 60_000).toISOString() } }, { token: admin });
    const expiring = soon.data.createApiToken;
    expect((await hub.gql(whoami, {}, { token: expiring.token })).data.viewer.audience).toBe('internal');
    await hub.database.db.update(apiTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiTokens.id, expiring.apiToken.id));
    expect((await hub.gql(whoami, {}, { token: expiring.token })).errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');

    const unknown = await hub.gql(`mutation { revokeApiToken(id: "00000000-0000-4000-8000-000000000000") { id } }`, {}, { token: admin });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('token/not_found');
    const notUuid = await hub.gql(`mutation { revokeApiToken(id: "nope") { id } }`, {}, { token: admin });
    expect(notUuid.errors?.[0]?.extensions?.code).toBe('token/not_found');
  });

  it('a user with the admin role manages tokens through their session', async () => {
    const { cookie } = await signIn('ada@example.com');
    const res = await hub.gql(create, { input: { name: 'by Ada', scopes: ['read_internal'] } }, { cookie });
    expect(res.errors).toBeUndefined();
    const [row] = await hub.database.db.select().from(apiTokens).where(eq(apiTokens.id, res.data.createApiToken.apiToken.id));
    expect(row!.createdBy).toBe(ids.admin);
  });
});

describe('audience tokens', () => {
  const create = `mutation ($input: AudienceTokenInput!) { createAudienceToken(input: $input) { token audienceToken { id label prefix deployment { slug } } } }`;
  const tree = `{ summary { audience groups { name } } }`;

  it('grants exactly its deployment, and stops when revoked', async () => {
    const admin = await hub.apiToken(['admin']);
    const res = await hub.gql(create, { input: { deploymentId: ids.ap1, label: 'Customer A' } }, { token: admin });
    expect(res.errors).toBeUndefined();
    const { token, audienceToken } = res.data.createAudienceToken;
    expect(token).toMatch(/^sha_/);
    expect(audienceToken).toMatchObject({ label: 'Customer A', deployment: { slug: 'ap-1' } });
    const [row] = await hub.database.db.select().from(audienceTokens).where(eq(audienceTokens.id, audienceToken.id));
    expect(row!.tokenHash).toBe(hashSecret(token));

    const own = await hub.gql(tree, {}, { token });
    expect(own.data.summary.audience).toBe('deployment:ap-1');
    expect(own.data.summary.groups.map((g: { name: string }) => g.name)).toEqual(['AP1 services', 'Shared']);
    const other = await hub.gql(tree, {}, { token, audience: 'deployment:ap-2' });
    expect(other.errors?.[0]?.extensions?.code).toBe('auth/audience_token_required');
    const internal = await hub.gql(tree, {}, { token, audience: 'internal' });
    expect(internal.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    // The hidden deployment exists: staff see it.
    const staffView = await hub.gql(tree, {}, { token: await hub.apiToken(['read:internal']) });
    expect(staffView.data.summary.groups.map((g: { name: string }) => g.name)).toContain('AP2 services');
    // An audience token can write nothing.
    expect((await hub.gql(`mutation { createComponent(input: { name: "x" }) { id } }`, {}, { token })).errors?.[0]?.extensions?.code).toBe('auth/forbidden');

    const listed = await hub.gql(`query ($d: ID) { audienceTokens(deploymentId: $d) { id label } }`, { d: ids.ap1 }, { token: admin });
    expect(listed.data.audienceTokens).toEqual([{ id: audienceToken.id, label: 'Customer A' }]);
    const otherList = await hub.gql(`query ($d: ID) { audienceTokens(deploymentId: $d) { id } }`, { d: ids.ap2 }, { token: admin });
    expect(otherList.data.audienceTokens).toEqual([]);

    await hub.gql(`mutation ($id: ID!) { revokeAudienceToken(id: $id) { id } }`, { id: audienceToken.id }, { token: admin });
    expect((await hub.gql(tree, {}, { token })).errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
  });

  it('needs a deployment of this page and an admin', async () => {
    const admin = await hub.apiToken(['admin']);
    const writer = await hub.apiToken(['write:components', 'read:internal']);
    const before = await hub.snapshotCounts();
    const missing = await hub.gql(create, { input: { deploymentId: '00000000-0000-4000-8000-000000000000', label: 'x' } }, { token: admin });
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', field: 'deploymentId' });
    const forbidden = await hub.gql(create, { input: { deploymentId: ids.ap1, label: 'x' } }, { token: writer });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const list = await hub.gql(`{ audienceTokens { id } }`, {}, { token: writer });
    expect(list.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect(await hub.snapshotCounts()).toEqual(before);
  });
});

describe('stored secrets', () => {
  it('users hold scrypt hashes, never the password', async () => {
    const rows = await hub.database.db.select().from(users);
    for (const row of rows) {
      expect(row.passwordHash).toMatch(/^scrypt\$/);
      expect(row.passwordHash).not.toContain(password);
    }
  });
});
