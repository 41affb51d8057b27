import { sql } from 'drizzle-orm';
import { eventLockKey } from '../db/audit-chain.js';
import type { Db, Tx } from '../db/client.js';
import { events, notificationOutbox } from '../db/tables/index.js';
import { outboxFilter } from '../notify/outbox.js';
import { actorRef, can, type Permission, type Viewer } from '../auth/viewer.js';
import { forbidden } from '../domain/errors.js';
import { committedFacts, eventWakeupChannel, type CommitListener, type CommittedEvent, type EventInput } from '../domain/events.js';

// NOTE: consumers import these from server/domain/events.ts; re-exported for server/node.ts until its rewrite lands.
export type { CommitListener, CommittedEvent };

/** What every service function is called with. */
export interface ServiceContext {
  db: Db;
  viewer: Viewer;
  onCommit?: CommitListener;
  /**
   * A write that will be rolled back (the declare preview): no event rows, so no sequence
   * numbers are spent and the event lock, which serialises every writer, is never taken.
   */
  dryRun?: boolean;
  /**
   * Record events as of this time instead of now: demo history (server/seed.ts) and tests only.
   * Events are append-only, so a backdated history is written backdated, never moved afterwards.
   */
  eventTime?: Date;
}

export interface Writer {
  tx: Tx;
  /** Append an event row in this transaction. */
  record(event: EventInput): Promise<number>;
}

/**
 * One transaction = the rows + their event rows + the outbox rows of those that are news for
 * subscribers (`outboxFilter`). Events are published only after commit, so a rolled-back write
 * publishes nothing and notifies no one.
 */
export async function transact<T>(ctx: ServiceContext, work: (writer: Writer) => Promise<T>): Promise<T> {
  const committed: CommittedEvent[] = [];
  const actor = actorRef(ctx.viewer.actor);
  const notifies = outboxFilter();
  const result = await ctx.db.transaction(async (tx) => {
    const outbox: number[] = [];
    let locked = false;
    const writer: Writer = {
      tx,
      async record(event) {
        if (ctx.dryRun) return 0;
        if (!locked) {
          // NOTE: held until commit, so sequence numbers become visible in the order they are
          // allocated; readers that resume "after seq N" can never skip a late committer.
          // The NOTIFY is delivered at commit, never on rollback: every node's LISTEN wakes up
          // and reads the event table from where it is. The payload is only a hint.
          await tx.execute(sql`select pg_advisory_xact_lock(${eventLockKey}), pg_notify(${eventWakeupChannel}, '')`);
          locked = true;
        }
        const [row] = await tx
          .insert(events)
          .values({ pageId: ctx.viewer.page.id, ...actor, ...event, before: event.before ?? null, after: event.after ?? null, createdAt: ctx.eventTime })
          .returning({ seq: events.seq });
        const fact: CommittedEvent = {
          seq: row!.seq,
          pageId: ctx.viewer.page.id,
          action: event.action,
          entityType: event.entityType,
          entityId: event.entityId,
          ...committedFacts(event.before, event.after),
        };
        committed.push(fact);
        if (notifies(event, fact)) outbox.push(fact.seq);
        return row!.seq;
      },
    };
    const value = await work(writer);
    // NOTE: the transactional outbox (server/notify/): the events subscribers may hear of are made
    // durable with the change itself, in one statement whatever the number of subscribers; the
    // worker fans them out after commit.
    if (outbox.length) {
      await tx.insert(notificationOutbox).values(outbox.map((eventSeq) => ({ eventSeq, pageId: ctx.viewer.page.id, createdAt: ctx.eventTime })));
    }
    return value;
  });
  if (committed.length) ctx.onCommit?.(committed.map((e) => e.seq), committed);
  return result;
}

export function requirePermission(ctx: ServiceContext, permission: Permission): void {
  if (!can(ctx.viewer, permission)) throw forbidden();
}
