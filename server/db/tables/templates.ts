import { pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { impactEnum, incidentStatusEnum, templateKindEnum } from './enums.js';
import { pages } from './pages.js';

/** Reusable wording; `{service}`, `{impact}` and `{next_update}` are filled in when used. */
export const templates = pgTable(
  'templates',
  {
    id: uuid().primaryKey().defaultRandom(),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
    kind: templateKindEnum().notNull().default('incident'),
    name: text().notNull(),
    title: text().notNull(),
    body: text().notNull(),
    status: incidentStatusEnum(),
    impact: impactEnum(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('templates_page_name').on(t.pageId, t.name)],
);

export type TemplateRow = typeof templates.$inferSelect;
