import { builder } from './builder.js';
import { ChannelKindEnum, DeliveryStatusEnum, SubscriberStateEnum } from './enums.js';
import type { NotificationDeliveryRow } from '../server/db/tables/index.js';
import { deliveryStats, listDeliveries, listSubscribers, type ChannelStats, type SubscriberInfo } from '../server/read/notifications.js';
import * as subs from '../server/services/subscribers.js';
import { importLimits, importSubscribers, type SubscriberImport as ImportResult, type SubscriberImportError as ImportError } from '../server/services/subscriber-import.js';
import { isId } from '../server/domain/validate.js';
import { Component } from './component.js';
import { ComponentGroup } from './component-group.js';

// Subscriber targets (a Slack webhook URL is a secret) and the delivery log: admins reading as staff.
const admin = { $all: { internal: true, permission: 'admin' } } as const;

export const Subscriber = builder.objectRef<SubscriberInfo>('Subscriber');
Subscriber.implement({
  description: 'Someone outside staff who is told of changes their audience may see, through one channel.',
  authScopes: admin,
  fields: (t) => ({
    id: t.exposeID('id'),
    audience: t.string({
      description: '`public` or `deployment:<slug>`.',
      resolve: (s) => (s.audienceKind === 'deployment' ? `deployment:${s.deploymentSlug ?? ''}` : 'public'),
    }),
    channel: t.field({ type: ChannelKindEnum, resolve: (s) => s.channel }),
    target: t.exposeString('target', { description: 'Email address, URL or phone number.' }),
    componentIds: t.idList({ description: 'Followed components; with groupIds empty: everything the audience sees.', resolve: (s) => s.componentIds }),
    groupIds: t.idList({ resolve: (s) => s.groupIds }),
    state: t.field({ type: SubscriberStateEnum, resolve: (s) => s.state }),
    signingSecretCount: t.exposeInt('signingSecretCount', { description: 'Webhooks: how many secrets sign each message (2 during a rotation).' }),
    consecutiveFailures: t.exposeInt('consecutiveFailures'),
    disabledReason: t.exposeString('disabledReason', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const NotificationDelivery = builder.objectRef<NotificationDeliveryRow>('NotificationDelivery');
NotificationDelivery.implement({
  description: 'One message about one event to one subscriber, with its attempts.',
  authScopes: admin,
  fields: (t) => ({
    id: t.id({ resolve: (d) => String(d.id) }),
    eventSeq: t.int({ resolve: (d) => d.eventSeq }),
    subscriberId: t.exposeID('subscriberId'),
    channel: t.field({ type: ChannelKindEnum, resolve: (d) => d.channel }),
    topic: t.exposeString('topic', { description: '`incident:<id>`, `component:<id>` or `maintenance:<id>`.' }),
    idempotencyKey: t.exposeString('idempotencyKey', { description: "The same on every attempt (a webhook's `webhook-id`)." }),
    status: t.field({ type: DeliveryStatusEnum, resolve: (d) => d.status }),
    attempts: t.exposeInt('attempts'),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime' }),
    lastError: t.exposeString('lastError', { nullable: true }),
    responseCode: t.exposeInt('responseCode', { nullable: true }),
    sentAt: t.expose('sentAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const ChannelDeliveryStats = builder.objectRef<ChannelStats>('ChannelDeliveryStats');
ChannelDeliveryStats.implement({
  authScopes: admin,
  fields: (t) => ({
    channel: t.field({ type: ChannelKindEnum, resolve: (s) => s.channel }),
    sent: t.exposeInt('sent'),
    retrying: t.exposeInt('retrying', { description: 'Failed at least once; will be tried again.' }),
    dead: t.exposeInt('dead', { description: 'Given up.' }),
    pending: t.exposeInt('pending'),
    superseded: t.exposeInt('superseded', { description: 'Replaced by a newer message about the same incident (consolidated).' }),
    successRate: t.exposeFloat('successRate', { nullable: true, description: 'sent / (sent + dead); null when none settled.' }),
  }),
});

const CreatedSubscriber = builder.objectRef<subs.CreatedSubscriber>('CreatedSubscriber');
CreatedSubscriber.implement({
  authScopes: admin,
  fields: (t) => ({
    subscriber: t.field({ type: Subscriber, resolve: (r) => r.subscriber }),
    signingSecret: t.exposeString('signingSecret', { nullable: true, description: 'Webhooks: the `whsec_` signing secret. Shown this once.' }),
    manageToken: t.exposeString('manageToken', { description: 'The manage-preferences token. Shown this once.' }),
  }),
});

const RotatedSigningSecret = builder.objectRef<subs.RotatedSecret>('RotatedSigningSecret');
RotatedSigningSecret.implement({
  authScopes: admin,
  fields: (t) => ({
    subscriber: t.field({ type: Subscriber, resolve: (r) => r.subscriber }),
    signingSecret: t.exposeString('signingSecret', { description: 'The new secret. Shown this once.' }),
  }),
});

const SubscriberImportError = builder.objectRef<ImportError>('SubscriberImportError');
SubscriberImportError.implement({
  authScopes: admin,
  fields: (t) => ({
    line: t.exposeInt('line', { description: 'The line in the file where the row starts (the header is line 1).' }),
    field: t.exposeString('field', { description: 'A column (`channel`, `target`, `email`, `components`, `groups`), or `csv` for the row as a whole.' }),
    message: t.exposeString('message'),
  }),
});

const SubscriberImport = builder.objectRef<ImportResult>('SubscriberImport');
SubscriberImport.implement({
  authScopes: admin,
  fields: (t) => ({
    created: t.exposeInt('created', { description: 'Subscribers made (with `dryRun`: that would be made); 0 when there are errors.' }),
    skipped: t.exposeInt('skipped', { description: 'Rows the audience already has a subscriber for (same channel and target, any state), or repeating an earlier row.' }),
    errors: t.field({ type: [SubscriberImportError], description: 'Every problem found; when not empty, nothing was written.', resolve: (r) => r.errors }),
  }),
});

const Followable = builder.objectRef<Awaited<ReturnType<typeof subs.followableFor>>>('SubscriberFollowable');
Followable.implement({
  description: "What a subscriber of one audience may follow: that audience's own view of the catalog.",
  authScopes: admin,
  fields: (t) => ({
    groups: t.field({ type: [ComponentGroup], resolve: (f) => f.groups }),
    components: t.field({ type: [Component], resolve: (f) => f.components }),
  }),
});

builder.queryFields((t) => ({
  subscriberFollowable: t.field({
    type: Followable,
    authScopes: admin,
    description: 'The groups and components `audience` (`public` or `deployment:<slug>`) sees, read as that audience: what its subscribers may follow.',
    args: { audience: t.arg.string({ required: true }) },
    resolve: (_, { audience }, ctx) => subs.followableFor(ctx.service, audience),
  }),
}));

builder.queryFields((t) => ({
  subscribers: t.field({
    type: [Subscriber],
    authScopes: admin,
    args: { audience: t.arg.string({ description: '`public` or `deployment:<slug>`; every audience when left out.' }) },
    resolve: (_, { audience }, ctx) => listSubscribers(ctx.db, ctx.viewer, { audience: audience ?? undefined }),
  }),
  notificationDeliveries: t.field({
    type: [NotificationDelivery],
    authScopes: admin,
    description: 'The delivery log, newest first.',
    args: {
      subscriberId: t.arg.id(),
      status: t.arg({ type: DeliveryStatusEnum }),
      channel: t.arg({ type: ChannelKindEnum }),
      before: t.arg.id({ description: 'A delivery id: the page after it.' }),
      first: t.arg.int({ defaultValue: 50 }),
    },
    resolve: (_, args, ctx) =>
      // An id that names no subscriber lists nothing, like a missing one.
      args.subscriberId != null && !isId(String(args.subscriberId))
        ? []
        : listDeliveries(ctx.db, ctx.viewer, {
        subscriberId: args.subscriberId == null ? undefined : String(args.subscriberId),
        status: args.status ?? undefined,
        channel: args.channel ?? undefined,
        before: args.before && /^\d{1,15}$/.test(String(args.before)) ? Number(args.before) : undefined,
        first: Math.min(Math.max(args.first ?? 50, 1), 500),
      }),
  }),
  notificationStats: t.field({
    type: [ChannelDeliveryStats],
    authScopes: admin,
    description: 'Per channel, over the deliveries of the last `hours`: sent, retrying, dead, success rate.',
    args: { hours: t.arg.int({ defaultValue: 24 }) },
    resolve: (_, { hours }, ctx) => deliveryStats(ctx.db, ctx.viewer, Math.min(Math.max(hours ?? 24, 1), 24 * 90)),
  }),
}));

const SubscriberInput = builder.inputType('SubscriberInput', {
  fields: (t) => ({
    audience: t.string({ required: true, description: '`public` or `deployment:<slug>`.' }),
    channel: t.field({ type: ChannelKindEnum, required: true }),
    target: t.string({ required: true, description: 'Webhook URL (http/https), email address or phone number.' }),
    componentIds: t.idList({ description: 'Follow only these (and groupIds); everything the audience sees when both are empty.' }),
    groupIds: t.idList(),
  }),
});

builder.mutationFields((t) => ({
  createSubscriber: t.field({
    type: CreatedSubscriber,
    authScopes: admin,
    args: { input: t.arg({ type: SubscriberInput, required: true }) },
    resolve: (_, { input }, ctx) =>
      subs.createSubscriber(ctx.service, {
        audience: input.audience,
        channel: input.channel,
        target: input.target,
        componentIds: (input.componentIds ?? []).map(String),
        groupIds: (input.groupIds ?? []).map(String),
      }),
  }),
  importSubscribers: t.field({
    type: SubscriberImport,
    authScopes: admin,
    description: `Active subscribers of one audience from a CSV file (header row; columns \`channel\`, \`target\` or \`email\`, \`components\`, \`groups\`: docs/API.md), all or none: with any error nothing is written. At most ${importLimits.rows} rows and ${importLimits.bytes} bytes. Webhook signing secrets are not shown: rotate one to learn it.`,
    args: {
      audience: t.arg.string({ required: true, description: '`public` or `deployment:<slug>`.' }),
      csv: t.arg.string({ required: true }),
      dryRun: t.arg.boolean({ defaultValue: false, description: 'Check and count only; write nothing.' }),
    },
    resolve: (_, { audience, csv, dryRun }, ctx) => importSubscribers(ctx.service, { audience, csv, dryRun: dryRun ?? false }),
  }),
  disableSubscriber: t.field({
    type: Subscriber,
    authScopes: admin,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => subs.setSubscriberState(ctx.service, String(id), 'disabled'),
  }),
  enableSubscriber: t.field({
    type: Subscriber,
    authScopes: admin,
    description: 'Resume sending (after a 410 or repeated failures, once the receiver is fixed).',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => subs.setSubscriberState(ctx.service, String(id), 'active'),
  }),
  rotateSubscriberSigningSecret: t.field({
    type: RotatedSigningSecret,
    authScopes: admin,
    description: 'A new webhook signing secret; `keepPrevious` (default) keeps the previous one signing until the next rotation.',
    args: { id: t.arg.id({ required: true }), keepPrevious: t.arg.boolean({ defaultValue: true }) },
    resolve: (_, { id, keepPrevious }, ctx) => subs.rotateSigningSecret(ctx.service, String(id), keepPrevious ?? true),
  }),
}));
