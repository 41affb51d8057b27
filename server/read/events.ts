import { and, asc, desc, eq, gt, lt, lte, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { events, type EventRow } from '../db/tables/index.js';
import { can, type Viewer } from '../auth/viewer.js';
import { forbidden } from '../domain/errors.js';
import type { CommittedEvent, EntityKind, EventAction } from '../domain/events.js';

/** The audit log: the page's event rows, newest first. Admins only. */

export interface EventFilter {
  /** How many (the caller bounds it). */
  first: number;
  /** Only events older than this sequence number (the previous page's last cursor). */
  beforeSeq?: number;
  entityType?: string;
  entityId?: string;
}

export interface EventPage {
  rows: EventRow[];
  hasMore: boolean;
}

export async function listEvents(db: Db, viewer: Viewer, filter: EventFilter): Promise<EventPage> {
  if (!can(viewer, 'admin')) throw forbidden();
  const rows = await db
    .select()
    .from(events)
    .where(
      and(
        eq(events.pageId, viewer.page.id),
        filter.beforeSeq !== undefined ? lt(events.seq, filter.beforeSeq) : undefined,
        filter.entityType ? eq(events.entityType, filter.entityType) : undefined,
        filter.entityId ? eq(events.entityId, filter.entityId) : undefined,
      ),
    )
    .orderBy(desc(events.seq))
    // One extra row answers "is there a next page?" without a count.
    .limit(filter.first + 1);
  return { rows: rows.slice(0, filter.first).map((row) => ({ ...row, before: redactSecrets(row.before), after: redactSecrets(row.after) })), hasMore: rows.length > filter.first };
}

const secretKeys = new Set(['passwordHash', 'tokenHash', 'password', 'token']);

/**
 * Services never record secrets; this second guard drops any secret-named key an event might
 * still carry (a future service's slip), at any depth.
 */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => !secretKeys.has(k)).map(([k, v]) => [k, redactSecrets(v)]));
  }
  return value;
}

/**
 * The events after `after`, in seq (= commit) order, as the consumers of the log receive them:
 * the same projection the committing node builds in memory (`committedFacts`), so a row reads
 * the same whether it came as a local hint or from the table. `upTo` and `pageId` narrow it.
 */
export function committedEventsAfter(db: Db, after: number, range: { limit: number; upTo?: number; pageId?: string }): Promise<CommittedEvent[]> {
  return db
    .select({
      seq: events.seq,
      pageId: events.pageId,
      action: sql<EventAction>`${events.action}`,
      entityType: sql<EntityKind>`${events.entityType}`,
      entityId: events.entityId,
      beforeVisibility: sql<string | null>`${events.before}->>'visibility'`,
      afterVisibility: sql<string | null>`${events.after}->>'visibility'`,
      groupId: sql<string | null>`${events.after}->>'groupId'`,
    })
    .from(events)
    .where(and(gt(events.seq, after), range.upTo === undefined ? undefined : lte(events.seq, range.upTo), range.pageId ? eq(events.pageId, range.pageId) : undefined))
    .orderBy(asc(events.seq))
    .limit(range.limit);
}
