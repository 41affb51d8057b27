import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import RelayPlugin from '@pothos/plugin-relay';
import type { GraphQLContext } from '../server/context.js';
import { can, isInternal, type Permission } from '../server/auth/viewer.js';
import { DomainError } from '../server/domain/errors.js';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: {
    /** The request reads as the `internal` audience (staff, or a token with read:internal). */
    internal: boolean;
    /** The actor holds this permission (role or token scope). */
    permission: Permission;
  };
  Scalars: { DateTime: { Input: Date; Output: Date } };
  DefaultFieldNullability: false;
}>({
  // Scope-auth first, so its checks wrap every other plugin's resolvers.
  plugins: [ScopeAuthPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      internal: isInternal(ctx.viewer),
      permission: (permission) => can(ctx.viewer, permission),
    }),
    unauthorizedError: () => new DomainError('auth/forbidden', 'Not authorised'),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
});

builder.queryType({});
builder.mutationType({});
