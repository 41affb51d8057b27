import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import { GraphQLError, Lexer, print, Source, TokenKind, validate, type DocumentNode, type GraphQLSchema, type ParseOptions, type ValidationRule } from 'graphql';
import type { Viewer } from '../auth/viewer.js';
import type { DocumentLimits, Exposure, Limits } from './config.js';

/**
 * Per-caller GraphQL document limits (GraphQL Armor's rules): depth, aliases, tokens, directives
 * and cost, strictest for anonymous callers, plus introspection for staff only (by default).
 *
 * Where they run: the viewer is only known after yoga has parsed and validated (its context
 * factory resolves it), and yoga caches parse and validation results by document text for every
 * caller alike. So the parser bounds every document by the loosest tier's token count (what
 * parsing and validating may cost), and the per-tier check runs just before execution with the
 * viewer at hand, memoised per parsed document (yoga hands out the same DocumentNode for the same
 * text). The live transports (server/realtime/documents.ts) call the same two functions.
 */

export type LimitTier = 'anonymous' | 'staff';

/** Signed-in staff and API tokens get the staff limits; anonymous callers and audience tokens the strict ones. */
export function limitTier(viewer: Pick<Viewer, 'actor'> | undefined): LimitTier {
  const type = viewer?.actor.type;
  return type === 'user' || type === 'api_token' || type === 'system' ? 'staff' : 'anonymous';
}

export function mayIntrospect(exposure: Exposure, tier: LimitTier): boolean {
  return exposure === 'all' || (exposure === 'staff' && tier === 'staff');
}

const names: Record<keyof DocumentLimits, string> = { depth: 'depth', aliases: 'aliases', tokens: 'tokens', cost: 'cost', directives: 'directives' };

export function tooComplex(limit: keyof DocumentLimits, max: number, found?: number): GraphQLError {
  const message = `Query too complex: ${names[limit]} limit of ${max} exceeded${found === undefined ? '' : `, found ${found}`}`;
  // `spec`: a request error like yoga's own parse and validation errors: 400 when the client
  // accepts application/graphql-response+json, 200 under plain application/json.
  return new GraphQLError(message, { extensions: { code: 'input/too_complex', limit, max, ...(found === undefined ? {} : { found }), http: { status: 400, spec: true } } });
}

export class DocumentLimiter {
  private readonly memo = new WeakMap<DocumentNode, Partial<Record<LimitTier, readonly GraphQLError[]>>>();
  private readonly tokenCounts = new WeakMap<DocumentNode, number>();
  private readonly parseBound: number;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly limits: Pick<Limits, 'anonymous' | 'staff' | 'introspection'>,
  ) {
    this.parseBound = Math.max(limits.anonymous.tokens, limits.staff.tokens);
  }

  /** graphql's parse, refusing documents over the loosest tier's token limit as soon as the lexer passes it. */
  readonly parse = (source: string | Source, options?: ParseOptions): DocumentNode => {
    const bound = this.parseBound;
    const onReject: GraphQLArmorRejectCallback[] = [
      () => {
        throw tooComplex('tokens', bound);
      },
    ];
    const parser = new MaxTokensParserWLexer(source, { ...options, n: bound, onReject });
    return parser.parseDocument();
  };

  /** The errors that refuse this (schema-valid) document for this tier; empty when it fits. */
  check(document: DocumentNode, tier: LimitTier): readonly GraphQLError[] {
    let byTier = this.memo.get(document);
    if (!byTier) this.memo.set(document, (byTier = {}));
    return (byTier[tier] ??= this.compute(document, tier));
  }

  private compute(document: DocumentNode, tier: LimitTier): readonly GraphQLError[] {
    const limits = this.limits[tier];
    const tokens = this.countTokens(document);
    if (tokens > limits.tokens) return [tooComplex('tokens', limits.tokens, tokens)];
    const errors: GraphQLError[] = [];
    const reject =
      (limit: keyof DocumentLimits, max: number): GraphQLArmorRejectCallback =>
      (_context, error) => {
        const found = Number(/found ([\d.]+)/.exec(error.message)?.[1]);
        errors.push(tooComplex(limit, max, Number.isFinite(found) ? found : undefined));
      };
    const common = { propagateOnRejection: false, exposeLimits: true } as const;
    const rules: ValidationRule[] = [
      // NOTE: flattenFragments counts the fields' real nesting. Armor's default counts each
      // fragment spread as one more level: the public summary (5 levels of fields) would count 9.
      maxDepthRule({ ...common, n: limits.depth, flattenFragments: true, onReject: [reject('depth', limits.depth)] }) as unknown as ValidationRule,
      maxAliasesRule({ ...common, n: limits.aliases, onReject: [reject('aliases', limits.aliases)] }) as unknown as ValidationRule,
      maxDirectivesRule({ ...common, n: limits.directives, onReject: [reject('directives', limits.directives)] }) as unknown as ValidationRule,
      costLimitRule({ ...common, maxCost: limits.cost, flattenFragments: true, onReject: [reject('cost', limits.cost)] }) as unknown as ValidationRule,
    ];
    if (!mayIntrospect(this.limits.introspection, tier)) rules.push(noIntrospection);
    const reported = validate(this.schema, document, rules);
    return [...errors, ...reported];
  }

  private countTokens(document: DocumentNode): number {
    let count = this.tokenCounts.get(document);
    if (count === undefined) {
      count = 0;
      // A document parsed without locations is counted from its printed form.
      const lexer = new Lexer(new Source(document.loc?.source.body ?? print(document)));
      while (lexer.advance().kind !== TokenKind.EOF) count++;
      this.tokenCounts.set(document, count);
    }
    return count;
  }
}

/** `__schema` and `__type` (not `__typename`) anywhere in the document. */
const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '__schema' || node.name.value === '__type') {
      context.reportError(
        new GraphQLError('Introspection is disabled for this caller', { nodes: node, extensions: { code: 'auth/introspection_disabled', http: { status: 403 } } }),
      );
    }
  },
});

/** The same errors without the HTTP hint (for the live transports, which send extensions as they are). */
export function withoutHttp(errors: readonly GraphQLError[]): GraphQLError[] {
  return errors.map((e) => {
    if (!e.extensions?.http) return e;
    const { http: _http, ...extensions } = e.extensions;
    return new GraphQLError(e.message, { nodes: e.nodes, extensions });
  });
}
