import { boolean, index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { maintenanceStatusEnum, visibilityEnum } from './enums.js';
import { components } from './catalog.js';
import { pages } from './pages.js';

export const maintenances = pgTable(
  'maintenances',
  {
    id: uuid().primaryKey().defaultRandom(),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
    title: text().notNull(),
    body: text().notNull().default(''),
    status: maintenanceStatusEnum().notNull().default('scheduled'),
    visibility: visibilityEnum().notNull().default('public'),
    /** As for incidents: every audience, whatever it affects; otherwise only through its components. */
    pageWide: boolean().notNull().default(false),
    scheduledStart: timestamp({ withTimezone: true }).notNull(),
    scheduledEnd: timestamp({ withTimezone: true }).notNull(),
    /** Move scheduled → in_progress → completed on time, components going under_maintenance and back. */
    autoTransition: boolean().notNull().default(true),
    startedAt: timestamp({ withTimezone: true }),
    completedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('maintenances_page_start').on(t.pageId, t.scheduledStart), index('maintenances_page_status').on(t.pageId, t.status, t.scheduledStart)],
);

export const maintenanceComponents = pgTable(
  'maintenance_components',
  {
    maintenanceId: uuid().notNull().references(() => maintenances.id, { onDelete: 'cascade' }),
    componentId: uuid().notNull().references(() => components.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.maintenanceId, t.componentId] })],
);

export type MaintenanceRow = typeof maintenances.$inferSelect;
