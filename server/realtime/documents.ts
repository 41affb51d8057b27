import {
  getOperationAST,
  GraphQLError,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { defaultLimits } from '../limits/config.js';
import { DocumentLimiter, withoutHttp, type LimitTier } from '../limits/graphql.js';

export interface PreparedDocument {
  document: DocumentNode;
  operation: OperationDefinitionNode;
}

/**
 * Parse and validate each distinct operation text once; thousands of subscribers send the same
 * few documents. Bounded so a client inventing documents cannot grow it without limit.
 */
export class DocumentCache {
  private readonly entries = new Map<string, PreparedDocument | readonly GraphQLError[]>();
  parses = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly capacity = 500,
    /** The abuse limits (server/limits/graphql.ts); the default limits when not given. */
    readonly limiter = new DocumentLimiter(schema, defaultLimits),
  ) {}

  /**
   * `tier`: the caller's limits (server/limits/graphql.ts), checked on every call, cached or not.
   * Without it only the loosest tier's token bound applies: a caller that learns the viewer
   * later must then run `limiter.check` itself (server/limits/live.ts does for SSE).
   */
  prepare(query: unknown, operationName?: string | null, tier?: LimitTier): PreparedDocument | readonly GraphQLError[] {
    const prepared = this.lookup(query, operationName);
    if (!tier || !isPrepared(prepared)) return prepared;
    const refused = this.limiter.check(prepared.document, tier);
    return refused.length ? withoutHttp(refused) : prepared;
  }

  private lookup(query: unknown, operationName?: string | null): PreparedDocument | readonly GraphQLError[] {
    if (typeof query !== 'string' || !query) return [new GraphQLError('Must provide a query string', { extensions: { code: 'input/invalid' } })];
    const key = `${operationName ?? ''}\n${query}`;
    const hit = this.entries.get(key);
    if (hit) {
      // Refresh recency: Map keeps insertion order, so re-inserting moves it to the end.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const prepared = this.compile(query, operationName);
    this.entries.set(key, prepared);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return prepared;
  }

  private compile(query: string, operationName?: string | null): PreparedDocument | readonly GraphQLError[] {
    this.parses++;
    let document: DocumentNode;
    try {
      // Bounded by the loosest tier's token count while it is lexed.
      document = this.limiter.parse(query);
    } catch (error) {
      return withoutHttp([error as GraphQLError]);
    }
    const errors = validate(this.schema, document);
    if (errors.length) return errors.map(withoutSuggestions);
    const operation = getOperationAST(document, operationName);
    if (!operation) return [new GraphQLError('Unable to identify the operation to run', { extensions: { code: 'input/invalid' } })];
    return { document, operation };
  }
}

/** Same rule as the HTTP endpoint: no "Did you mean …" hints. */
function withoutSuggestions(error: GraphQLError): GraphQLError {
  const message = error.message.replace(/ ?Did you mean .*\?$/, ' [Suggestion hidden]');
  return message === error.message ? error : new GraphQLError(message, { nodes: error.nodes, extensions: error.extensions });
}

export function isPrepared(value: PreparedDocument | readonly GraphQLError[]): value is PreparedDocument {
  return !Array.isArray(value);
}
