import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { audienceKey } from '../auth/audience.js';
import type { Credentials } from '../auth/resolve-viewer.js';
import type { Viewer } from '../auth/viewer.js';
import type { CommittedEvent, EntityKind, EventAction } from '../domain/events.js';

/**
 * Open streams keep the access they connected with only while it still holds. Every WebSocket
 * connection and SSE stream registers here with the credentials it was opened with; when the hub
 * reaches an event that changes access (a token revoked, a user disabled or signed out, a
 * deployment made protected, renamed or deleted), the streams that event can concern resolve
 * their credentials again before that event, or any later one, is delivered. A stream whose
 * credentials no longer resolve to the same page and audience is ended with the `auth/...` code
 * (WebSocket: close code 4403 with the code as reason; SSE: an error `next` event, then `complete`).
 * Credentials that expire end their streams on time.
 *
 * Only events that change access trigger a check, and only for the streams they can concern:
 * no credential is polled on every event.
 */

export interface AccessRevoked {
  code: string;
  message: string;
}

interface Watcher {
  viewer: Viewer;
  credentials: Credentials;
  revoke(reason: AccessRevoked): void;
  expiry?: NodeJS.Timeout;
  ended: boolean;
}

/** Event entity types whose changes can take access away. */
const accessEntities = new Set<EntityKind>(['api_token', 'audience_token', 'user', 'deployment']);
/** Actions that never take access away: no check needed. */
const harmless = new Set<EventAction>(['user.signed_in', 'user.created', 'api_token.created', 'audience_token.created', 'deployment.created']);

export function changesAccess(row: Pick<CommittedEvent, 'entityType' | 'action'>): boolean {
  return accessEntities.has(row.entityType) && !harmless.has(row.action);
}

// setTimeout takes at most 2^31-1 ms (~24.8 days); later expiries are re-armed when reached.
const maxTimer = 2_147_483_647;

export class AccessWatch {
  private readonly watchers = new Set<Watcher>();
  /**
   * Bumped when the hub starts re-checking for an access event: a stream that resolved its viewer
   * before the bump and registered after it may have been missed, so it resolves once more.
   */
  epoch = 0;

  constructor(
    private readonly resolve: (credentials: Credentials) => Promise<Viewer>,
    private readonly logger?: Logger,
  ) {}

  get size(): number {
    return this.watchers.size;
  }

  /**
   * Resolve the viewer a stream is opened with and keep watching it. Throws (a GraphQLError with
   * an `auth/...` code) when the credentials are refused now. `stop` must be called when the
   * stream ends.
   */
  async open(credentials: Credentials, revoke: (reason: AccessRevoked) => void): Promise<{ viewer: Viewer; stop(): void }> {
    const seen = this.epoch;
    let viewer = await this.resolve(credentials);
    const watcher: Watcher = { viewer, credentials, revoke, ended: false };
    this.watchers.add(watcher);
    const stop = () => this.end(watcher);
    if (this.epoch !== seen) {
      // NOTE: an access event was being checked while we resolved: it may not have seen us.
      try {
        viewer = await this.resolve(credentials);
      } catch (error) {
        stop();
        throw error;
      }
      if (!sameAccess(viewer, watcher.viewer)) {
        stop();
        throw new GraphQLError('Access changed while the stream was opened', { extensions: { code: 'auth/forbidden' } });
      }
    }
    this.armExpiry(watcher);
    return { viewer, stop };
  }

  /** Re-check every stream this event can concern; resolves once they are all settled. */
  async recheck(row: CommittedEvent): Promise<void> {
    if (!changesAccess(row)) return;
    this.epoch++;
    // Streams opened with the same credentials (every tab of one customer's token) resolve once.
    const byCredentials = new Map<string, Watcher[]>();
    for (const w of this.watchers) {
      if (w.ended || w.viewer.page.id !== row.pageId || !concerns(w.viewer, row)) continue;
      const key = JSON.stringify([w.credentials.host, w.credentials.pageSlug, w.credentials.audience, w.credentials.sessionToken, w.credentials.bearer]);
      const group = byCredentials.get(key);
      if (group) group.push(w);
      else byCredentials.set(key, [w]);
    }
    await Promise.all([...byCredentials.values()].map((group) => this.reresolve(group)));
  }

  /** One resolution for streams that share their credentials; each is judged against its own viewer. */
  private async reresolve(watchers: Watcher[]): Promise<void> {
    const outcome = await this.outcome(watchers[0]!.credentials);
    for (const watcher of watchers) {
      const reason = 'reason' in outcome ? outcome.reason : sameAccess(outcome.viewer, watcher.viewer) ? null : { code: 'auth/forbidden', message: 'This stream\'s access has changed' };
      if (reason) this.revokeNow(watcher, reason);
    }
  }

  private async outcome(credentials: Credentials): Promise<{ viewer: Viewer } | { reason: AccessRevoked }> {
    let reason: AccessRevoked;
    try {
      return { viewer: await this.resolve(credentials) };
    } catch (error) {
      if (error instanceof GraphQLError && typeof error.extensions.code === 'string' && error.extensions.code.startsWith('auth/')) {
        reason = { code: error.extensions.code, message: error.message };
      } else {
        // Not a refusal (the database is briefly away): end rather than carry on unchecked.
        this.logger?.warn({ err: error }, 'could not re-check a live stream\'s access; ending it');
        reason = { code: 'auth/unauthenticated', message: 'Access could not be re-checked' };
      }
    }
    return { reason };
  }

  private revokeNow(watcher: Watcher, reason: AccessRevoked): void {
    if (watcher.ended) return;
    this.end(watcher);
    watcher.revoke(reason);
  }

  private end(watcher: Watcher): void {
    watcher.ended = true;
    clearTimeout(watcher.expiry);
    this.watchers.delete(watcher);
  }

  private armExpiry(watcher: Watcher): void {
    const at = watcher.viewer.credentialExpiresAt;
    if (!at) return;
    const wait = at.getTime() - Date.now();
    watcher.expiry = setTimeout(
      () => {
        if (wait > maxTimer) return this.armExpiry(watcher);
        this.revokeNow(watcher, { code: 'auth/unauthenticated', message: 'The credentials of this stream have expired' });
      },
      Math.max(0, Math.min(wait, maxTimer)),
    );
    watcher.expiry.unref();
  }
}

function sameAccess(a: Viewer, b: Viewer): boolean {
  return a.page.id === b.page.id && audienceKey(a.audience) === audienceKey(b.audience);
}

/** Can this event take this stream's access away? */
function concerns(viewer: Viewer, row: CommittedEvent): boolean {
  const { actor, audience } = viewer;
  switch (row.entityType) {
    case 'api_token':
      return actor.type === 'api_token' && actor.id === row.entityId;
    case 'audience_token':
      return actor.type === 'audience_token' && actor.id === row.entityId;
    case 'user':
      return actor.type === 'user' && actor.id === row.entityId;
    case 'deployment':
      return audience.kind === 'deployment' && audience.deploymentId === row.entityId;
    default:
      return false;
  }
}
