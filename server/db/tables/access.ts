import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { staffRoleEnum } from './enums.js';
import { deployments } from './catalog.js';
import { pages } from './pages.js';

/** Who may read or write what: staff accounts, their sessions, tool tokens and deployment audience tokens. */

export const users = pgTable(
  'users',
  {
    id: uuid().primaryKey().defaultRandom(),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
    email: text().notNull(),
    name: text().notNull(),
    /** scrypt, self-describing: `scrypt$N$r$p$salt$hash`. */
    passwordHash: text().notNull(),
    role: staffRoleEnum().notNull().default('viewer'),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    disabledAt: timestamp({ withTimezone: true }),
  },
  (t) => [uniqueIndex('users_page_email').on(t.pageId, t.email)],
);

export const sessions = pgTable(
  'sessions',
  {
    /** sha256 of the cookie value; the value itself is never stored. */
    tokenHash: text().primaryKey(),
    userId: uuid().notNull().references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

export const apiTokens = pgTable('api_tokens', {
  id: uuid().primaryKey().defaultRandom(),
  pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
  name: text().notNull(),
  tokenHash: text().notNull().unique(),
  /** The first characters, shown in lists so a token can be recognised. */
  prefix: text().notNull(),
  scopes: text().array().notNull(),
  expiresAt: timestamp({ withTimezone: true }),
  revokedAt: timestamp({ withTimezone: true }),
  lastUsedAt: timestamp({ withTimezone: true }),
  createdBy: uuid().references(() => users.id, { onDelete: 'set null' }),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/** Grants exactly one deployment's audience: what a customer of a protected deployment is given. */
export const audienceTokens = pgTable('audience_tokens', {
  id: uuid().primaryKey().defaultRandom(),
  pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
  deploymentId: uuid().notNull().references(() => deployments.id, { onDelete: 'cascade' }),
  label: text().notNull(),
  tokenHash: text().notNull().unique(),
  prefix: text().notNull(),
  expiresAt: timestamp({ withTimezone: true }),
  revokedAt: timestamp({ withTimezone: true }),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export type UserRow = typeof users.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
export type AudienceTokenRow = typeof audienceTokens.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
