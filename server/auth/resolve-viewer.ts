import { parseCookie } from 'cookie';
import { and, asc, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { apiTokens, audienceTokens, deployments, pages, sessions, users, type PageRow } from '../db/tables/index.js';
import { DomainError } from '../domain/errors.js';
import type { TokenScope } from '../domain/vocabulary.js';
import { parseAudienceRequest, type Audience } from './audience.js';
import { hashSecret, secretKind } from './secrets.js';
import { actorCan, type Actor, type Viewer } from './viewer.js';

export const sessionCookie = 'statushub_session';

/** What identifies the caller, however it arrived (HTTP headers, WebSocket connection params). */
export interface Credentials {
  host?: string | null;
  /** Page slug asked for explicitly (`?page=` or `x-statushub-page`). */
  pageSlug?: string | null;
  /** `public`, `internal` or `deployment:<slug>` (`?audience=` or `x-statushub-audience`). */
  audience?: string | null;
  sessionToken?: string | null;
  bearer?: string | null;
}

export function credentialsFromRequest(request: Request): Credentials {
  return credentialsFrom(new URL(request.url), (name) => request.headers.get(name));
}

/** The same, from any transport that has a URL and headers (HTTP, the WebSocket upgrade request). */
export function credentialsFrom(url: URL, header: (name: string) => string | null | undefined): Credentials {
  const cookies = parseCookies(header('cookie') ?? null);
  const auth = header('authorization');
  return {
    host: header('host') ?? url.host,
    pageSlug: header('x-statushub-page') ?? url.searchParams.get('page'),
    audience: header('x-statushub-audience') ?? url.searchParams.get('audience'),
    sessionToken: cookies.get(sessionCookie) ?? null,
    // `?access_token=` lets a customer's signed link carry its audience token.
    bearer: auth?.startsWith('Bearer ') ? auth.slice(7).trim() : url.searchParams.get('access_token'),
  };
}

/**
 * The Cookie header, parsed by the `cookie` package: a value that is not valid percent-encoding
 * (another site's `x=100%`) is kept as written instead of failing the request.
 */
export function parseCookies(header: string | null): Map<string, string> {
  const jar = new Map<string, string>();
  for (const [name, value] of Object.entries(header ? parseCookie(header) : {})) if (value !== undefined) jar.set(name, value);
  return jar;
}

// A page slug or custom domain can only be made of these; anything else names no page and is
// never sent to the database (PostgreSQL refuses NUL in text, and would fail the request).
const pageSlugPattern = /^[a-z0-9-]{1,63}$/;
const hostnamePattern = /^[a-z0-9.-]{1,253}$/;

/** Pick the page, authenticate the caller and settle the one audience this request reads as. */
export async function resolveViewer(db: Db, credentials: Credentials): Promise<Viewer> {
  const page = await resolvePage(db, credentials);
  const { actor, expiresAt } = await resolveActor(db, page, credentials);
  const audience = await resolveAudience(db, page, actor, credentials.audience);
  return { page, actor, audience, credentialExpiresAt: expiresAt };
}

async function resolvePage(db: Db, { host, pageSlug }: Credentials): Promise<PageRow> {
  if (pageSlug) {
    if (!pageSlugPattern.test(pageSlug)) throw new DomainError('page/not_found', 'Page not found');
    const [page] = await db.select().from(pages).where(eq(pages.slug, pageSlug));
    if (!page) throw new DomainError('page/not_found', 'Page not found');
    return page;
  }
  const hostname = host?.replace(/:\d+$/, '').toLowerCase();
  if (hostname && !hostnamePattern.test(hostname)) return resolvePage(db, { pageSlug: null, host: null });
  const [page] = await db
    .select()
    .from(pages)
    .where(hostname ? or(eq(pages.customDomain, hostname), eq(pages.isDefault, true)) : eq(pages.isDefault, true))
    .orderBy(desc(sql`coalesce(${pages.customDomain} = ${hostname ?? ''}, false)`), asc(pages.createdAt))
    .limit(1);
  if (page) return page;
  const [first] = await db.select().from(pages).orderBy(asc(pages.createdAt)).limit(1);
  if (!first) throw new DomainError('page/not_found', 'No status page has been set up yet');
  return first;
}

async function resolveActor(db: Db, page: PageRow, { sessionToken, bearer }: Credentials): Promise<{ actor: Actor; expiresAt: Date | null }> {
  const now = new Date();
  if (bearer) {
    const kind = secretKind(bearer);
    const hash = hashSecret(bearer);
    if (kind === 'api') {
      const [token] = await db
        .select()
        .from(apiTokens)
        .where(and(eq(apiTokens.tokenHash, hash), eq(apiTokens.pageId, page.id), isNull(apiTokens.revokedAt), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now))));
      if (token) {
        if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() >= lastUsedResolutionMs) await touchApiToken(db, token.id, now);
        return { actor: { type: 'api_token', id: token.id, name: token.name, scopes: token.scopes as TokenScope[] }, expiresAt: token.expiresAt };
      }
    } else if (kind === 'audience') {
      const [token] = await db
        .select()
        .from(audienceTokens)
        .where(and(eq(audienceTokens.tokenHash, hash), eq(audienceTokens.pageId, page.id), isNull(audienceTokens.revokedAt), or(isNull(audienceTokens.expiresAt), gt(audienceTokens.expiresAt, now))));
      if (token) return { actor: { type: 'audience_token', id: token.id, deploymentId: token.deploymentId }, expiresAt: token.expiresAt };
    }
    // A presented but unusable credential is an error, not a silent downgrade to public.
    throw new DomainError('auth/unauthenticated', 'The access token is invalid, expired or revoked');
  }
  if (sessionToken) {
    const [row] = await db
      .select({ user: users, expiresAt: sessions.expiresAt })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.tokenHash, hashSecret(sessionToken)), gt(sessions.expiresAt, now), isNull(users.disabledAt), eq(users.pageId, page.id)));
    // An expired session cookie just means "signed out".
    if (row) return { actor: { type: 'user', id: row.user.id, name: row.user.name, email: row.user.email, role: row.user.role }, expiresAt: row.expiresAt };
  }
  return { actor: { type: 'anonymous' }, expiresAt: null };
}

