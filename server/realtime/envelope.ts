import { audienceEntityKinds, type AudienceEntityKind } from '../domain/events.js';

/** The kinds of change a live subscriber can receive: those some audience other than staff may see. */
export const liveKinds = audienceEntityKinds;
export type LiveKind = AudienceEntityKind;

/**
 * What a pushed event is resolved from: ids and a sequence number only. Everything a viewer
 * sees is re-read through the audience-filtered read layer while the payload is built.
 */
export interface LiveEnvelope {
  seq: number;
  action: string;
  kind: LiveKind | null;
  entityId: string | null;
  /** The entity left the audience's view (deleted, hidden, moved to another deployment). */
  removed: boolean;
  /** The client must refetch its snapshot (gap too old, or it fell behind). */
  resync: boolean;
  /** The entity as the audience sees it, already read by the hub's visibility check. */
  entity?: object;
}

const live: ReadonlySet<string> = new Set(liveKinds);

/** Null for every other kind, and for a string that is no kind at all (a row written outside the services). */
export function liveKindOf(entityType: string): LiveKind | null {
  return live.has(entityType) ? (entityType as LiveKind) : null;
}

export function resyncEnvelope(seq: number): LiveEnvelope {
  return { seq, action: 'resync', kind: null, entityId: null, removed: false, resync: true };
}
