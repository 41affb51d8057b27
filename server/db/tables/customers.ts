import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { deployments } from './catalog.js';
import { pages } from './pages.js';

/**
 * A customer of one deployment (issue 11 §2): who staff subscribe to that deployment's news, all
 * at once or as they arrive (`deployments.autoSubscribeCustomers`). Staff-only: no audience other
 * than `internal` ever reads a name or an address from here.
 */
export const customers = pgTable(
  'customers',
  {
    id: uuid().primaryKey().defaultRandom(),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
    deploymentId: uuid().notNull().references(() => deployments.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    /** Lower-cased by the service: one customer per address and deployment. */
    email: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('customers_deployment_email').on(t.deploymentId, t.email), index('customers_page').on(t.pageId)],
);

export type CustomerRow = typeof customers.$inferSelect;
