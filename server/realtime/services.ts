import type { GraphQLSchema } from 'graphql';
import type { Credentials } from '../auth/resolve-viewer.js';
import type { Viewer } from '../auth/viewer.js';
import type { DocumentCache } from './documents.js';
import type { AccessWatch } from './access.js';
import type { LiveHub } from './hub.js';
import type { LiveLimits } from '../limits/live.js';

/** What the live transports need from the rest of the server. */
export interface LiveServices {
  schema: GraphQLSchema;
  documents: DocumentCache;
  hub: LiveHub;
  /** Where every open stream registers its credentials, re-checked when access changes. */
  access: AccessWatch;
  resolveViewer(credentials: Credentials): Promise<Viewer>;
  /** The GraphQL endpoint as over HTTP (yoga with every plugin); `serverContext.req` is the client's request. */
  http(request: Request, serverContext: { req: import('node:http').IncomingMessage }): Promise<Response>;
  /** Abuse limits (server/limits/live.ts); none when absent (tests of the hub alone). */
  limits?: LiveLimits;
}
