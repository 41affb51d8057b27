import type { Db } from './db/client.js';
import type { Viewer } from './auth/viewer.js';
import type { CommitListener } from './domain/events.js';
import type { ServiceContext } from './services/context.js';
import { createLoaders, type Loaders } from './read/loaders.js';

/** Per-request GraphQL context: who is asking, and how to read and write for them. */
export interface GraphQLContext {
  db: Db;
  viewer: Viewer;
  /** Audience-filtered batch loaders for nested fields. */
  loaders: Loaders;
  /** Passed to every service call; carries the viewer and the after-commit hook. */
  service: ServiceContext;
  /** The HTTP request (cookies are set through its cookieStore); absent outside HTTP. */
  request?: Request;
  cookieSecure: boolean;
}

export interface ContextOptions {
  onCommit?: CommitListener;
  request?: Request;
  cookieSecure?: boolean;
}

export function createGraphQLContext(db: Db, viewer: Viewer, options: ContextOptions = {}): GraphQLContext {
  return {
    db,
    viewer,
    loaders: createLoaders(db, viewer),
    service: { db, viewer, onCommit: options.onCommit },
    request: options.request,
    cookieSecure: options.cookieSecure ?? false,
  };
}
