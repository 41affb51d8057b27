/** The kinds of change a live subscriber can receive. */
export const liveKinds = ['component', 'group', 'deployment', 'incident', 'maintenance'] as const;
export type LiveKind = (typeof liveKinds)[number];

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

const kindOfEntity: Record<string, LiveKind> = {
  component: 'component',
  group: 'group',
  deployment: 'deployment',
  incident: 'incident',
  maintenance: 'maintenance',
};

export function liveKindOf(entityType: string): LiveKind | null {
  return kindOfEntity[entityType] ?? null;
}

export function resyncEnvelope(seq: number): LiveEnvelope {
  return { seq, action: 'resync', kind: null, entityId: null, removed: false, resync: true };
}
