import { builder } from './builder.js';
import { subscribeByEmail } from '../server/services/subscriptions.js';

const SubscribeInput = builder.inputType('SubscribeInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    components: t.idList({ description: 'Follow only these (and groups); everything your audience sees when both are left out.' }),
    groups: t.idList(),
  }),
});

builder.mutationFields((t) => ({
  subscribe: t.boolean({
    description:
      'Ask for email updates of your audience (public, or the deployment your request reads as: a protected one with its audience token). A confirmation email is sent; nothing else until its link is followed (double opt-in). Always true, whether or not the address was already subscribed.',
    args: { input: t.arg({ type: SubscribeInput, required: true }) },
    resolve: (_, { input }, ctx) =>
      subscribeByEmail(ctx.db, ctx.viewer, { email: input.email, componentIds: (input.components ?? []).map(String), groupIds: (input.groups ?? []).map(String) }),
  }),
}));
