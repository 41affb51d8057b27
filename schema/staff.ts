import { builder } from './builder.js';
import { StaffRoleEnum } from './enums.js';
import { parseCookies, sessionCookie } from '../server/auth/resolve-viewer.js';
import { DomainError } from '../server/domain/errors.js';
import { listUsers, type StaffUser } from '../server/read/access.js';
import * as staff from '../server/services/staff.js';
import type { GraphQLContext } from '../server/context.js';
import { stripNulls } from './input.js';

export const User = builder.objectRef<StaffUser>('User');

User.implement({
  description: 'A staff account. Listed only to admins; a user sees their own when signing in.',
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: StaffRoleEnum }),
    disabled: t.boolean({ resolve: (u) => u.disabledAt !== null }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

function currentSessionToken(ctx: GraphQLContext): string | null {
  return parseCookies(ctx.request?.headers.get('cookie') ?? null).get(sessionCookie) ?? null;
}

/** The session cookie: httpOnly (no script reads it), Lax (no cross-site POST carries it). */
async function setSessionCookie(ctx: GraphQLContext, value: string, expires: Date): Promise<void> {
  await ctx.request!.cookieStore!.set({
    name: sessionCookie,
    value,
    path: '/',
    domain: null,
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.cookieSecure,
    expires: expires.getTime(),
  });
}

builder.queryFields((t) => ({
  users: t.field({
    type: [User],
    description: 'Every staff account of the page.',
    authScopes: { $all: { internal: true, permission: 'admin' } },
    resolve: (_, __, ctx) => listUsers(ctx.db, ctx.viewer),
  }),
}));

const UserInput = builder.inputType('UserInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    name: t.string({ required: true }),
    role: t.field({ type: StaffRoleEnum, description: 'Defaults to viewer.' }),
    password: t.string({ required: true, description: `At least ${staff.passwordMinLength} characters.` }),
  }),
});

const UserPatch = builder.inputType('UserPatch', {
  description: 'Fields left out stay as they are. Disabling a user or setting their password ends their sessions.',
  fields: (t) => ({
    name: t.string(),
    role: t.field({ type: StaffRoleEnum }),
    disabled: t.boolean(),
    password: t.string(),
  }),
});

// Admin tooling answers only when the request reads as staff: asking to see the page as another
// audience makes every field answer as that audience.
const admin = { $all: { internal: true, permission: 'admin' } } as const;

builder.mutationFields((t) => ({
  signIn: t.field({
    type: User,
    description: 'Start a staff session: sets an httpOnly session cookie.',
    args: { email: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
    resolve: async (_, { email, password }, ctx) => {
      // A cookie can only be set on an HTTP response (not over a WebSocket).
      if (!ctx.request?.cookieStore) throw new DomainError('input/invalid', 'Sign in over HTTP');
      // The cookie this browser already had (anyone's session) ends: a new id for every sign-in.
      const session = await staff.signIn(ctx.service, email, password, currentSessionToken(ctx));
      await setSessionCookie(ctx, session.token, session.expiresAt);
      return session.user;
    },
  }),
  signOut: t.boolean({
    description: 'End the current session and clear its cookie. True when a session was ended.',
    resolve: async (_, __, ctx) => {
      const ended = await staff.signOut(ctx.service, currentSessionToken(ctx));
      if (ctx.request?.cookieStore) await setSessionCookie(ctx, '', new Date(0));
      return ended;
    },
  }),
  signOutEverywhere: t.int({
    description: "End every session of the signed-in user, this one included, and clear this cookie. Returns how many sessions ended.",
    resolve: async (_, __, ctx) => {
      const ended = await staff.signOutEverywhere(ctx.service);
      if (ctx.request?.cookieStore) await setSessionCookie(ctx, '', new Date(0));
      return ended;
    },
  }),
  changePassword: t.boolean({
    description: "Change the signed-in user's password; their other sessions end.",
    args: { currentPassword: t.arg.string({ required: true }), newPassword: t.arg.string({ required: true }) },
    resolve: async (_, { currentPassword, newPassword }, ctx) => {
      await staff.changeOwnPassword(ctx.service, currentPassword, newPassword, currentSessionToken(ctx));
      return true;
    },
  }),
  createUser: t.field({
    type: User,
    authScopes: admin,
    args: { input: t.arg({ type: UserInput, required: true }) },
    resolve: (_, { input }, ctx) => staff.createUser(ctx.service, stripNulls(input)),
  }),
  updateUser: t.field({
    type: User,
    authScopes: admin,
    args: { id: t.arg.id({ required: true }), patch: t.arg({ type: UserPatch, required: true }) },
    resolve: (_, { id, patch }, ctx) => staff.updateUser(ctx.service, String(id), patch as never),
  }),
  deleteUser: t.field({
    type: 'ID',
    authScopes: admin,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, ctx) => (await staff.deleteUser(ctx.service, String(id))).id,
  }),
}));
