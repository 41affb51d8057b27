import { bigint, bigserial, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { pages } from './pages.js';

/**
 * Append-only: the audit log, the source of live pushes and the replay log.
 * `seq` is allocated under a transaction-scoped advisory lock, so seq order is commit order.
 *
 * Tamper-evident (server/db/audit-chain.ts): a BEFORE INSERT trigger sets `prevHash` to the
 * previous row's `hash` and `hash` to a SHA-256 over this row and `prevHash`; another trigger
 * refuses UPDATE, DELETE and TRUNCATE, except `pruneEvents()` deleting rows a checkpoint covers.
 * A page with events cannot be deleted.
 */
export const events = pgTable(
  'events',
  {
    seq: bigserial({ mode: 'number' }).primaryKey(),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'restrict' }),
    actorType: text().notNull(),
    actorId: text(),
    actorName: text().notNull(),
    action: text().notNull(),
    entityType: text().notNull(),
    entityId: text().notNull(),
    before: jsonb(),
    after: jsonb(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    // NOTE: whatever the client sends, the events_chain trigger overwrites both (hex SHA-256).
    prevHash: text()
      .notNull()
      .$defaultFn(() => ''),
    hash: text()
      .notNull()
      .$defaultFn(() => ''),
  },
  (t) => [index('events_page_seq').on(t.pageId, t.seq), index('events_entity').on(t.entityType, t.entityId)],
);

/**
 * Written by `pruneEvents()` before it deletes events: the last pruned row's seq and hash, so the
 * chain stays verifiable from the newest checkpoint. Append-only like `events`.
 */
export const eventCheckpoints = pgTable('event_checkpoints', {
  seq: bigint({ mode: 'number' }).primaryKey(),
  hash: text().notNull(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export type EventRow = typeof events.$inferSelect;
