import type {
  ApiTokenRow,
  AudienceTokenRow,
  ComponentGroupRow,
  ComponentRow,
  CustomerRow,
  DeploymentRow,
  IncidentRow,
  IncidentUpdateRow,
  MaintenanceRow,
  SubscriberRow,
  TemplateRow,
  UserRow,
} from '../db/tables/index.js';
import type { LeakOverride } from './publication-guard.js';
import type { ComponentStatus, IncidentRole, Visibility } from './vocabulary.js';

/**
 * The event log's contract: what the services append (one row per change, in the writing
 * transaction) and what its consumers receive once it has committed — the live hub, the answer
 * cache, the notifier. Consumers import this module, never `server/services/`.
 *
 * Every action is `<entity kind>.<verb>`, and `before`/`after` hold the rows as the service saw
 * them, internal fields included (the audit log is admin-only; anything shown to another audience
 * is re-read through `server/read/`). The `events` table keeps `action` and `entity_type` as text:
 * rows written outside the services (a bulk load, tests) may carry strings not listed here, so a
 * consumer lets what it does not handle pass rather than assume every row is one of these.
 */

export const entityKinds = ['deployment', 'group', 'component', 'incident', 'maintenance', 'template', 'api_token', 'audience_token', 'user', 'subscriber', 'customer'] as const;
export type EntityKind = (typeof entityKinds)[number];

/** The kinds whose rows some audience other than staff may see (server/read/visibility.ts). */
export const audienceEntityKinds = ['component', 'group', 'deployment', 'incident', 'maintenance'] as const satisfies readonly EntityKind[];
export type AudienceEntityKind = (typeof audienceEntityKinds)[number];

// ── what `before` and `after` hold ─────────────────────────────────────────────

/** An incident as the event log records it: the row plus what hangs off it. */
export interface IncidentRecord extends IncidentRow {
  components: { componentId: string; status: ComponentStatus }[];
  roles: { role: IncidentRole; assignee: string }[];
}

/** A timeline entry as logged with its incident; its component changes are the `component.status_changed` events that follow. */
export type LoggedIncidentUpdate = Omit<IncidentUpdateRow, 'componentChanges'>;

/** A maintenance as the event log records it: the row plus the ids of its components. */
export type MaintenanceRecord = MaintenanceRow & { componentIds: string[] };

/**
 * What an incident or maintenance was when a deleted component was detached from it: enough to
 * tell which audiences may have seen it through that component.
 */
export interface DetachedScope {
  visibility: Visibility;
  pageWide: boolean;
  componentIds: string[];
}

/** Users and tokens are logged without their secrets' hashes. */
export type UserRecord = Omit<UserRow, 'passwordHash'>;
export type ApiTokenRecord = Omit<ApiTokenRow, 'tokenHash'>;
export type AudienceTokenRecord = Omit<AudienceTokenRow, 'tokenHash'>;

/** Subscribers are logged without their token hashes and signing secrets. */
export type SubscriberRecord = Omit<SubscriberRow, 'confirmTokenHash' | 'manageTokenHash' | 'signingSecrets'> & { signingSecretCount: number };

/** `before` and `after` of one action; `undefined` where it records none (stored as null). */
interface Change<Before, After> {
  before: Before;
  after: After;
}
type Created<T> = Change<undefined, T>;
type Updated<T> = Change<T, T>;
type Deleted<T> = Change<T, undefined>;
/**
 * `leakOverride`: an editor published text the publication guard flagged (server/services/publication.ts);
 * what was found, redacted as the guard shows it. Absent when nothing was found.
 */
type Guarded<T> = T & { leakOverride?: LeakOverride };

/** Every action the services write, with what it records. */
export interface EventChanges {
  'deployment.created': Created<DeploymentRow>;
  'deployment.updated': Updated<DeploymentRow>;
  'deployment.deleted': Deleted<DeploymentRow>;

  'group.created': Created<ComponentGroupRow>;
  'group.updated': Updated<ComponentGroupRow>;
  'group.deleted': Deleted<ComponentGroupRow>;

  'component.created': Created<ComponentRow>;
  'component.updated': Updated<ComponentRow>;
  /** `cause`: `incident:<id>`, `maintenance:<id>` (or free text in demo history). */
  'component.status_changed': Change<ComponentRow, ComponentRow & { cause: string }>;
  'component.deleted': Deleted<ComponentRow>;

  'incident.created': Created<Guarded<IncidentRecord & { update: LoggedIncidentUpdate }>>;
  /** Recorded for imported history instead of `incident.created`: never news. */
  'incident.backfilled': Created<Guarded<IncidentRecord & { updates: IncidentUpdateRow[] }>>;
  'incident.update_posted': Change<IncidentRecord, Guarded<IncidentRecord & { update: LoggedIncidentUpdate }>>;
  /** Follows the `incident.update_posted` that resolved an open incident. */
  'incident.resolved': Updated<IncidentRecord>;
  'incident.updated': Change<IncidentRecord, Guarded<IncidentRecord>>;
  'incident.postmortem_published': Change<IncidentRecord, Guarded<IncidentRecord>>;
  'incident.component_detached': Deleted<DetachedScope>;
  'incident.deleted': Deleted<IncidentRecord>;

