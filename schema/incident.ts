import { builder } from './builder.js';
import { ComponentStatusEnum, ImpactEnum, IncidentRoleEnum, IncidentStatusEnum, SeverityEnum, UpdateStatusEnum, VisibilityEnum } from './enums.js';
import { findIncident, listActiveIncidents, listIncidents, type AffectedComponent as AffectedComponentShape, type IncidentRoleAssignment as RoleShape } from '../server/read/incidents.js';
import { invalidInput, notFound } from '../server/domain/errors.js';
import * as incidents from '../server/services/incidents.js';
import type { ComponentChange as ComponentChangeShape, IncidentRow, IncidentUpdateRow } from '../server/db/tables/index.js';
import { Component } from './component.js';
import { Summary } from './page.js';
import { stripNulls } from './input.js';
import { leakOverrideArg, publishOptions } from './publication.js';

export const Incident = builder.objectRef<IncidentRow>('Incident');
export const IncidentStaffDetails = builder.objectRef<IncidentRow>('IncidentStaffDetails');
const IncidentUpdate = builder.objectRef<IncidentUpdateRow>('IncidentUpdate');
const IncidentUpdateStaffDetails = builder.objectRef<IncidentUpdateRow>('IncidentUpdateStaffDetails');
const AffectedComponent = builder.objectRef<AffectedComponentShape>('AffectedComponent');
const ComponentChange = builder.objectRef<ComponentChangeShape>('ComponentChange');
const IncidentRoleAssignment = builder.objectRef<RoleShape>('IncidentRoleAssignment');
const Postmortem = builder.objectRef<{ body: string; publishedAt: Date }>('Postmortem');

const IncidentStateEnum = builder.enumType('IncidentState', {
  description: '`active`: not yet resolved; `resolved`: resolved or with a postmortem.',
  values: ['active', 'resolved', 'all'] as const,
});

Incident.implement({
  description: 'Something wrong with the service, and the story of how it was handled.',
  fields: (t) => ({
    id: t.exposeID('id'),
    title: t.exposeString('title'),
    status: t.expose('status', { type: IncidentStatusEnum }),
    impact: t.expose('impact', { type: ImpactEnum }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true }),
    nextUpdateDueAt: t.expose('nextUpdateDueAt', { type: 'DateTime', nullable: true, description: 'When the next update is promised ("next update by …").' }),
    postmortem: t.field({
      type: Postmortem,
      nullable: true,
      resolve: (incident) =>
        incident.postmortemBody !== null && incident.postmortemPublishedAt ? { body: incident.postmortemBody, publishedAt: incident.postmortemPublishedAt } : null,
    }),
    updates: t.field({
      type: [IncidentUpdate],
      description: 'The timeline, newest first.',
      resolve: (incident, _, ctx) => ctx.loaders.updatesByIncident.load(incident.id),
    }),
    affectedComponents: t.field({
      type: [AffectedComponent],
      description: 'Affected components the viewer can see, with the status this incident gave each.',
      resolve: (incident, _, ctx) => ctx.loaders.affectedComponentsByIncident.load(incident.id),
    }),
    staff: t.field({
      type: IncidentStaffDetails,
      nullable: true,
      description: 'Staff-only details.',
      authScopes: { internal: true },
      resolve: (incident) => incident,
    }),
  }),
});

IncidentStaffDetails.implement({
  authScopes: { internal: true },
  fields: (t) => ({
    severity: t.expose('severity', { type: SeverityEnum, nullable: true }),
    warRoomUrl: t.exposeString('warRoomUrl', { nullable: true }),
    visibility: t.expose('visibility', { type: VisibilityEnum }),
    pageWide: t.exposeBoolean('pageWide', { description: 'Shown to every audience whatever it affects.' }),
    roles: t.field({ type: [IncidentRoleAssignment], resolve: (incident, _, ctx) => ctx.loaders.rolesByIncident.load(incident.id) }),
  }),
});

IncidentRoleAssignment.implement({
  authScopes: { internal: true },
  fields: (t) => ({
    role: t.expose('role', { type: IncidentRoleEnum }),
    assignee: t.exposeString('assignee'),
  }),
});

