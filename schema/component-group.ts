import { builder } from './builder.js';
import { ComponentStatusEnum, VisibilityEnum } from './enums.js';
import { findGroup, listGroups } from '../server/read/catalog.js';
import { notFound } from '../server/domain/errors.js';
import { worstComponentStatus } from '../server/domain/vocabulary.js';
import * as catalog from '../server/services/catalog.js';
import type { ComponentGroupRow } from '../server/db/tables/index.js';
import { Component } from './component.js';
import { Deployment } from './deployment.js';
import { stripNulls } from './input.js';

export const ComponentGroup = builder.objectRef<ComponentGroupRow>('ComponentGroup');
const ComponentGroupStaffDetails = builder.objectRef<ComponentGroupRow>('ComponentGroupStaffDetails');

ComponentGroup.implement({
  description: 'Components shown together. Its status is the worst of the children the viewer can see.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    components: t.field({
      type: [Component],
      resolve: (group, _, ctx) => ctx.loaders.componentsByGroup.load(group.id),
    }),
    status: t.field({
      type: ComponentStatusEnum,
      // The same audience-filtered children as `components`, so a hidden one never counts.
      resolve: async (group, _, ctx) => worstComponentStatus((await ctx.loaders.componentsByGroup.load(group.id)).map((c) => c.status)),
    }),
    deployment: t.field({
      type: Deployment,
      nullable: true,
      description: 'The deployment that owns this group, when the viewer may see it.',
      resolve: (group, _, ctx) => (group.deploymentId ? ctx.loaders.deployment.load(group.deploymentId) : null),
    }),
    staff: t.field({
      type: ComponentGroupStaffDetails,
      nullable: true,
      authScopes: { internal: true },
      resolve: (group) => group,
    }),
  }),
});

ComponentGroupStaffDetails.implement({
  authScopes: { internal: true },
  fields: (t) => ({
    visibility: t.expose('visibility', { type: VisibilityEnum }),
    sortOrder: t.exposeInt('sortOrder'),
  }),
});

builder.queryFields((t) => ({
  componentGroups: t.field({
    type: [ComponentGroup],
    description: 'Every group the viewer can see, in display order.',
    resolve: (_, __, ctx) => listGroups(ctx.db, ctx.viewer),
  }),
  componentGroup: t.field({
    type: ComponentGroup,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, ctx) => (await findGroup(ctx.db, ctx.viewer, String(id))) ?? Promise.reject(notFound('group')),
  }),
}));

const ComponentGroupInput = builder.inputType('ComponentGroupInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    visibility: t.field({ type: VisibilityEnum }),
    deploymentId: t.id({ description: 'Owning deployment; only its audience (and staff) will see the group.' }),
    sortOrder: t.int(),
  }),
});

const ComponentGroupPatch = builder.inputType('ComponentGroupPatch', {
  fields: (t) => ({
    name: t.string(),
    description: t.string(),
    visibility: t.field({ type: VisibilityEnum }),
    deploymentId: t.id(),
    sortOrder: t.int(),
  }),
});

const writeComponents = { permission: 'write:components' } as const;

builder.mutationFields((t) => ({
  createComponentGroup: t.field({
    type: ComponentGroup,
    authScopes: writeComponents,
    args: { input: t.arg({ type: ComponentGroupInput, required: true }) },
    resolve: (_, { input }, ctx) => catalog.createGroup(ctx.service, { ...stripNulls(input), deploymentId: input.deploymentId ? String(input.deploymentId) : null }),
  }),
  updateComponentGroup: t.field({
    type: ComponentGroup,
    authScopes: writeComponents,
    args: { id: t.arg.id({ required: true }), patch: t.arg({ type: ComponentGroupPatch, required: true }) },
    resolve: (_, { id, patch }, ctx) => catalog.updateGroup(ctx.service, String(id), patch as never),
  }),
  deleteComponentGroup: t.field({
    type: 'ID',
    authScopes: writeComponents,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, ctx) => (await catalog.deleteGroup(ctx.service, String(id))).id,
  }),
}));
