import { bigserial, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { pages } from './pages.js';

/**
 * Append-only: the audit log, the source of live pushes and the replay log.
 * `seq` is allocated under a transaction-scoped advisory lock, so seq order is commit order.
 */
export const events = pgTable(
  'events',
  {
    seq: bigserial({ mode: 'number' }).primaryKey(),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
    actorType: text().notNull(),
    actorId: text(),
    actorName: text().notNull(),
    action: text().notNull(),
    entityType: text().notNull(),
    entityId: text().notNull(),
    before: jsonb(),
    after: jsonb(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('events_page_seq').on(t.pageId, t.seq), index('events_entity').on(t.entityType, t.entityId)],
);

export type EventRow = typeof events.$inferSelect;