IncidentUpdate.implement({
  description: 'A timeline entry: the status at that time and a public message.',
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.expose('status', { type: IncidentStatusEnum }),
    message: t.exposeString('message'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    componentChanges: t.field({
      type: [ComponentChange],
      description: 'The component statuses this update changed, old → new; only components the viewer can see.',
      resolve: (update) => update.componentChanges,
    }),
    staff: t.field({
      type: IncidentUpdateStaffDetails,
      nullable: true,
      authScopes: { internal: true },
      resolve: (update) => update,
    }),
  }),
});

ComponentChange.implement({
  description: 'One component status change an incident update made.',
  fields: (t) => ({
    componentId: t.exposeID('componentId'),
    name: t.exposeString('name'),
    from: t.expose('from', { type: ComponentStatusEnum }),
    to: t.expose('to', { type: ComponentStatusEnum }),
  }),
});

IncidentUpdateStaffDetails.implement({
  authScopes: { internal: true },
  fields: (t) => ({
    internalNote: t.exposeString('internalNote', { nullable: true }),
    author: t.exposeString('createdBy', { nullable: true }),
  }),
});

AffectedComponent.implement({
  fields: (t) => ({
    component: t.field({ type: Component, resolve: (a) => a.component }),
    status: t.expose('status', { type: ComponentStatusEnum }),
  }),
});

Postmortem.implement({
  fields: (t) => ({
    body: t.exposeString('body'),
    publishedAt: t.expose('publishedAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  incidents: t.connection(
    {
      type: Incident,
      description: 'Incidents the viewer can see, newest first. Forward pagination only (`first`, `after`).',
      args: { state: t.arg({ type: IncidentStateEnum, defaultValue: 'all', required: true }) },
      resolve: async (_, args, ctx) => {
        if (args.last != null) throw invalidInput('last', 'is not supported; page forward with first/after');
        if (args.before != null) throw invalidInput('before', 'is not supported; page forward with first/after');
        const page = await listIncidents(ctx.db, ctx.viewer, { state: args.state, first: args.first, after: args.after });
        return {
          edges: page.edges,
          pageInfo: {
            hasNextPage: page.hasNextPage,
            hasPreviousPage: Boolean(args.after),
            startCursor: page.edges[0]?.cursor ?? null,
            endCursor: page.edges.at(-1)?.cursor ?? null,
          },
        };
      },
    },
    { name: 'IncidentConnection' },
    { name: 'IncidentEdge' },
  ),
  activeIncidents: t.field({
    type: [Incident],
    description: 'Unresolved incidents the viewer can see, newest first.',
    resolve: (_, __, ctx) => listActiveIncidents(ctx.db, ctx.viewer),
  }),
  incident: t.field({
    type: Incident,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, ctx) => (await findIncident(ctx.db, ctx.viewer, String(id))) ?? Promise.reject(notFound('incident')),
  }),
}));

builder.objectField(Summary, 'activeIncidents', (t) =>
  t.field({
    type: [Incident],
    description: 'Unresolved incidents the viewer can see, newest first.',
    resolve: ({ ctx }) => listActiveIncidents(ctx.db, ctx.viewer),
  }),
);

// ── inputs ─────────────────────────────────────────────────────────────────────

const IncidentRoleInput = builder.inputType('IncidentRoleInput', {
  fields: (t) => ({
    role: t.field({ type: IncidentRoleEnum, required: true }),
    assignee: t.string({ required: true }),
  }),
});

const AffectedComponentInput = builder.inputType('AffectedComponentInput', {
  fields: (t) => ({
    componentId: t.id({ required: true }),
    status: t.field({ type: ComponentStatusEnum, required: true }),
  }),
});

export const TemplateVarsInput = builder.inputType('TemplateVarsInput', {
  description: 'Values for `{service}`, `{impact}` and `{next_update}`.',
  fields: (t) => ({
    service: t.string(),
    impact: t.string(),
    nextUpdate: t.string({ description: 'Defaults to `nextUpdateDueAt`, formatted in the page time zone.' }),
  }),
});

