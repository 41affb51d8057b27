import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, sessions } from '../../server/db/tables/index.js';
import * as staff from '../../server/services/staff.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

// Sessions: a new id at every sign-in (the cookie the browser had stops working), "sign out
// everywhere", and a password change that ends the other sessions. Each records an event on the
// user, which is what re-checks that user's open live streams.

let hub: TestHub;
const ids: Record<string, string> = {};
const password = 'correct horse battery';
const whoami = '{ viewer { actorType email } }';

beforeAll(async () => {
  hub = await startTestHub();
  for (const name of ['ada', 'bob']) {
    const user = await staff.createUser(hub.system, { email: `${name}@example.com`, name, role: 'admin', password });
    ids[name] = user.id;
  }
});
afterAll(() => hub.close());

async function signIn(email: string, cookie?: string, pw = password): Promise<string> {
  const res = await hub.gql('mutation ($e: String!, $p: String!) { signIn(email: $e, password: $p) { id } }', { e: email, p: pw }, { cookie });
  expect(res.errors).toBeUndefined();
  return res.headers.getSetCookie().find((c) => c.startsWith('statushub_session='))!.split(';')[0]!;
}

async function who(cookie: string): Promise<string | null> {
  const res = await hub.gql(whoami, undefined, { cookie });
  return res.data?.viewer.email ?? null;
}

async function eventsFor(userId: string, action: string) {
  return hub.database.db.select().from(events).where(and(eq(events.entityType, 'user'), eq(events.entityId, userId), eq(events.action, action)));
}

describe('sign-in rotates the session', () => {
  it('signing in again with a session cookie gives a new id and ends the old session', async () => {
    const first = await signIn('ada@example.com');
    expect(await who(first)).toBe('ada@example.com');
    const second = await signIn('ada@example.com', first);
    expect(second).not.toBe(first);
    expect(await who(second)).toBe('ada@example.com');
    expect(await who(first)).toBeNull();
  });

  it("signing in as someone else ends the previous user's session on this browser, with an event for them", async () => {
    const adas = await signIn('ada@example.com');
    const before = (await eventsFor(ids.ada!, 'user.signed_out')).length;
    const bobs = await signIn('bob@example.com', adas);
    expect(await who(bobs)).toBe('bob@example.com');
    expect(await who(adas)).toBeNull();
    expect((await eventsFor(ids.ada!, 'user.signed_out')).length).toBe(before + 1);
  });

  it('a failed sign-in leaves the current session alone', async () => {
    const adas = await signIn('ada@example.com');
    const res = await hub.gql('mutation { signIn(email: "ada@example.com", password: "wrong password!") { id } }', undefined, { cookie: adas });
    expect(res.errors?.[0]?.extensions?.code).toBe('auth/invalid_credentials');
    expect(await who(adas)).toBe('ada@example.com');
  });

  it('a session cookie value fixed before sign-in is never the one issued', async () => {
    const planted = 'statushub_session=sss_planted_by_someone_else';
    const issued = await signIn('ada@example.com', planted);
    expect(issued).not.toBe(planted);
  });
});

describe('sign out everywhere', () => {
  it("ends every session of the user, this one included, and no one else's", async () => {
    const laptop = await signIn('ada@example.com');
    const phone = await signIn('ada@example.com');
    const bobs = await signIn('bob@example.com');
    const before = (await eventsFor(ids.ada!, 'user.sessions_revoked')).length;
    const res = await hub.gql('mutation { signOutEverywhere }', undefined, { cookie: laptop });
    expect(res.errors).toBeUndefined();
    expect(res.data.signOutEverywhere).toBeGreaterThanOrEqual(2);
    expect(res.headers.getSetCookie().some((c) => /^statushub_session=;/.test(c))).toBe(true);
    expect(await who(laptop)).toBeNull();
    expect(await who(phone)).toBeNull();
    expect(await who(bobs)).toBe('bob@example.com');
    expect(await hub.database.db.select().from(sessions).where(eq(sessions.userId, ids.ada!))).toEqual([]);
    expect((await eventsFor(ids.ada!, 'user.sessions_revoked')).length).toBe(before + 1);
  });

  it('is refused to anyone not signed in', async () => {
    const res = await hub.gql('mutation { signOutEverywhere }');
    expect(res.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
  });
});

describe('changing a password', () => {
  it('ends the other sessions, keeps this one, and records the change', async () => {
    const here = await signIn('bob@example.com');
    const there = await signIn('bob@example.com');
    const before = (await eventsFor(ids.bob!, 'user.password_changed')).length;
    const res = await hub.gql('mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }', { c: password, n: 'another good password' }, { cookie: here });
    expect(res.errors).toBeUndefined();
    expect(await who(here)).toBe('bob@example.com');
    expect(await who(there)).toBeNull();
    expect((await eventsFor(ids.bob!, 'user.password_changed')).length).toBe(before + 1);
  });
});
