import type { ChannelKind } from '../../domain/vocabulary.js';

/**
 * One way of reaching subscribers (webhook today; email, Slack, Teams and SMS plug in here). The
 * worker (server/notify/worker.ts) claims a delivery, builds its message and calls `send`; the
 * channel only talks to the outside world and says what happened.
 */
export interface Channel {
  kind: ChannelKind;
  send(delivery: OutgoingDelivery, message: NotificationMessage): Promise<SendResult>;
}

/** What a channel needs to know about the delivery and its subscriber. */
export interface OutgoingDelivery {
  /** The idempotency key: the same on every attempt (a webhook's `webhook-id`). */
  id: string;
  attempt: number;
  subscriberId: string;
  target: string;
  /** Webhook signing secrets, newest first (several during a rotation). */
  signingSecrets: string[];
  /** Email: the page and the subscriber's manage and unsubscribe links (server/notify/channels/email.ts). */
  email?: import('./email.js').EmailContext;
}

/** The message: the audience's view of what changed, shaped like Statuspage's webhook body. */
export type NotificationMessage = Record<string, unknown>;

export interface SendResult {
  ok: boolean;
  /** The receiver's HTTP status (or a provider's), when there was one. */
  status?: number;
  /** Worth trying again later (a timeout, a 5xx, a 429); false gives up on this message. */
  retryable: boolean;
  /** Stop sending to this subscriber at all (a 410 Gone). */
  disable: boolean;
  /** The receiver asked to wait this long before trying again (a 429's Retry-After): the next attempt is no sooner (at most 6 h). */
  retryAfterMs?: number;
  error?: string;
}