export const CreateIncidentInput = builder.inputType('CreateIncidentInput', {
  description: 'With `templateId`, the template supplies title, message, status and impact unless given here.',
  fields: (t) => ({
    title: t.string(),
    message: t.string({ description: 'The first public update.' }),
    templateId: t.id(),
    templateVars: t.field({ type: TemplateVarsInput }),
    status: t.field({ type: UpdateStatusEnum }),
    impact: t.field({ type: ImpactEnum }),
    visibility: t.field({ type: VisibilityEnum }),
    pageWide: t.boolean({ description: 'Shown to every audience (public, every deployment) whatever it affects. Default: true only without components; otherwise it reaches the audiences that can see one of its components.' }),
    severity: t.field({ type: SeverityEnum }),
    warRoomUrl: t.string(),
    nextUpdateDueAt: t.field({ type: 'DateTime' }),
    startedAt: t.field({ type: 'DateTime', description: 'When it began, if earlier than now (response metrics count from here).' }),
    roles: t.field({ type: [IncidentRoleInput] }),
    components: t.field({ type: [AffectedComponentInput] }),
    internalNote: t.string({ description: 'Staff-only note on the first update.' }),
  }),
});

const IncidentUpdateInput = builder.inputType('IncidentUpdateInput', {
  fields: (t) => ({
    status: t.field({ type: UpdateStatusEnum, required: true }),
    message: t.string({ required: true }),
    internalNote: t.string(),
    components: t.field({ type: [AffectedComponentInput], description: 'When given, the complete new set of affected components.' }),
    nextUpdateDueAt: t.field({ type: 'DateTime', description: 'Left out: unchanged; null: cleared.' }),
    deliverNotifications: t.boolean({ description: "False: posted without telling subscribers (Statuspage's deliver_notifications). Default true." }),
  }),
});

const IncidentPatch = builder.inputType('IncidentPatch', {
  description: 'Fields left out stay as they are; `roles` replaces the whole set.',
  fields: (t) => ({
    title: t.string(),
    impact: t.field({ type: ImpactEnum }),
    severity: t.field({ type: SeverityEnum }),
    visibility: t.field({ type: VisibilityEnum }),
    pageWide: t.boolean({ description: 'Setting it widens the audience explicitly; removing components never does.' }),
    warRoomUrl: t.string(),
    nextUpdateDueAt: t.field({ type: 'DateTime' }),
    roles: t.field({ type: [IncidentRoleInput] }),
  }),
});

const ResolveIncidentInput = builder.inputType('ResolveIncidentInput', {
  fields: (t) => ({
    message: t.string({ description: 'Defaults to "This incident has been resolved."' }),
    internalNote: t.string(),
  }),
});

const PostmortemInput = builder.inputType('PostmortemInput', {
  fields: (t) => ({ body: t.string({ required: true }) }),
});

const BackfillUpdateInput = builder.inputType('BackfillUpdateInput', {
  fields: (t) => ({
    status: t.field({ type: UpdateStatusEnum, required: true }),
    message: t.string({ required: true }),
    internalNote: t.string(),
    at: t.field({ type: 'DateTime', required: true }),
  }),
});

const BackfillIncidentInput = builder.inputType('BackfillIncidentInput', {
  description: 'A past incident with its whole timeline; live component statuses are not touched.',
  fields: (t) => ({
    title: t.string({ required: true }),
    impact: t.field({ type: ImpactEnum }),
    visibility: t.field({ type: VisibilityEnum }),
    pageWide: t.boolean({ description: 'Shown to every audience (public, every deployment) whatever it affects. Default: true only without components; otherwise it reaches the audiences that can see one of its components.' }),
    severity: t.field({ type: SeverityEnum }),
    warRoomUrl: t.string(),
    roles: t.field({ type: [IncidentRoleInput] }),
    components: t.field({ type: [AffectedComponentInput] }),
    startedAt: t.field({ type: 'DateTime', required: true }),
    resolvedAt: t.field({ type: 'DateTime', required: true }),
    updates: t.field({ type: [BackfillUpdateInput], required: true }),
    postmortem: t.string(),
  }),
});

