import { builder } from './builder.js';
import { listCustomers, type CustomerInfo } from '../server/read/customers.js';
import * as customers from '../server/services/customers.js';

// A customer's name and email address: admins reading as staff, like subscribers.
const admin = { $all: { internal: true, permission: 'admin' } } as const;

const Customer = builder.objectRef<CustomerInfo>('Customer');
Customer.implement({
  description: 'Someone a deployment serves; staff subscribe customers to the deployment’s news.',
  authScopes: admin,
  fields: (t) => ({
    id: t.exposeID('id'),
    deployment: t.string({ description: 'The deployment’s slug.', resolve: (c) => c.deploymentSlug }),
    name: t.exposeString('name'),
    email: t.exposeString('email', { description: 'Lower-cased.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const SubscribeCustomersResult = builder.objectRef<customers.SubscribeCustomersResult>('SubscribeCustomersResult');
SubscribeCustomersResult.implement({
  authScopes: admin,
  fields: (t) => ({
    created: t.exposeInt('created', { description: 'Subscribers made (or resumed after the customer had been removed and added again).' }),
    alreadySubscribed: t.exposeInt('alreadySubscribed', { description: 'Customers that already had an email subscriber of the deployment, in any state (an unsubscribed one stays so).' }),
  }),
});

const CustomerInput = builder.inputType('CustomerInput', {
  fields: (t) => ({
    deployment: t.string({ required: true, description: 'The deployment’s slug.' }),
    name: t.string({ required: true }),
    email: t.string({ required: true }),
  }),
});

builder.queryFields((t) => ({
  customers: t.field({
    type: [Customer],
    authScopes: admin,
    description: 'Customers of one deployment (a slug), or of every deployment.',
    args: { deployment: t.arg.string() },
    resolve: (_, { deployment }, ctx) => listCustomers(ctx.db, ctx.viewer, { deploymentSlug: deployment ?? undefined }),
  }),
}));

builder.mutationFields((t) => ({
  createCustomer: t.field({
    type: Customer,
    authScopes: admin,
    description: 'Add a customer; subscribed to the deployment at once when it has `autoSubscribeCustomers`.',
    args: { input: t.arg({ type: CustomerInput, required: true }) },
    resolve: (_, { input }, ctx) => customers.createCustomer(ctx.service, input),
  }),
  deleteCustomer: t.field({
    type: 'ID',
    authScopes: admin,
    description: 'Remove a customer; its email subscriber to the deployment is disabled with it.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, ctx) => (await customers.deleteCustomer(ctx.service, String(id))).id,
  }),
  subscribeDeploymentCustomers: t.field({
    type: SubscribeCustomersResult,
    authScopes: admin,
    description: 'Give every customer of the deployment without one an active email subscriber following the deployment’s groups.',
    args: { deployment: t.arg.string({ required: true, description: 'The deployment’s slug.' }) },
    resolve: (_, { deployment }, ctx) => customers.subscribeDeploymentCustomers(ctx.service, deployment),
  }),
}));
