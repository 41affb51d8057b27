import { and, asc, eq, isNull, lt, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import { sessions, users, type UserRow } from '../db/tables/index.js';
import { decoyPasswordHash, hashPassword, hashSecret, newSecret, verifyPassword } from '../auth/secrets.js';
import type { Actor } from '../auth/viewer.js';
import { DomainError, notFound } from '../domain/errors.js';
import { inputSchema, isId, parseInput, text } from '../domain/validate.js';
import { staffRoles } from '../domain/vocabulary.js';
import { userColumns, withoutSecrets, type StaffUser } from '../read/access.js';
import { requirePermission, transact, type ServiceContext, type Writer } from './context.js';

/** Staff accounts and their sessions: sign-in, sign-out, user administration, own password. */

export const sessionLifetimeMs = 14 * 24 * 3_600_000;
export const passwordMinLength = 10;

const password = z
  .string()
  .min(passwordMinLength, `must be at least ${passwordMinLength} characters`)
  // scrypt's cost grows with input; nobody types more than this.
  .max(1_000, 'must be at most 1000 characters');
const email = z.string().trim().toLowerCase().max(320, 'must be at most 320 characters').pipe(z.email({ error: 'must be an email address' }));

const userInput = inputSchema({ email, name: text.name, role: z.enum(staffRoles), password }, { role: 'viewer' });
const userPatch = inputSchema({ name: text.name, role: z.enum(staffRoles), disabled: z.boolean(), password }, {});

type UserInput = Parameters<typeof userInput.create>[0];
type UserPatch = Parameters<typeof userPatch.patch>[0];

function invalidCredentials(): DomainError {
  // One message for unknown email, wrong password and disabled account: none is revealed.
  return new DomainError('auth/invalid_credentials', 'Email or password is incorrect');
}

function userActor(user: StaffUser): Actor {
  return { type: 'user', id: user.id, name: user.name, email: user.email, role: user.role };
}

export interface SignedIn {
  /** The cookie value; stored only as its hash. */
  token: string;
  expiresAt: Date;
  user: StaffUser;
}

/**
 * Check a staff member's email and password and open a session. Unknown emails are verified
 * against a decoy hash, so the answer takes as long as for a real account. Every sign-in gets a
 * new session id; the session of the cookie the request carried (`previousSessionToken`), if
 * any, ends in the same transaction, so a session id known before sign-in is worth nothing after.
 */
export async function signIn(ctx: ServiceContext, emailAddress: string, plain: string, previousSessionToken?: string | null): Promise<SignedIn> {
  const given = parseInput(z.object({ email: z.string().max(320), password: z.string().max(1_000) }), { email: emailAddress, password: plain });
  const [user] = await ctx.db
    .select()
    .from(users)
    .where(and(eq(users.pageId, ctx.viewer.page.id), eq(users.email, given.email.trim().toLowerCase())));
  const ok = await verifyPassword(given.password, user?.passwordHash ?? decoyPasswordHash);
  if (!user || !ok || user.disabledAt) throw invalidCredentials();

  const secret = newSecret('session');
  const expiresAt = new Date(Date.now() + sessionLifetimeMs);
  const staff = withoutSecrets(user);
  // Recorded as the user who signed in, not as the anonymous caller they were a moment ago.
  await transact({ ...ctx, viewer: { ...ctx.viewer, actor: userActor(staff) } }, async (w) => {
    await w.tx.delete(sessions).where(and(eq(sessions.userId, user.id), lt(sessions.expiresAt, new Date())));
    const replaced = previousSessionToken ? await deletePageSession(w, ctx, previousSessionToken) : undefined;
    // Someone else's session on this browser ends: their streams are re-checked on this event.
    if (replaced && replaced.userId !== user.id) await w.record({ action: 'user.signed_out', entityType: 'user', entityId: replaced.userId });
    await w.tx.insert(sessions).values({ tokenHash: secret.hash, userId: user.id, expiresAt });
    await w.record({ action: 'user.signed_in', entityType: 'user', entityId: user.id, after: { expiresAt, ...(replaced?.userId === user.id && { replacedSession: true }) } });
  });
  return { token: secret.value, expiresAt, user: staff };
}

/** Delete the session a cookie value names, if it belongs to a user of this page. */
async function deletePageSession(w: Writer, ctx: ServiceContext, sessionToken: string): Promise<{ userId: string } | undefined> {
  const [gone] = await w.tx
    .delete(sessions)
    .where(
      and(
        eq(sessions.tokenHash, hashSecret(sessionToken)),
        sql`${sessions.userId} in (select ${users.id} from ${users} where ${users.pageId} = ${ctx.viewer.page.id})`,
      ),
    )
    .returning({ userId: sessions.userId });
  return gone;
}

/** End the session this cookie value belongs to (a no-op for an unknown or expired one). */
export async function signOut(ctx: ServiceContext, sessionToken: string | null | undefined): Promise<boolean> {
  if (!sessionToken) return false;
  return transact(ctx, async (w) => {
    const gone = await deletePageSession(w, ctx, sessionToken);
    if (!gone) return false;
    await w.record({ action: 'user.signed_out', entityType: 'user', entityId: gone.userId });
    return true;
  });
}

/**
 * "Sign out everywhere": end every session of the signed-in user, the current one included
 * (a lost laptop is signed out as surely as this browser). Returns how many ended.
 */
export async function signOutEverywhere(ctx: ServiceContext): Promise<number> {
  const { actor } = ctx.viewer;
  if (actor.type !== 'user') throw new DomainError('auth/unauthenticated', 'Sign in to end your sessions');
  return transact(ctx, async (w) => {
    const ended = await w.tx.delete(sessions).where(eq(sessions.userId, actor.id)).returning({ userId: sessions.userId });
    await w.record({ action: 'user.sessions_revoked', entityType: 'user', entityId: actor.id, after: { sessions: ended.length } });
    return ended.length;
  });
}

/**
 * Lock every active admin of the page, in id order, before any change that could remove one:
 * two admins demoting each other at once then serialise instead of both succeeding.
 */
async function lockActiveAdmins(w: Writer, ctx: ServiceContext): Promise<string[]> {
  const rows = await w.tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.pageId, ctx.viewer.page.id), eq(users.role, 'admin'), isNull(users.disabledAt)))
    .orderBy(asc(users.id))
    .for('update');
  return rows.map((r) => r.id);
}

