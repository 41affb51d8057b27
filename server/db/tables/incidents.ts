import { boolean, index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { componentStatusEnum, impactEnum, incidentRoleEnum, incidentStatusEnum, severityEnum, visibilityEnum } from './enums.js';
import { components } from './catalog.js';
import { pages } from './pages.js';
import type { ComponentStatus } from '../../domain/vocabulary.js';

/** One component status change an incident update made (old → new). */
export interface ComponentChange {
  componentId: string;
  /** The name when the change was made; reads give the current one. */
  name: string;
  from: ComponentStatus;
  to: ComponentStatus;
}

export const incidents = pgTable(
  'incidents',
  {
    id: uuid().primaryKey().defaultRandom(),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
    title: text().notNull(),
    status: incidentStatusEnum().notNull(),
    impact: impactEnum().notNull().default('none'),
    visibility: visibilityEnum().notNull().default('public'),
    /**
     * Shown to every audience that may see public items, whatever it affects. Otherwise only the
     * audiences that can see one of its affected components see it: losing components narrows.
     */
    pageWide: boolean().notNull().default(false),
    // Staff only from here on.
    severity: severityEnum(),
    warRoomUrl: text(),
    nextUpdateDueAt: timestamp({ withTimezone: true }),
    // Public again.
    startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp({ withTimezone: true }),
    postmortemBody: text(),
    postmortemPublishedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  // NOTE: reads of open incidents filter with `status in (open statuses)`, not `not in (closed)`,
  // so this index serves them (a `<> all` filter cannot be an index condition).
  (t) => [index('incidents_page_started').on(t.pageId, t.startedAt, t.id), index('incidents_page_status').on(t.pageId, t.status, t.startedAt)],
);

export const incidentUpdates = pgTable(
  'incident_updates',
  {
    id: uuid().primaryKey().defaultRandom(),
    incidentId: uuid().notNull().references(() => incidents.id, { onDelete: 'cascade' }),
    status: incidentStatusEnum().notNull(),
    message: text().notNull(),
    /** Staff only, never rendered for another audience. */
    internalNote: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    createdBy: text(),
    /**
     * The component status changes this update made, old → new. Component ids: readers filter the
     * list through the components their audience can see (server/read/incidents.ts).
     */
    componentChanges: jsonb().$type<ComponentChange[]>().notNull().default([]),
    /** Statuspage's `deliver_notifications`: false when staff posted it without telling subscribers. */
    deliverNotifications: boolean().notNull().default(true),
  },
  (t) => [index('incident_updates_incident').on(t.incidentId, t.createdAt)],
);

/** A component an incident affects, with the status the incident gave it. */
export const incidentComponents = pgTable(
  'incident_components',
  {
    incidentId: uuid().notNull().references(() => incidents.id, { onDelete: 'cascade' }),
    componentId: uuid().notNull().references(() => components.id, { onDelete: 'cascade' }),
    status: componentStatusEnum().notNull(),
  },
  (t) => [primaryKey({ columns: [t.incidentId, t.componentId] }), index('incident_components_component').on(t.componentId)],
);

export const incidentRoles = pgTable(
  'incident_roles',
  {
    incidentId: uuid().notNull().references(() => incidents.id, { onDelete: 'cascade' }),
    role: incidentRoleEnum().notNull(),
    assignee: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.incidentId, t.role] })],
);

export type IncidentRow = typeof incidents.$inferSelect;
export type IncidentUpdateRow = typeof incidentUpdates.$inferSelect;
