import { getArgumentValues, getVariableValues } from 'graphql/execution/values.js';
import { GraphQLError, Kind, type GraphQLSchema } from 'graphql';
import type { LiveKind } from './envelope.js';
import { isPrepared, type DocumentCache, type PreparedDocument } from './documents.js';
import type { LimitTier } from '../limits/graphql.js';

export interface LiveOperation {
  prepared: PreparedDocument;
  variables: Record<string, unknown>;
  after: number | null;
  kinds: LiveKind[] | null;
}

/**
 * Turn a subscription request into what the hub needs: a cached, validated document, its
 * variables checked once, and the `after` / `kinds` arguments of `pageEvents`.
 * Returns null for queries and mutations (the caller hands those to yoga / graphql-ws as usual).
 */
export function prepareLiveOperation(
  schema: GraphQLSchema,
  cache: DocumentCache,
  payload: { query?: unknown; operationName?: string | null; variables?: Record<string, unknown> | null },
  /** The caller's limits when the viewer is known already (see DocumentCache.prepare). */
  tier?: LimitTier,
): LiveOperation | readonly GraphQLError[] | null {
  const prepared = cache.prepare(payload.query, payload.operationName, tier);
  if (!isPrepared(prepared)) return prepared;
  if (prepared.operation.operation !== 'subscription') return null;
  const variables = payload.variables ?? {};
  const coerced = getVariableValues(schema, prepared.operation.variableDefinitions ?? [], variables, { maxErrors: 10 });
  if (coerced.errors) return coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'input/invalid' } }));
  // Validation guarantees exactly one root field for a subscription.
  const field = prepared.operation.selectionSet.selections[0];
  if (field?.kind !== Kind.FIELD) return [new GraphQLError('Unsupported subscription', { extensions: { code: 'input/invalid' } })];
  const definition = schema.getSubscriptionType()!.getFields()[field.name.value]!;
  const args = getArgumentValues(definition, field, coerced.coerced) as { after?: number | null; kinds?: LiveKind[] | null };
  return { prepared, variables, after: args.after ?? null, kinds: args.kinds ?? null };
}