// lastUsedAt is written at most once a minute per token: a busy tool costs no write per request.
const lastUsedResolutionMs = 60_000;

async function touchApiToken(db: Db, tokenId: string, now: Date): Promise<void> {
  try {
    // The condition repeats the check so concurrent requests race to one write, not many.
    await db
      .update(apiTokens)
      .set({ lastUsedAt: now })
      .where(and(eq(apiTokens.id, tokenId), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, new Date(now.getTime() - lastUsedResolutionMs)))));
  } catch {
    // Bookkeeping only: never fail the request over it.
  }
}

async function resolveAudience(db: Db, page: PageRow, actor: Actor, requested: string | null | undefined): Promise<Audience> {
  const staff = actorCan(actor, 'read:internal');
  const wanted = requested ? parseAudienceRequest(requested) : null;
  if (requested && !wanted) throw new DomainError('input/invalid', 'audience must be public, internal or deployment:<slug>', { field: 'audience' });

  if (!wanted) {
    if (staff) return { kind: 'internal' };
    if (actor.type === 'audience_token') return deploymentAudience(db, page, actor.deploymentId);
    return { kind: 'public' };
  }
  if (wanted.kind === 'public') return { kind: 'public' };
  if (wanted.kind === 'internal') {
    if (!staff) throw new DomainError('auth/forbidden', 'Staff sign-in or a token with read:internal is required');
    return { kind: 'internal' };
  }
  const [deployment] = await db
    .select()
    .from(deployments)
    .where(and(eq(deployments.pageId, page.id), eq(deployments.slug, wanted.slug)));
  const allowed =
    deployment &&
    (deployment.access === 'open' || staff || (actor.type === 'audience_token' && actor.deploymentId === deployment.id));
  // NOTE: one answer for "no such deployment" and "protected": a slug's existence is not public.
  if (!allowed) throw new DomainError('auth/audience_token_required', 'This deployment needs an access token');
  return { kind: 'deployment', deploymentId: deployment.id, slug: deployment.slug };
}

async function deploymentAudience(db: Db, page: PageRow, deploymentId: string): Promise<Audience> {
  const [deployment] = await db
    .select({ id: deployments.id, slug: deployments.slug })
    .from(deployments)
    .where(and(eq(deployments.pageId, page.id), eq(deployments.id, deploymentId)));
  if (!deployment) throw new DomainError('auth/unauthenticated', 'The access token is invalid, expired or revoked');
  return { kind: 'deployment', deploymentId: deployment.id, slug: deployment.slug };
}
