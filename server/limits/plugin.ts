import type { IncomingMessage } from 'node:http';
import { getArgumentValues } from 'graphql/execution/values.js';
import { GraphQLError, Kind, getOperationAST, type DocumentNode, type ExecutionArgs, type FieldNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Viewer } from '../auth/viewer.js';
import type { GraphQLContext } from '../context.js';
import { clientIp } from './client-ip.js';
import type { Limits } from './config.js';
import { limitTier, type DocumentLimiter } from './graphql.js';
import type { RateLimits } from './rate.js';

/** What a rate limit keys on for one request. */
export function actorKey(viewer: Viewer, ip: string): string {
  const actor = viewer.actor;
  if (actor.type === 'user') return `user:${actor.id}`;
  if (actor.type === 'api_token' || actor.type === 'audience_token') return `token:${actor.id}`;
  return `ip:${ip}`;
}

/**
 * Rate limits for one operation: anonymous callers per IP, tokens per token, mutations per actor.
 * Throws RateLimitedError.
 */
export async function admitOperation(rates: RateLimits, viewer: Viewer, kind: OperationDefinitionNode['operation'], ip: string): Promise<void> {
  const actor = viewer.actor;
  if (actor.type === 'anonymous') await rates.read(ip);
  else if (actor.type === 'api_token' || actor.type === 'audience_token') await rates.tokenUse(actor.id);
  if (kind === 'mutation') await rates.write(actorKey(viewer, ip));
  if (kind === 'subscription') await rates.subscribe(ip);
}

type LimitsContext = GraphQLContext & { req?: IncomingMessage };

export function requestIp(context: { req?: IncomingMessage; request?: Request }, trustProxy: Limits['trustProxy']): string {
  return clientIp(context.req?.socket?.remoteAddress, context.request?.headers.get('x-forwarded-for'), trustProxy);
}

/**
 * The yoga side of the abuse limits: every document parsed under the loosest token bound, then
 * per caller (the viewer is known by now) the document limits and introspection, the rate
 * limits, and the sign-in lock-out.
 */
export function useLimits(options: { schema: GraphQLSchema; documents: DocumentLimiter; rates: RateLimits; limits: Limits }): Plugin<LimitsContext> {
  const { documents, rates, limits } = options;

  async function admit(args: ExecutionArgs): Promise<{ errors: readonly GraphQLError[] } | { settle?: (result: { errors?: readonly GraphQLError[]; data?: unknown }) => Promise<void> }> {
    const context = args.contextValue as LimitsContext;
    const viewer = context.viewer;
    const refused = documents.check(args.document, limitTier(viewer));
    if (refused.length) return { errors: refused };
    const operation = getOperationAST(args.document, args.operationName);
    if (!operation) return {};
    const ip = requestIp(context, limits.trustProxy);
    try {
      const signIns = operation.operation === 'mutation' ? rootFields(args.document, operation).filter((f) => f.name.value === 'signIn') : [];
      if (signIns.length > 1) return { errors: [new GraphQLError('One signIn per request', { extensions: { code: 'input/invalid', http: { status: 400 } } })] };
      // A sign-in is counted by its own lock-out, not as a write.
      if (signIns.length === 0) await admitOperation(rates, viewer, operation.operation, ip);
      else if (viewer.actor.type === 'anonymous') await rates.read(ip);
      const signIn = signIns[0];
      if (!signIn) return {};
      const email = signInEmail(options.schema, signIn, args.variableValues);
      const attempt = await rates.signInAttempt(`${viewer.page.id}:${email}`, ip);
      const key = signIn.alias?.value ?? signIn.name.value;
      return {
        settle: async (result) => {
          const failed = result.errors?.some((e) => e.path?.[0] === key && e.extensions?.code === 'auth/invalid_credentials') ?? false;
          const succeeded = !!(result.data as Record<string, unknown> | null | undefined)?.[key];
          // Any other outcome (bad input) counts as an attempt, like a failure.
          await attempt.settle(succeeded && !failed);
        },
      };
    } catch (error) {
      if (error instanceof GraphQLError) return { errors: [error] };
      throw error;
    }
  }

  return {
    onParse({ setParseFn }) {
      setParseFn(documents.parse);
    },
    async onExecute({ args, setResultAndStopExecution }) {
      const admitted = await admit(args);
      if ('errors' in admitted) return void setResultAndStopExecution({ errors: admitted.errors });
      const settle = admitted.settle;
      if (!settle) return;
      return {
        async onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result) return;
          await settle(result);
        },
      };
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const admitted = await admit(args);
      if ('errors' in admitted) setResultAndStopExecution({ errors: admitted.errors });
    },
  };
}

/** The root fields of an operation, through fragments (a mutation's fields may sit in one). */
function rootFields(document: DocumentNode, operation: OperationDefinitionNode): FieldNode[] {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const out: FieldNode[] = [];
  const seen = new Set<string>();
  const walk = (selections: OperationDefinitionNode['selectionSet']['selections']) => {
    for (const s of selections) {
      if (s.kind === Kind.FIELD) out.push(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet.selections);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) walk(fragment.selectionSet.selections);
      }
    }
  };
  walk(operation.selectionSet.selections);
  return out;
}

function signInEmail(schema: GraphQLSchema, field: FieldNode, variables: ExecutionArgs['variableValues']): string {
  const definition = schema.getMutationType()?.getFields().signIn;
  try {
    const args = definition ? getArgumentValues(definition, field, variables ?? {}) : {};
    return typeof args.email === 'string' ? args.email.trim().toLowerCase().slice(0, 320) : '';
  } catch {
    return '';
  }
}
