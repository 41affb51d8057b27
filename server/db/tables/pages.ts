import { boolean, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** A tenant: one status page. Every other row belongs to exactly one page. */
export const pages = pgTable('pages', {
  id: uuid().primaryKey().defaultRandom(),
  slug: text().notNull().unique(),
  name: text().notNull(),
  timeZone: text().notNull().default('UTC'),
  /** Requests whose Host header equals this select the page. */
  customDomain: text().unique(),
  branding: jsonb().$type<{ accentColor?: string; logoUrl?: string; supportUrl?: string }>().notNull().default({}),
  isDefault: boolean().notNull().default(false),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export type PageRow = typeof pages.$inferSelect;
