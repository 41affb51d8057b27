import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { channelKindEnum, deliveryStatusEnum, subscriberAudienceEnum, subscriberStateEnum } from './enums.js';
import { deployments } from './catalog.js';
import { pages } from './pages.js';

/**
 * Notifications (issue 11; docs/ARCHITECTURE.md, *Notifications*): who is told, what is still to
 * be told, and what was told. The services write only `notification_outbox` (one row per event, in
 * the event's transaction); the worker (server/notify/worker.ts) fans it out into deliveries.
 */

/** Someone outside staff who asked to be told: one audience of one page, through one channel. */
export const subscribers = pgTable(
  'subscribers',
  {
    id: uuid().primaryKey().defaultRandom(),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
    /** `public`, or `deployment` with `deploymentId`: the audience key `deployment:<slug>`. */
    audienceKind: subscriberAudienceEnum().notNull(),
    deploymentId: uuid().references(() => deployments.id, { onDelete: 'cascade' }),
    channel: channelKindEnum().notNull(),
    /** Email address, URL (webhook, Slack, Teams) or phone number. */
    target: text().notNull(),
    /** What it follows; both empty: everything its audience sees. */
    componentIds: uuid().array().notNull().default(sql`'{}'::uuid[]`),
    groupIds: uuid().array().notNull().default(sql`'{}'::uuid[]`),
    state: subscriberStateEnum().notNull().default('pending'),
    /** sha256 (server/auth/secrets.ts) of the double opt-in and manage-preferences tokens. */
    confirmTokenHash: text(),
    manageTokenHash: text(),
    /**
     * Webhook signing secrets (`whsec_…`), newest first; several while one is rotated out.
     * NOTE: kept as they are, not hashed: the worker needs them to sign.
     */
    signingSecrets: text().array().notNull().default(sql`'{}'::text[]`),
    /** Failed deliveries in a row; reset by a success. */
    consecutiveFailures: integer().notNull().default(0),
    disabledReason: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('subscribers_page_state').on(t.pageId, t.state),
    index('subscribers_confirm_token').on(t.confirmTokenHash).where(sql`${t.confirmTokenHash} is not null`),
    index('subscribers_manage_token').on(t.manageTokenHash).where(sql`${t.manageTokenHash} is not null`),
  ],
);

/**
 * One row per committed event that may concern an outside audience, written in the event's own
 * transaction (server/services/context.ts), never one per recipient. `payloads`: each audience's
 * message, rendered once by the worker when it fans the event out (`processedAt`).
 */
export const notificationOutbox = pgTable(
  'notification_outbox',
  {
    eventSeq: bigint({ mode: 'number' }).primaryKey(),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp({ withTimezone: true }),
    payloads: jsonb().$type<Record<string, unknown>>(),
  },
  (t) => [index('notification_outbox_unprocessed').on(t.eventSeq).where(sql`${t.processedAt} is null`)],
);

/** One message about one event to one subscriber, with its attempts. */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    eventSeq: bigint({ mode: 'number' }).notNull(),
    subscriberId: uuid()
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    pageId: uuid().notNull().references(() => pages.id, { onDelete: 'cascade' }),
    channel: channelKindEnum().notNull(),
    /** What the message is about (`incident:<id>`, `component:<id>`, `maintenance:<id>`): consolidation's key. */
    topic: text().notNull(),
    /** The key of `notification_outbox.payloads` this message is read from. */
    audienceKey: text().notNull(),
    /** `msg_<event seq>_<subscriber id>`: the same on every attempt (the webhook's `webhook-id`). */
    idempotencyKey: text().notNull().unique(),
    status: deliveryStatusEnum().notNull().default('pending'),
    attempts: integer().notNull().default(0),
    nextAttemptAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** While `sending`: when another worker may take it over (the sender died). */
    lockedUntil: timestamp({ withTimezone: true }),
    lastError: text(),
    /** Email: sha256 of the manage/unsubscribe token in this message's links (minted at each attempt). */
    linkTokenHash: text(),
    responseCode: integer(),
    sentAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('notification_deliveries_event_subscriber').on(t.eventSeq, t.subscriberId),
    index('notification_deliveries_due')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} in ('pending', 'failed', 'sending')`),
    index('notification_deliveries_subscriber_topic').on(t.subscriberId, t.topic, t.eventSeq),
    index('notification_deliveries_page_created').on(t.pageId, t.createdAt),
    index('notification_deliveries_link_token').on(t.linkTokenHash).where(sql`${t.linkTokenHash} is not null`),
  ],
);

export type SubscriberRow = typeof subscribers.$inferSelect;
export type NotificationDeliveryRow = typeof notificationDeliveries.$inferSelect;