  'maintenance.created': Created<Guarded<MaintenanceRecord>>;
  'maintenance.updated': Change<MaintenanceRecord, Guarded<MaintenanceRecord>>;
  'maintenance.started': Updated<MaintenanceRecord>;
  'maintenance.completed': Updated<MaintenanceRecord>;
  'maintenance.cancelled': Updated<MaintenanceRecord>;
  /** The notifier's reminder before a window (`reminder`: the offset, e.g. `24h`); nothing changed. */
  'maintenance.reminder': Created<MaintenanceRecord & { reminder: string }>;
  'maintenance.component_detached': Deleted<DetachedScope>;

  'template.created': Created<Guarded<TemplateRow>>;
  'template.updated': Change<TemplateRow, Guarded<TemplateRow>>;
  'template.deleted': Deleted<TemplateRow>;

  'api_token.created': Created<ApiTokenRecord>;
  'api_token.revoked': Updated<ApiTokenRecord>;
  'audience_token.created': Created<AudienceTokenRecord>;
  'audience_token.revoked': Updated<AudienceTokenRecord>;

  'subscriber.created': Created<SubscriberRecord>;
  /** Disabled, enabled again or unsubscribed (`state`), or what it follows. */
  'subscriber.updated': Updated<SubscriberRecord>;
  /** A new webhook signing secret; `after.signingSecretCount` says how many still sign. */
  'subscriber.secret_rotated': Updated<SubscriberRecord>;
  /** A CSV import (server/services/subscriber-import.ts): one event for all it made; `entityId` is the audience key. */
  'subscriber.imported': Created<{ audience: string; count: number; subscriberIds: string[] }>;

  /** Customers of a deployment (name and address): staff-only, never shown to any other audience. */
  'customer.created': Created<CustomerRow>;
  'customer.deleted': Deleted<CustomerRow>;

  'user.created': Created<UserRecord>;
  'user.updated': Change<UserRecord, UserRecord & { passwordChanged?: boolean }>;
  'user.deleted': Deleted<UserRecord>;
  /** `replacedSession`: the browser's previous session was the same user's. */
  'user.signed_in': Created<{ expiresAt: Date; replacedSession?: boolean }>;
  'user.signed_out': Change<undefined, undefined>;
  /** "Sign out everywhere". */
  'user.sessions_revoked': Created<{ sessions: number }>;
  'user.password_changed': Created<{ sessionsEnded: number }>;
}

export type EventAction = keyof EventChanges;

/** The entity kind an action is about: the part before the dot. */
export type KindOf<A extends EventAction> = A extends `${infer K extends EntityKind}.${string}` ? K : never;

/** The actions about one kind of entity. */
export type ActionOf<K extends EntityKind> = { [A in EventAction]: KindOf<A> extends K ? A : never }[EventAction];

/** What a service appends for one action: `entityType` must match it, `before`/`after` its shapes. */
export type EventInputOf<A extends EventAction> = { action: A; entityType: KindOf<A>; entityId: string } & (undefined extends EventChanges[A]['before']
  ? { before?: undefined }
  : { before: EventChanges[A]['before'] }) &
  (undefined extends EventChanges[A]['after'] ? { after?: undefined } : { after: EventChanges[A]['after'] });

/** One event as a service appends it (`Writer.record`): a union discriminated by `action`. */
export type EventInput = { [A in EventAction]: EventInputOf<A> }[EventAction];

/** A value as it reads back from the log's JSON: dates become ISO strings. */
export type Logged<T> = T extends Date ? string : T extends readonly (infer U)[] ? Logged<U>[] : T extends object ? { [K in keyof T]: Logged<T[K]> } : T;

/** What `before` holds for some action about this kind, read back from the log (null where none). */
export type LoggedBefore<K extends EntityKind> = Logged<NonNullable<EventChanges[ActionOf<K>]['before']>> | null;

// ── what consumers receive ─────────────────────────────────────────────────────

/**
 * An event row as the consumers of the log receive it: ids and the two facts the live hub reads
 * on every event, never the whole `before`/`after` (those are read on demand, by seq). Built in
 * memory by the committing node (`committedFacts`) and read from the table by every node
 * (`committedEventsAfter` in server/read/events.ts); both must agree.
 */
export interface CommittedEvent {
  seq: number;
  pageId: string;
  action: EventAction;
  entityType: EntityKind;
  entityId: string;
  /** `before.visibility`: null when the change had no `before` or it has no visibility. */
  beforeVisibility: string | null;
  /** `after.visibility`: null when the change had no `after` (a delete) or it has no visibility. */
  afterVisibility: string | null;
  /** For component events: its group (`after.groupId`, after the change), so the hub can prefetch it. */
  groupId: string | null;
}

/** `beforeVisibility`, `afterVisibility` and `groupId` of a change about to be appended. */
export function committedFacts(before: unknown, after: unknown): Pick<CommittedEvent, 'beforeVisibility' | 'afterVisibility' | 'groupId'> {
  const b = before as { visibility?: unknown } | null | undefined;
  const a = after as { groupId?: unknown; visibility?: unknown } | null | undefined;
  return {
    beforeVisibility: typeof b?.visibility === 'string' ? b.visibility : null,
    afterVisibility: typeof a?.visibility === 'string' ? a.visibility : null,
    groupId: typeof a?.groupId === 'string' ? a.groupId : null,
  };
}

/** Told what a transaction appended, once it has committed. */
export type CommitListener = (seqs: number[], committed: CommittedEvent[]) => void;

/**
 * The wake-up channel: the PostgreSQL NOTIFY channel every node LISTENs on (sent in the writing
 * transaction, so delivered at commit), also the Redis pub/sub channel. Its payload is only a hint:
 * a woken consumer reads the event table from where it is.
 */
export const eventWakeupChannel = 'statushub_events';
