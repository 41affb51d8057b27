import { boolean, doublePrecision, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { componentStatusEnum, deploymentAccessEnum, visibilityEnum } from './enums.js';
import { pages } from './pages.js';

/** What a page shows: deployments own groups, groups hold components. */

export const deployments = pgTable(
  'deployments',
  {
    id: uuid().primaryKey().defaultRandom(),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
    slug: text().notNull(),
    name: text().notNull(),
    description: text().notNull().default(''),
    access: deploymentAccessEnum().notNull().default('open'),
    sortOrder: integer().notNull().default(0),
    /** Staff-only: a customer added to it is subscribed (email) to its groups at once (server/services/customers.ts). */
    autoSubscribeCustomers: boolean().notNull().default(false),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('deployments_page_slug').on(t.pageId, t.slug)],
);

export const componentGroups = pgTable(
  'component_groups',
  {
    id: uuid().primaryKey().defaultRandom(),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
    // NOTE: restrict, never set null: a deployment's group that lost its owner would become public.
    deploymentId: uuid().references(() => deployments.id, { onDelete: 'restrict' }),
    name: text().notNull(),
    description: text().notNull().default(''),
    visibility: visibilityEnum().notNull().default('public'),
    sortOrder: integer().notNull().default(0),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('component_groups_page').on(t.pageId, t.sortOrder)],
);

export const components = pgTable(
  'components',
  {
    id: uuid().primaryKey().defaultRandom(),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
    // NOTE: restrict for the same reason as deployments: ungrouping must be an explicit move.
    groupId: uuid().references(() => componentGroups.id, { onDelete: 'restrict' }),
    name: text().notNull(),
    description: text().notNull().default(''),
    status: componentStatusEnum().notNull().default('operational'),
    visibility: visibilityEnum().notNull().default('public'),
    sortOrder: integer().notNull().default(0),
    /** Staff-only availability objective in percent (e.g. 99.9); null: none set. */
    sloTarget: doublePrecision(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('components_page').on(t.pageId, t.sortOrder), index('components_group').on(t.groupId)],
);

export type DeploymentRow = typeof deployments.$inferSelect;
export type ComponentGroupRow = typeof componentGroups.$inferSelect;
export type ComponentRow = typeof components.$inferSelect;
