import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { apiTokens, audienceTokens, deployments } from '../db/tables/index.js';
import { newSecret } from '../auth/secrets.js';
import { invalidInput, notFound } from '../domain/errors.js';
import { id, inputSchema, isId, text } from '../domain/validate.js';
import { tokenScopes } from '../domain/vocabulary.js';
import { apiTokenColumns, audienceTokenColumns, type ApiTokenInfo, type AudienceTokenInfo } from '../read/access.js';
import { requirePermission, transact, type ServiceContext, type Writer } from './context.js';

/**
 * API tokens (tools, with scopes) and audience tokens (one deployment's customers). The
 * plaintext exists only in the create call's answer; the database and the event log hold
 * neither it nor its hash.
 */

const expiresAt = z.date({ error: 'must be a date' }).nullable();

const apiTokenInput = inputSchema(
  {
    name: text.name,
    scopes: z
      .array(z.enum(tokenScopes))
      .min(1, 'must name at least one scope')
      .transform((s) => [...new Set(s)]),
    expiresAt,
  },
  { expiresAt: null },
);

const audienceTokenInput = inputSchema({ deploymentId: id, label: text.name, expiresAt }, { expiresAt: null });

function assertFuture(at: Date | null): void {
  if (at && at.getTime() <= Date.now()) throw invalidInput('expiresAt', 'must be in the future');
}

export interface CreatedApiToken {
  /** Shown once; only its sha256 is stored. */
  token: string;
  apiToken: ApiTokenInfo;
}

export interface CreatedAudienceToken {
  token: string;
  audienceToken: AudienceTokenInfo;
}

async function lockApiToken(w: Writer, ctx: ServiceContext, tokenId: string): Promise<ApiTokenInfo> {
  if (!isId(tokenId)) throw notFound('token');
  const [row] = await w.tx
    .select(apiTokenColumns)
    .from(apiTokens)
    .where(and(eq(apiTokens.id, tokenId), eq(apiTokens.pageId, ctx.viewer.page.id)))
    .for('update');
  if (!row) throw notFound('token');
  return row;
}

async function lockAudienceToken(w: Writer, ctx: ServiceContext, tokenId: string): Promise<AudienceTokenInfo> {
  if (!isId(tokenId)) throw notFound('token');
  const [row] = await w.tx
    .select(audienceTokenColumns)
    .from(audienceTokens)
    .where(and(eq(audienceTokens.id, tokenId), eq(audienceTokens.pageId, ctx.viewer.page.id)))
    .for('update');
  if (!row) throw notFound('token');
  return row;
}

/** Issue an API token; the answer carries the plaintext, which is never shown again. */
export async function createApiToken(ctx: ServiceContext, input: Parameters<typeof apiTokenInput.create>[0]): Promise<CreatedApiToken> {
  requirePermission(ctx, 'admin');
  const data = apiTokenInput.create(input);
  assertFuture(data.expiresAt);
  const secret = newSecret('api');
  const createdBy = ctx.viewer.actor.type === 'user' ? ctx.viewer.actor.id : null;
  return transact(ctx, async (w) => {
    const [row] = await w.tx
      .insert(apiTokens)
      .values({ ...data, pageId: ctx.viewer.page.id, tokenHash: secret.hash, prefix: secret.prefix, createdBy })
      .returning(apiTokenColumns);
    await w.record({ action: 'api_token.created', entityType: 'api_token', entityId: row!.id, after: row! });
    return { token: secret.value, apiToken: row! };
  });
}

/** Revoke an API token; it stops working on the next request. Revoking twice is a no-op. */
export async function revokeApiToken(ctx: ServiceContext, tokenId: string): Promise<ApiTokenInfo> {
  requirePermission(ctx, 'admin');
  return transact(ctx, async (w) => {
    const before = await lockApiToken(w, ctx, tokenId);
    if (before.revokedAt) return before;
    const [row] = await w.tx.update(apiTokens).set({ revokedAt: sql`now()` }).where(eq(apiTokens.id, tokenId)).returning(apiTokenColumns);
    await w.record({ action: 'api_token.revoked', entityType: 'api_token', entityId: tokenId, before, after: row! });
    return row!;
  });
}

/** Issue a token that reads as one deployment's audience (for customers of a protected deployment). */
export async function createAudienceToken(ctx: ServiceContext, input: Parameters<typeof audienceTokenInput.create>[0]): Promise<CreatedAudienceToken> {
  requirePermission(ctx, 'admin');
  const data = audienceTokenInput.create(input);
  assertFuture(data.expiresAt);
  const secret = newSecret('audience');
  return transact(ctx, async (w) => {
    const [deployment] = await w.tx
      .select({ id: deployments.id })
      .from(deployments)
      .where(and(eq(deployments.id, data.deploymentId), eq(deployments.pageId, ctx.viewer.page.id)));
    if (!deployment) throw invalidInput('deploymentId', 'no such deployment');
    const [row] = await w.tx
      .insert(audienceTokens)
      .values({ ...data, pageId: ctx.viewer.page.id, tokenHash: secret.hash, prefix: secret.prefix })
      .returning(audienceTokenColumns);
    await w.record({ action: 'audience_token.created', entityType: 'audience_token', entityId: row!.id, after: row! });
    return { token: secret.value, audienceToken: row! };
  });
}

/** Revoke an audience token. Revoking twice is a no-op. */
export async function revokeAudienceToken(ctx: ServiceContext, tokenId: string): Promise<AudienceTokenInfo> {
  requirePermission(ctx, 'admin');
  return transact(ctx, async (w) => {
    const before = await lockAudienceToken(w, ctx, tokenId);
    if (before.revokedAt) return before;
    const [row] = await w.tx
      .update(audienceTokens)
      .set({ revokedAt: sql`now()` })
      .where(eq(audienceTokens.id, tokenId))
      .returning(audienceTokenColumns);
    await w.record({ action: 'audience_token.revoked', entityType: 'audience_token', entityId: tokenId, before, after: row! });
    return row!;
  });
}
