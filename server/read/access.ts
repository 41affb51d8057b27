import { and, desc, eq, getTableColumns, asc } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { apiTokens, audienceTokens, users, type ApiTokenRow, type AudienceTokenRow, type UserRow } from '../db/tables/index.js';
import { can, type Viewer } from '../auth/viewer.js';
import { forbidden } from '../domain/errors.js';
import { isId } from '../domain/validate.js';

/**
 * Admin-only reads of staff accounts and tokens. Secret hashes are never selected, so they
 * cannot reach a resolver, a log line or a response by accident.
 */

export type StaffUser = Omit<UserRow, 'passwordHash'>;
export type ApiTokenInfo = Omit<ApiTokenRow, 'tokenHash'>;
export type AudienceTokenInfo = Omit<AudienceTokenRow, 'tokenHash'>;

const { passwordHash: _passwordHash, ...userColumns } = getTableColumns(users);
const { tokenHash: _apiHash, ...apiTokenColumns } = getTableColumns(apiTokens);
const { tokenHash: _audienceHash, ...audienceTokenColumns } = getTableColumns(audienceTokens);
export { userColumns, apiTokenColumns, audienceTokenColumns };

/** Drop secret hashes from a row (what services write to the event log and return). */
export function withoutSecrets<T extends object>(row: T): Omit<T, 'passwordHash' | 'tokenHash'> {
  const { passwordHash: _p, tokenHash: _t, ...rest } = row as T & { passwordHash?: unknown; tokenHash?: unknown };
  return rest;
}

function requireAdmin(viewer: Viewer): void {
  if (!can(viewer, 'admin')) throw forbidden();
}

export function listUsers(db: Db, viewer: Viewer): Promise<StaffUser[]> {
  requireAdmin(viewer);
  return db.select(userColumns).from(users).where(eq(users.pageId, viewer.page.id)).orderBy(asc(users.email));
}

export function listApiTokens(db: Db, viewer: Viewer): Promise<ApiTokenInfo[]> {
  requireAdmin(viewer);
  return db.select(apiTokenColumns).from(apiTokens).where(eq(apiTokens.pageId, viewer.page.id)).orderBy(desc(apiTokens.createdAt), asc(apiTokens.id));
}

export function listAudienceTokens(db: Db, viewer: Viewer, filter: { deploymentId?: string } = {}): Promise<AudienceTokenInfo[]> {
  requireAdmin(viewer);
  // A malformed id names no deployment: nothing, exactly as for an id that does not exist.
  if (filter.deploymentId !== undefined && !isId(filter.deploymentId)) return Promise.resolve([]);
  return db
    .select(audienceTokenColumns)
    .from(audienceTokens)
    .where(and(eq(audienceTokens.pageId, viewer.page.id), filter.deploymentId ? eq(audienceTokens.deploymentId, filter.deploymentId) : undefined))
    .orderBy(desc(audienceTokens.createdAt), asc(audienceTokens.id));
}
