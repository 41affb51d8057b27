import { builder } from './builder.js';
import { MaintenanceStatusEnum, VisibilityEnum } from './enums.js';
import { findMaintenance, listMaintenances, maintenanceWindows } from '../server/read/maintenance.js';
import { invalidInput, notFound } from '../server/domain/errors.js';
import * as maintenance from '../server/services/maintenance.js';
import type { MaintenanceRow } from '../server/db/tables/index.js';
import { Component } from './component.js';
import { Summary } from './page.js';
import { stripNulls } from './input.js';
import { leakOverrideArg, publishOptions } from './publication.js';

export const Maintenance = builder.objectRef<MaintenanceRow>('Maintenance');
const MaintenanceStaffDetails = builder.objectRef<MaintenanceRow>('MaintenanceStaffDetails');

export const MaintenanceWindowEnum = builder.enumType('MaintenanceWindow', {
  description: '`upcoming_or_active`: scheduled or in progress, soonest first. `past`: completed or cancelled, newest first.',
  values: maintenanceWindows,
});

Maintenance.implement({
  description: 'A scheduled maintenance window.',
  fields: (t) => ({
    id: t.exposeID('id'),
    title: t.exposeString('title'),
    body: t.exposeString('body'),
    status: t.expose('status', { type: MaintenanceStatusEnum }),
    scheduledStart: t.expose('scheduledStart', { type: 'DateTime' }),
    scheduledEnd: t.expose('scheduledEnd', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    components: t.field({
      type: [Component],
      description: 'The affected components the viewer can see.',
      resolve: (m, _, ctx) => ctx.loaders.componentsByMaintenance.load(m.id),
    }),
    staff: t.field({
      type: MaintenanceStaffDetails,
      nullable: true,
      description: 'Staff-only details.',
      authScopes: { internal: true },
      resolve: (m) => m,
    }),
  }),
});

MaintenanceStaffDetails.implement({
  authScopes: { internal: true },
  fields: (t) => ({
    visibility: t.expose('visibility', { type: VisibilityEnum }),
    autoTransition: t.exposeBoolean('autoTransition'),
    pageWide: t.exposeBoolean('pageWide', { description: 'Shown to every audience whatever it affects.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  maintenances: t.field({
    type: [Maintenance],
    description: 'Maintenance the viewer can see in one window.',
    args: {
      window: t.arg({ type: MaintenanceWindowEnum, defaultValue: 'upcoming_or_active', required: true }),
      limit: t.arg.int({ description: 'For `past`: how many (1–100, default 20).' }),
    },
    resolve: (_, { window, limit }, ctx) => {
      if (limit != null && (limit < 1 || limit > 100)) throw invalidInput('limit', 'must be between 1 and 100');
      return listMaintenances(ctx.db, ctx.viewer, { window, limit: limit ?? undefined });
    },
  }),
  maintenance: t.field({
    type: Maintenance,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, ctx) => (await findMaintenance(ctx.db, ctx.viewer, String(id))) ?? Promise.reject(notFound('maintenance')),
  }),
}));

builder.objectField(Summary, 'maintenances', (t) =>
  t.field({
    type: [Maintenance],
    description: 'Maintenance scheduled or in progress that the viewer can see.',
    resolve: ({ ctx }) => listMaintenances(ctx.db, ctx.viewer, { window: 'upcoming_or_active' }),
  }),
);

const MaintenanceInput = builder.inputType('MaintenanceInput', {
  fields: (t) => ({
    title: t.string({ required: true }),
    body: t.string(),
    visibility: t.field({ type: VisibilityEnum }),
    scheduledStart: t.field({ type: 'DateTime', required: true }),
    scheduledEnd: t.field({ type: 'DateTime', required: true }),
    autoTransition: t.boolean({ description: 'Start and complete on time (default true).' }),
    componentIds: t.idList(),
    pageWide: t.boolean({ description: 'Shown to every audience (public, every deployment) whatever it affects. Default: true only without components; otherwise it reaches the audiences that can see one of its components.' }),
  }),
});

const MaintenancePatch = builder.inputType('MaintenancePatch', {
  description: 'Fields left out stay as they are; `componentIds` replaces the whole set.',
  fields: (t) => ({
    title: t.string(),
    body: t.string(),
    visibility: t.field({ type: VisibilityEnum }),
    scheduledStart: t.field({ type: 'DateTime' }),
    scheduledEnd: t.field({ type: 'DateTime' }),
    autoTransition: t.boolean(),
    componentIds: t.idList(),
    pageWide: t.boolean({ description: 'Setting it widens the audience explicitly; removing components never does.' }),
  }),
});

const writeMaintenance = { permission: 'write:maintenance' } as const;
const ids = (list: readonly (string | number)[] | null | undefined) => list?.map(String);

builder.mutationFields((t) => ({
  createMaintenance: t.field({
    type: Maintenance,
    authScopes: writeMaintenance,
    args: { input: t.arg({ type: MaintenanceInput, required: true }), allowLeakOverride: t.arg.boolean(leakOverrideArg) },
    resolve: (_, { input, allowLeakOverride }, ctx) =>
      maintenance.createMaintenance(ctx.service, { ...stripNulls(input), componentIds: ids(input.componentIds) }, publishOptions(allowLeakOverride)),
  }),
  updateMaintenance: t.field({
    type: Maintenance,
    authScopes: writeMaintenance,
    args: { id: t.arg.id({ required: true }), patch: t.arg({ type: MaintenancePatch, required: true }), allowLeakOverride: t.arg.boolean(leakOverrideArg) },
    // Nulls are rejected by validation rather than silently ignored: none of these fields can be cleared.
    resolve: (_, { id, patch, allowLeakOverride }, ctx) =>
      maintenance.updateMaintenance(ctx.service, String(id), { ...patch, componentIds: ids(patch.componentIds) } as never, publishOptions(allowLeakOverride)),
  }),
  cancelMaintenance: t.field({
    type: Maintenance,
    authScopes: writeMaintenance,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => maintenance.cancelMaintenance(ctx.service, String(id)),
  }),
  startMaintenance: t.field({
    type: Maintenance,
    description: 'Start a scheduled maintenance now (for windows without autoTransition, or early).',
    authScopes: writeMaintenance,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => maintenance.startMaintenance(ctx.service, String(id)),
  }),
  completeMaintenance: t.field({
    type: Maintenance,
    description: 'Complete an in-progress maintenance now.',
    authScopes: writeMaintenance,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => maintenance.completeMaintenance(ctx.service, String(id)),
  }),
}));
