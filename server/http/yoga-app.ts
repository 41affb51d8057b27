import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { useCookies } from '@whatwg-node/server-plugin-cookies';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { schema } from '../../schema/index.js';
import { credentialsFromRequest, resolveViewer } from '../auth/resolve-viewer.js';
import { createGraphQLContext, type GraphQLContext } from '../context.js';
import type { Database } from '../db/client.js';
import type { CommitListener } from '../domain/events.js';
import { useInputErrorCodes } from './error-codes-plugin.js';
import { useInputTextCheck } from './input-text-plugin.js';
import { useCsrfPrevention } from './csrf-plugin.js';
import { useBodyLimit } from '../limits/body.js';
import { resolveLimits, type Limits, type LimitsOverride } from '../limits/config.js';
import { DocumentLimiter, limitTier, mayIntrospect } from '../limits/graphql.js';
import { useLimits } from '../limits/plugin.js';
import { RateLimits } from '../limits/rate.js';

export interface HubOptions {
  database: Database;
  logger?: Logger;
  onCommit?: CommitListener;
  cookieSecure?: boolean;
  /** Abuse limits over the defaults (server/limits/config.ts); tests set tiny ones. */
  limits?: LimitsOverride | Limits;
  /** Shared with the live transports by server/node.ts; in-memory counts otherwise. */
  rates?: RateLimits;
  documentLimiter?: DocumentLimiter;
}

export type Yoga = YogaServerInstance<Record<string, unknown>, GraphQLContext>;

/** The GraphQL endpoint: every request resolves its viewer (page, actor, audience) first. */
export function createYogaApp({ database, logger, onCommit, cookieSecure = false, ...options }: HubOptions): Yoga {
  const limits = resolveLimits(options.limits);
  const rates = options.rates ?? RateLimits.memory(limits);
  const documents = options.documentLimiter ?? new DocumentLimiter(schema, limits);
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // GraphiQL for staff (signed in, or a token) unless GRAPHIQL says otherwise.
    graphiql: async (request) => {
      if (limits.graphiql === 'off') return false;
      if (limits.graphiql === 'all') return { title: 'statushub GraphQL' };
      try {
        const viewer = await resolveViewer(database.db, credentialsFromRequest(request));
        return mayIntrospect('staff', limitTier(viewer)) ? { title: 'statushub GraphQL' } : false;
      } catch {
        return false;
      }
    },
    // Counted by useBodyLimit, which answers with our own error code.
    maxRequestBodySize: false,
    // Never unmasked: unexpected errors reach clients as "Unexpected error." only.
    maskedErrors: true,
    // Embeds (server/http/embed.ts) read the status from any site. Any origin, never credentials: yoga's
    // default would reflect the origin *with* Access-Control-Allow-Credentials. The session cookie
    // is SameSite=Lax as well, so no cross-site POST carries it either way.
    cors: { origin: '*', credentials: false },
    logging: logger ? { debug: (...a) => logger.debug(a), info: (...a) => logger.info(a), warn: (...a) => logger.warn(a), error: (...a) => logger.error(a) } : false,
    context: async ({ request }) => {
      const viewer = await resolveViewer(database.db, credentialsFromRequest(request));
      return createGraphQLContext(database.db, viewer, { onCommit, request, cookieSecure });
    },
    plugins: [
      useBodyLimit(limits.maxBodyBytes),
      useLimits({ schema, documents, rates, limits }),
      useCsrfPrevention(),
      useCookies(),
      // "Did you mean …" suggestions would name fields a caller never asked about.
      blockFieldSuggestionsPlugin(),
      useInputErrorCodes(),
      useInputTextCheck(),
    ],
  });
}
