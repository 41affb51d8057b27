import { builder } from './builder.js';
import { ComponentStatusEnum, DeploymentAccessEnum } from './enums.js';
import { listDeployments } from '../server/read/catalog.js';
import { worstComponentStatus } from '../server/domain/vocabulary.js';
import * as catalog from '../server/services/catalog.js';
import type { DeploymentRow } from '../server/db/tables/index.js';
import { ComponentGroup } from './component-group.js';
import { stripNulls } from './input.js';

export const Deployment = builder.objectRef<DeploymentRow>('Deployment');

Deployment.implement({
  description: 'A named installation of the service that customers are assigned to.',
  fields: (t) => ({
    id: t.exposeID('id'),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    access: t.expose('access', { type: DeploymentAccessEnum }),
    groups: t.field({
      type: [ComponentGroup],
      resolve: (deployment, _, ctx) => ctx.loaders.groupsByDeployment.load(deployment.id),
    }),
    autoSubscribeCustomers: t.boolean({
      nullable: true,
      authScopes: { internal: true },
      description: 'Staff only: a customer added to it gets an email subscriber at once (null, with an `auth/forbidden` error, for anyone else).',
      resolve: (deployment) => deployment.autoSubscribeCustomers,
    }),
    status: t.field({
      type: ComponentStatusEnum,
      description: 'Worst status among the components of its groups that the viewer can see.',
      resolve: async (deployment, _, ctx) => {
        const groups = await ctx.loaders.groupsByDeployment.load(deployment.id);
        const children = await ctx.loaders.componentsByGroup.loadMany(groups.map((g) => g.id));
        return worstComponentStatus(children.flatMap((c) => (Array.isArray(c) ? c.map((x) => x.status) : [])));
      },
    }),
  }),
});

builder.queryFields((t) => ({
  deployments: t.field({
    type: [Deployment],
    description: 'Staff see every deployment, a deployment audience only its own, the public none.',
    resolve: (_, __, ctx) => listDeployments(ctx.db, ctx.viewer),
  }),
}));

const DeploymentInput = builder.inputType('DeploymentInput', {
  fields: (t) => ({
    slug: t.string({ required: true }),
    name: t.string({ required: true }),
    description: t.string(),
    access: t.field({ type: DeploymentAccessEnum }),
    sortOrder: t.int(),
  }),
});

const DeploymentPatch = builder.inputType('DeploymentPatch', {
  fields: (t) => ({
    slug: t.string(),
    name: t.string(),
    description: t.string(),
    access: t.field({ type: DeploymentAccessEnum }),
    sortOrder: t.int(),
    autoSubscribeCustomers: t.boolean({ description: 'Admins only: subscribe each customer added from now on (existing ones: `subscribeDeploymentCustomers`).' }),
  }),
});

const writeComponents = { permission: 'write:components' } as const;

builder.mutationFields((t) => ({
  createDeployment: t.field({
    type: Deployment,
    authScopes: writeComponents,
    args: { input: t.arg({ type: DeploymentInput, required: true }) },
    resolve: (_, { input }, ctx) => catalog.createDeployment(ctx.service, stripNulls(input)),
  }),
  updateDeployment: t.field({
    type: Deployment,
    authScopes: writeComponents,
    args: { id: t.arg.id({ required: true }), patch: t.arg({ type: DeploymentPatch, required: true }) },
    resolve: (_, { id, patch }, ctx) => catalog.updateDeployment(ctx.service, String(id), patch as never),
  }),
  deleteDeployment: t.field({
    type: 'ID',
    authScopes: writeComponents,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, ctx) => (await catalog.deleteDeployment(ctx.service, String(id))).id,
  }),
}));