async function lockUser(w: Writer, ctx: ServiceContext, userId: string): Promise<UserRow> {
  if (!isId(userId)) throw notFound('user');
  const [row] = await w.tx
    .select()
    .from(users)
    .where(and(eq(users.id, userId), eq(users.pageId, ctx.viewer.page.id)))
    .for('update');
  if (!row) throw notFound('user');
  return row;
}

function assertNotLastAdmin(admins: string[], userId: string): void {
  if (admins.includes(userId) && admins.length === 1) {
    throw new DomainError('user/last_admin', 'The page needs at least one active admin');
  }
}

/** Add a staff account. */
export async function createUser(ctx: ServiceContext, input: UserInput): Promise<StaffUser> {
  requirePermission(ctx, 'admin');
  const { password: plain, ...data } = userInput.create(input);
  const passwordHash = await hashPassword(plain);
  return transact(ctx, async (w) => {
    const [taken] = await w.tx.select({ id: users.id }).from(users).where(and(eq(users.pageId, ctx.viewer.page.id), eq(users.email, data.email)));
    if (taken) throw new DomainError('user/email_taken', `A user with email "${data.email}" already exists`, { field: 'email' });
    const [row] = await w.tx
      .insert(users)
      .values({ ...data, passwordHash, pageId: ctx.viewer.page.id })
      .returning(userColumns);
    await w.record({ action: 'user.created', entityType: 'user', entityId: row!.id, after: row! });
    return row!;
  });
}

/**
 * Change a staff account's name, role, disabled flag or password. Disabling it or setting its
 * password ends its sessions. The last active admin can be neither demoted nor disabled.
 */
export async function updateUser(ctx: ServiceContext, userId: string, patch: UserPatch): Promise<StaffUser> {
  requirePermission(ctx, 'admin');
  const { password: plain, disabled, ...data } = userPatch.patch(patch);
  const passwordHash = plain === undefined ? undefined : await hashPassword(plain);
  return transact(ctx, async (w) => {
    const admins = await lockActiveAdmins(w, ctx);
    const before = await lockUser(w, ctx, userId);
    if ((data.role !== undefined && data.role !== 'admin') || disabled === true) assertNotLastAdmin(admins, userId);
    const disabledAt = disabled === undefined ? undefined : disabled ? (before.disabledAt ?? new Date()) : null;
    const changes = { ...data, ...(disabledAt !== undefined && { disabledAt }), ...(passwordHash && { passwordHash }) };
    // An empty patch changes nothing (drizzle refuses an UPDATE without columns).
    const [row] = Object.keys(changes).length ? await w.tx.update(users).set(changes).where(eq(users.id, userId)).returning(userColumns) : [withoutSecrets(before)];
    if (disabled === true || passwordHash) await w.tx.delete(sessions).where(eq(sessions.userId, userId));
    await w.record({
      action: 'user.updated',
      entityType: 'user',
      entityId: userId,
      before: withoutSecrets(before),
      after: passwordHash ? { ...row!, passwordChanged: true } : row!,
    });
    return row!;
  });
}

/** Remove a staff account (and its sessions). The last active admin cannot be removed. */
export async function deleteUser(ctx: ServiceContext, userId: string): Promise<StaffUser> {
  requirePermission(ctx, 'admin');
  return transact(ctx, async (w) => {
    const admins = await lockActiveAdmins(w, ctx);
    const before = await lockUser(w, ctx, userId);
    assertNotLastAdmin(admins, userId);
    await w.tx.delete(users).where(eq(users.id, userId));
    const staff = withoutSecrets(before);
    await w.record({ action: 'user.deleted', entityType: 'user', entityId: userId, before: staff });
    return staff;
  });
}

/**
 * The signed-in user changes their own password, proving the current one first. Their other
 * sessions end; `keepSessionToken` (the one making the change) stays signed in.
 */
export async function changeOwnPassword(ctx: ServiceContext, current: string, next: string, keepSessionToken?: string | null): Promise<void> {
  const { actor } = ctx.viewer;
  if (actor.type !== 'user') throw new DomainError('auth/unauthenticated', 'Sign in to change your password');
  const { newPassword } = parseInput(z.object({ newPassword: password }), { newPassword: next });
  const [user] = await ctx.db.select().from(users).where(and(eq(users.id, actor.id), eq(users.pageId, ctx.viewer.page.id)));
  if (!user || !(await verifyPassword(current.slice(0, 1_000), user.passwordHash))) throw invalidCredentials();
  const passwordHash = await hashPassword(newPassword);
  await transact(ctx, async (w) => {
    await w.tx.update(users).set({ passwordHash }).where(eq(users.id, user.id));
    const ended = await w.tx
      .delete(sessions)
      .where(and(eq(sessions.userId, user.id), keepSessionToken ? ne(sessions.tokenHash, hashSecret(keepSessionToken)) : undefined))
      .returning({ userId: sessions.userId });
    await w.record({ action: 'user.password_changed', entityType: 'user', entityId: user.id, after: { sessionsEnded: ended.length } });
  });
}