type AffectedArg = { componentId: string | number; status: (typeof ComponentStatusEnum)['$inferType'] };
const affected = (list: readonly AffectedArg[]) => list.map((c) => ({ componentId: String(c.componentId), status: c.status }));

const writeIncidents = { permission: 'write:incidents' } as const;

/** `CreateIncidentInput` as the service takes it; shared with `previewIncident`. */
export function createIncidentArgs(input: typeof CreateIncidentInput.$inferInput): incidents.CreateIncidentInput {
  const { templateVars, templateId, components, ...rest } = stripNulls(input);
  return {
    ...rest,
    templateId: templateId === undefined ? undefined : String(templateId),
    templateVars: templateVars ? { service: templateVars.service, impact: templateVars.impact, next_update: templateVars.nextUpdate } : undefined,
    components: components ? affected(components) : undefined,
  };
}

builder.mutationFields((t) => ({
  createIncident: t.field({
    type: Incident,
    authScopes: writeIncidents,
    args: { input: t.arg({ type: CreateIncidentInput, required: true }), allowLeakOverride: t.arg.boolean(leakOverrideArg) },
    resolve: (_, { input, allowLeakOverride }, ctx) => incidents.createIncident(ctx.service, createIncidentArgs(input), publishOptions(allowLeakOverride)),
  }),
  postIncidentUpdate: t.field({
    type: Incident,
    authScopes: writeIncidents,
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: IncidentUpdateInput, required: true }), allowLeakOverride: t.arg.boolean(leakOverrideArg) },
    resolve: (_, { id, input, allowLeakOverride }, ctx) =>
      incidents.postIncidentUpdate(
        ctx.service,
        String(id),
        {
          status: input.status,
          message: input.message,
          internalNote: input.internalNote ?? null,
          components: input.components ? affected(input.components) : undefined,
          nextUpdateDueAt: input.nextUpdateDueAt,
          deliverNotifications: input.deliverNotifications ?? true,
        },
        publishOptions(allowLeakOverride),
      ),
  }),
  updateIncident: t.field({
    type: Incident,
    authScopes: writeIncidents,
    args: { id: t.arg.id({ required: true }), patch: t.arg({ type: IncidentPatch, required: true }), allowLeakOverride: t.arg.boolean(leakOverrideArg) },
    resolve: (_, { id, patch, allowLeakOverride }, ctx) => incidents.updateIncident(ctx.service, String(id), patch as never, publishOptions(allowLeakOverride)),
  }),
  resolveIncident: t.field({
    type: Incident,
    authScopes: writeIncidents,
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: ResolveIncidentInput }), allowLeakOverride: t.arg.boolean(leakOverrideArg) },
    resolve: (_, { id, input, allowLeakOverride }, ctx) => incidents.resolveIncident(ctx.service, String(id), input ? stripNulls(input) : {}, publishOptions(allowLeakOverride)),
  }),
  publishPostmortem: t.field({
    type: Incident,
    authScopes: writeIncidents,
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: PostmortemInput, required: true }), allowLeakOverride: t.arg.boolean(leakOverrideArg) },
    resolve: (_, { id, input, allowLeakOverride }, ctx) => incidents.publishPostmortem(ctx.service, String(id), input, publishOptions(allowLeakOverride)),
  }),
  backfillIncident: t.field({
    type: Incident,
    authScopes: writeIncidents,
    args: { input: t.arg({ type: BackfillIncidentInput, required: true }), allowLeakOverride: t.arg.boolean(leakOverrideArg) },
    resolve: (_, { input, allowLeakOverride }, ctx) => {
      const { components, updates, ...rest } = stripNulls(input);
      return incidents.backfillIncident(
        ctx.service,
        {
          ...rest,
          components: components ? affected(components) : undefined,
          updates: updates.map((u) => ({ ...u, internalNote: u.internalNote ?? null })),
        },
        publishOptions(allowLeakOverride),
      );
    },
  }),
  deleteIncident: t.field({
    type: 'ID',
    authScopes: writeIncidents,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, ctx) => (await incidents.deleteIncident(ctx.service, String(id))).id,
  }),
}));
