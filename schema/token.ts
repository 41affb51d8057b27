import { builder } from './builder.js';
import { TokenScopeEnum } from './enums.js';
import { listApiTokens, listAudienceTokens, type ApiTokenInfo, type AudienceTokenInfo } from '../server/read/access.js';
import * as tokens from '../server/services/tokens.js';
import type { TokenScope } from '../server/domain/vocabulary.js';
import { Deployment } from './deployment.js';

/** API and audience tokens: admin only, type and field. The secret's hash is never exposed. */

// Admin tooling answers only when the request reads as staff: asking to see the page as another
// audience makes every field answer as that audience.
const admin = { $all: { internal: true, permission: 'admin' } } as const;

export const ApiToken = builder.objectRef<ApiTokenInfo>('ApiToken');
ApiToken.implement({
  description: 'A token for tools, limited to its scopes.',
  authScopes: admin,
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the token, to recognise it by.' }),
    scopes: t.field({ type: [TokenScopeEnum], resolve: (row) => row.scopes as TokenScope[] }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Accurate to about a minute.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const AudienceToken = builder.objectRef<AudienceTokenInfo>('AudienceToken');
AudienceToken.implement({
  description: "A token that reads as one deployment's audience: what a protected deployment's customers get.",
  authScopes: admin,
  fields: (t) => ({
    id: t.exposeID('id'),
    label: t.exposeString('label'),
    prefix: t.exposeString('prefix'),
    deploymentId: t.exposeID('deploymentId'),
    deployment: t.field({
      type: Deployment,
      nullable: true,
      description: 'Null when the caller reads as an audience that cannot see it.',
      resolve: (row, _, ctx) => ctx.loaders.deployment.load(row.deploymentId),
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const CreatedApiToken = builder.objectRef<tokens.CreatedApiToken>('CreatedApiToken');
CreatedApiToken.implement({
  authScopes: admin,
  fields: (t) => ({
    token: t.exposeString('token', { description: 'The secret. Shown this once; it cannot be retrieved again.' }),
    apiToken: t.field({ type: ApiToken, resolve: (r) => r.apiToken }),
  }),
});

const CreatedAudienceToken = builder.objectRef<tokens.CreatedAudienceToken>('CreatedAudienceToken');
CreatedAudienceToken.implement({
  authScopes: admin,
  fields: (t) => ({
    token: t.exposeString('token', { description: 'The secret. Shown this once; it cannot be retrieved again.' }),
    audienceToken: t.field({ type: AudienceToken, resolve: (r) => r.audienceToken }),
  }),
});

builder.queryFields((t) => ({
  apiTokens: t.field({
    type: [ApiToken],
    authScopes: admin,
    description: 'Every API token of the page, newest first (revoked and expired ones included).',
    resolve: (_, __, ctx) => listApiTokens(ctx.db, ctx.viewer),
  }),
  audienceTokens: t.field({
    type: [AudienceToken],
    authScopes: admin,
    args: { deploymentId: t.arg.id() },
    // Only an absent filter lists every deployment's tokens; "" names no deployment, so it lists none.
    resolve: (_, { deploymentId }, ctx) => listAudienceTokens(ctx.db, ctx.viewer, { deploymentId: deploymentId == null ? undefined : String(deploymentId) }),
  }),
}));

const ApiTokenInput = builder.inputType('ApiTokenInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    scopes: t.field({ type: [TokenScopeEnum], required: true }),
    expiresAt: t.field({ type: 'DateTime', description: 'Never expires when left out.' }),
  }),
});

const AudienceTokenInput = builder.inputType('AudienceTokenInput', {
  fields: (t) => ({
    deploymentId: t.id({ required: true }),
    label: t.string({ required: true, description: 'Whom it was given to.' }),
    expiresAt: t.field({ type: 'DateTime' }),
  }),
});

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreatedApiToken,
    authScopes: admin,
    args: { input: t.arg({ type: ApiTokenInput, required: true }) },
    resolve: (_, { input }, ctx) => tokens.createApiToken(ctx.service, { name: input.name, scopes: input.scopes, expiresAt: input.expiresAt ?? null }),
  }),
  revokeApiToken: t.field({
    type: ApiToken,
    authScopes: admin,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => tokens.revokeApiToken(ctx.service, String(id)),
  }),
  createAudienceToken: t.field({
    type: CreatedAudienceToken,
    authScopes: admin,
    args: { input: t.arg({ type: AudienceTokenInput, required: true }) },
    resolve: (_, { input }, ctx) =>
      tokens.createAudienceToken(ctx.service, { deploymentId: String(input.deploymentId), label: input.label, expiresAt: input.expiresAt ?? null }),
  }),
  revokeAudienceToken: t.field({
    type: AudienceToken,
    authScopes: admin,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => tokens.revokeAudienceToken(ctx.service, String(id)),
  }),
}));
