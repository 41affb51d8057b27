import { builder } from './builder.js';
import { ChannelKindEnum } from './enums.js';
import { Page } from './page.js';
import { subscribe, subscriptionChannels } from '../server/services/subscriptions.js';

const SubscribeInput = builder.inputType('SubscribeInput', {
  fields: (t) => ({
    channel: t.field({ type: ChannelKindEnum, defaultValue: 'email', description: 'How to be told; one of `Page.subscriptionChannels`.' }),
    target: t.string({ description: 'The email address, phone number (E.164, `+15551234567`), or webhook, Slack or Teams URL.' }),
    email: t.string({ description: 'The older form of `target` for `channel: email`.' }),
    components: t.idList({ description: 'Follow only these (and groups); everything your audience sees when both are left out.' }),
    groups: t.idList(),
  }),
});

builder.objectField(Page, 'subscriptionChannels', (t) =>
  t.field({
    type: [ChannelKindEnum],
    description: 'The channels visitors may subscribe through (`subscribe`): email and SMS only when this hub is set up to send them.',
    resolve: () => subscriptionChannels(),
  }),
);

builder.mutationFields((t) => ({
  subscribe: t.boolean({
    description:
      'Ask for updates of your audience (public, or the deployment your request reads as: a protected one with its audience token) through one channel. A confirmation is sent through that channel (a webhook\'s carries its signing secret); nothing else until its confirm link is followed (double opt-in). Always true, whether or not the target was already subscribed.',
    args: { input: t.arg({ type: SubscribeInput, required: true }) },
    resolve: (_, { input }, ctx) =>
      subscribe(
        ctx.db,
        ctx.viewer,
        {
          channel: input.channel ?? 'email',
          target: input.target ?? input.email ?? '',
          componentIds: (input.components ?? []).map(String),
          groupIds: (input.groups ?? []).map(String),
        },
        (error) => console.warn(`subscription confirmation not sent: ${error instanceof Error ? error.message : String(error)}`),
      ),
  }),
}));
