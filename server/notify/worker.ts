import { and, asc, eq, gt, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Audience } from '../auth/audience.js';
import { audienceViewer, systemViewer } from '../auth/viewer.js';
import { queryRows, type Db } from '../db/client.js';
import {
  deployments,
  events,
  maintenanceComponents,
  maintenances,
  notificationDeliveries,
  notificationOutbox,
  pages,
  subscribers,
  type PageRow,
} from '../db/tables/index.js';
import type { ChannelKind } from '../domain/vocabulary.js';
import { recordMaintenanceReminders } from '../services/maintenance-reminders.js';
import type { Channel, OutgoingDelivery, SendResult } from './channels/channel.js';
import { retryDelay, type NotifyConfig } from './config.js';
import { messageLinkToken, subscriptionLinks } from './links.js';
import { follows, renderMessage, type LoggedEvent } from './message.js';

/**
 * The notification worker (docs/ARCHITECTURE.md, *Notifications*). Two steps, each safe to run in
 * several processes at once:
 *
 * 1. **Fan-out**: claims unprocessed outbox rows (`FOR UPDATE SKIP LOCKED`), renders each event's
 *    message once per audience that has subscribers (server/notify/message.ts, as the audience
 *    sees it now), and inserts one delivery per subscriber who may see it and follows it
 *    (`ON CONFLICT DO NOTHING` on (event, subscriber)); the row is marked processed in the same
 *    transaction, so a crash leaves it to be fanned out again, never half done.
 * 2. **Send**: claims due deliveries (`sending` with a lease, `SKIP LOCKED`), sends them through
 *    their channel, and records the outcome: `sent`, `failed` with the next attempt (exponential
 *    backoff with jitter, for `retryForMs`), or `dead`. A worker that dies mid-send leaves its
 *    claims to expire; another sends them again with the same idempotency key (at least once).
 */

export interface NotifyWorkerOptions {
  db: Db;
  config: NotifyConfig;
  /** The hub's public origin, for links in messages. */
  origin: string;
  channels: Channel[];
  logger?: Pick<Logger, 'warn' | 'error' | 'info'>;
}

export interface NotifyWorker {
  /** Look for work now (after a local commit). */
  wake(): void;
  /** One fan-out batch and one send batch (and the maintenance reminders every 15 s); how many rows they handled. */
  runOnce(): Promise<number>;
  /** Record the maintenance reminders due at `now` on every page; how many. */
  remindMaintenances(now?: Date): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

const OUTBOX_BATCH = 20;
const REMINDER_CHECK_MS = 15_000;
const SUPERSEDE_EVERY_MS = 5_000;
const INSERT_CHUNK = 500;
/** What a webhook's `meta.documentation` names: the payload's shape is Statuspage's. */
const DOCUMENTATION = 'https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/';

interface SubscriberForFanOut {
  id: string;
  pageId: string;
  audienceKind: 'public' | 'deployment';
  deploymentId: string | null;
  slug: string | null;
  channel: ChannelKind;
  componentIds: string[];
  groupIds: string[];
}

const audienceOf = (s: SubscriberForFanOut): Audience | null =>
  s.audienceKind === 'public' ? { kind: 'public' } : s.deploymentId && s.slug ? { kind: 'deployment', deploymentId: s.deploymentId, slug: s.slug } : null;
const keyOf = (a: Audience) => (a.kind === 'deployment' ? `deployment:${a.slug}` : a.kind);

export function createNotifyWorker(options: NotifyWorkerOptions): NotifyWorker {
  const { db, config } = options;
  const channels = new Map(options.channels.map((c) => [c.kind, c]));
  let stopped = true;
  let running: Promise<void> | null = null;
  /** Wakers of the running loops (fan-out, then each lane). */
  const wakers = new Set<() => void>();

  async function fanOut(): Promise<number> {
    return db.transaction(async (tx) => {
      const claimed = await tx
        .select({ eventSeq: notificationOutbox.eventSeq, pageId: notificationOutbox.pageId })
        .from(notificationOutbox)
        .where(isNull(notificationOutbox.processedAt))
        .orderBy(asc(notificationOutbox.eventSeq))
        .limit(OUTBOX_BATCH)
        .for('update', { skipLocked: true });
      if (!claimed.length) return 0;
      const seqs = claimed.map((r) => r.eventSeq);
      const pageIds = [...new Set(claimed.map((r) => r.pageId))];
      const [eventRows, pageRows, subscriberRows] = await Promise.all([
        tx.select().from(events).where(inArray(events.seq, seqs)),
        tx.select().from(pages).where(inArray(pages.id, pageIds)),
        tx
          .select({
            id: subscribers.id,
            pageId: subscribers.pageId,
            audienceKind: subscribers.audienceKind,
            deploymentId: subscribers.deploymentId,
            slug: deployments.slug,
            channel: subscribers.channel,
            componentIds: subscribers.componentIds,
            groupIds: subscribers.groupIds,
          })
          .from(subscribers)
          .leftJoin(deployments, eq(deployments.id, subscribers.deploymentId))
          .where(and(inArray(subscribers.pageId, pageIds), eq(subscribers.state, 'active'))),
      ]);
      const eventBySeq = new Map(eventRows.map((e) => [e.seq, e]));
      const pageById = new Map(pageRows.map((p) => [p.id, p]));
      const now = Date.now();
      const deliveries: (typeof notificationDeliveries.$inferInsert)[] = [];

      for (const { eventSeq, pageId } of claimed) {
        const event = eventBySeq.get(eventSeq);
        const page = pageById.get(pageId);
        const payloads: Record<string, unknown> = {};
        const pageSubscribers = subscriberRows.filter((s) => s.pageId === pageId);
        if (event && page && pageSubscribers.length && !(await inMaintenanceWindow(tx as unknown as Db, event))) {
          const byAudience = new Map<string, { audience: Audience; list: SubscriberForFanOut[] }>();
          for (const s of pageSubscribers) {
            const audience = audienceOf(s);
            if (!audience) continue;
            const key = keyOf(audience);
            if (!byAudience.has(key)) byAudience.set(key, { audience, list: [] });
            byAudience.get(key)!.list.push(s);
          }
          const topic = `${event.entityType}:${event.entityId}`;
          const consolidates = event.entityType === 'incident' || event.entityType === 'maintenance';
          const due = new Date(consolidates ? Math.max(now, event.createdAt.getTime() + config.consolidateMs) : now);
          for (const [key, { audience, list }] of byAudience) {
            // Decided once per audience, as that audience sees it now.
            const message = await renderMessage(tx as unknown as Db, audienceViewer(page as PageRow, audience), event as LoggedEvent, options.origin);
            if (!message) continue;
            payloads[key] = message.body;
            for (const s of list) {
              if (!follows(s, message)) continue;
              deliveries.push({
                eventSeq,
                subscriberId: s.id,
                pageId,
                channel: s.channel,
                topic,
                audienceKey: key,
                idempotencyKey: `msg_${eventSeq}_${s.id}`,
                nextAttemptAt: due,
              });
            }
          }
        }
        await tx.update(notificationOutbox).set({ processedAt: new Date(), payloads }).where(eq(notificationOutbox.eventSeq, eventSeq));
      }
      for (let i = 0; i < deliveries.length; i += INSERT_CHUNK) {
        await tx
          .insert(notificationDeliveries)
          .values(deliveries.slice(i, i + INSERT_CHUNK))
          .onConflictDoNothing();
      }
      return claimed.length;
    });
  }

  /**
   * A component whose status changed while a maintenance was in progress on it (at the event's
   * time, not the fan-out's): no component alert.
   */
  async function inMaintenanceWindow(tx: Db, event: typeof events.$inferSelect): Promise<boolean> {
    if (event.action !== 'component.status_changed' && event.action !== 'component.updated') return false;
    const rows = await tx
      .select({ id: maintenances.id })
      .from(maintenanceComponents)
      .innerJoin(maintenances, eq(maintenances.id, maintenanceComponents.maintenanceId))
      .where(
        and(
          eq(maintenanceComponents.componentId, event.entityId),
          lte(maintenances.startedAt, event.createdAt),
          or(isNull(maintenances.completedAt), gt(maintenances.completedAt, event.createdAt)),
        ),
      )
      .limit(1);
    return rows.length > 0;
  }

  /** Consolidation: a message about an incident or maintenance still waiting when a newer one about it exists for the same subscriber is dropped; the newer one carries everything. */
  async function supersede(): Promise<void> {
    await db.execute(sql`
      update notification_deliveries d set status = 'superseded', locked_until = null, updated_at = now()
      where d.status in ('pending', 'failed') and d.next_attempt_at <= now()
        and split_part(d.topic, ':', 1) in ('incident', 'maintenance')
        and exists (select 1 from notification_deliveries n where n.subscriber_id = d.subscriber_id and n.topic = d.topic
                    and n.event_seq > d.event_seq and n.status not in ('superseded', 'dead'))`);
  }

  /**
   * One lane per channel this worker has, and one for the messages of channels it has not (given
   * up at once, "no <channel> channel"): a slow channel (SMTP) never holds up a fast one (10,000
   * emails queued ahead of 1,000 webhooks delayed the webhooks by the whole email run).
   */
  const lanes: SQL[] = [
    ...[...channels.keys()].map((kind) => sql`channel = ${kind}`),
    channels.size ? sql`channel not in (${sql.join([...channels.keys()].map((k) => sql`${k}`), sql`, `)})` : sql`true`,
  ];

  async function send(lane: SQL): Promise<number> {
    const claimed = await queryRows<{
      id: number;
      event_seq: number;
      subscriber_id: string;
      audience_key: string;
      idempotency_key: string;
      attempts: number;
      created_at: string | Date;
    }>(
      db,
      sql`update notification_deliveries set status = 'sending', attempts = attempts + 1, updated_at = now(),
            locked_until = now() + ${config.leaseMs} * interval '1 millisecond'
          where id in (select id from notification_deliveries
                       where ${lane} and ((status in ('pending', 'failed') and next_attempt_at <= now()) or (status = 'sending' and locked_until < now()))
                         -- NOTE: repeated from the supersede above: a message may have become due between the two statements.
                         and not (split_part(topic, ':', 1) in ('incident', 'maintenance') and status <> 'sending' and exists (
                           select 1 from notification_deliveries n where n.subscriber_id = notification_deliveries.subscriber_id
                             and n.topic = notification_deliveries.topic and n.event_seq > notification_deliveries.event_seq
                             and n.status not in ('superseded', 'dead')))
                       order by next_attempt_at limit ${config.concurrency} for update skip locked)
          returning id, event_seq, subscriber_id, audience_key, idempotency_key, attempts, created_at`,
    );
    if (!claimed.length) return 0;
    const subscriberIds = [...new Set(claimed.map((d) => d.subscriber_id))];
    const seqs = [...new Set(claimed.map((d) => Number(d.event_seq)))];
    const [subscriberRows, outboxRows, recent] = await Promise.all([
      db.select().from(subscribers).where(inArray(subscribers.id, subscriberIds)),
      db.select({ eventSeq: notificationOutbox.eventSeq, payloads: notificationOutbox.payloads }).from(notificationOutbox).where(inArray(notificationOutbox.eventSeq, seqs)),
      db
        .select({ subscriberId: notificationDeliveries.subscriberId, n: sql<number>`count(*)::int` })
        .from(notificationDeliveries)
        .where(
          and(inArray(notificationDeliveries.subscriberId, subscriberIds), eq(notificationDeliveries.status, 'sent'), sql`${notificationDeliveries.sentAt} > now() - interval '1 hour'`),
        )
        .groupBy(notificationDeliveries.subscriberId),
    ]);
    const subscriberById = new Map(subscriberRows.map((s) => [s.id, s]));
    // Email names its page (and wears its accent colour).
    const emailPageIds = [...new Set(subscriberRows.filter((s) => s.channel === 'email').map((s) => s.pageId))];
    const emailPages = new Map(
      (emailPageIds.length ? await db.select({ id: pages.id, name: pages.name, branding: pages.branding }).from(pages).where(inArray(pages.id, emailPageIds)) : []).map((p) => [p.id, p]),
    );
    const payloadsBySeq = new Map(outboxRows.map((o) => [o.eventSeq, o.payloads ?? {}]));
    const sentThisHour = new Map(recent.map((r) => [r.subscriberId, Number(r.n)]));

    const outcomes: { id: number; subscriberId: string; result: SendResult; attempts: number; createdAt: Date }[] = [];
    const postponed: number[] = [];
    const work: (() => Promise<void>)[] = [];
    for (const d of claimed) {
      const subscriber = subscriberById.get(d.subscriber_id);
      const body = payloadsBySeq.get(Number(d.event_seq))?.[d.audience_key];
      const channel = subscriber && channels.get(subscriber.channel);
      const createdAt = new Date(d.created_at);
      if (!subscriber || subscriber.state !== 'active' || !body || !channel) {
        const error = !subscriber || subscriber.state !== 'active' ? 'subscriber not active' : !body ? 'no message for this audience' : `no ${subscriber.channel} channel`;
        outcomes.push({ id: d.id, subscriberId: d.subscriber_id, result: { ok: false, retryable: false, disable: false, error }, attempts: d.attempts, createdAt });
        continue;
      }
      // No storms: at most maxPerHour messages per subscriber; the rest wait (and may consolidate).
      const count = sentThisHour.get(subscriber.id) ?? 0;
      if (count >= config.maxPerHour) {
        postponed.push(d.id);
        continue;
      }
      sentThisHour.set(subscriber.id, count + 1);
      const delivery: OutgoingDelivery = { id: d.idempotency_key, attempt: d.attempts, subscriberId: subscriber.id, target: subscriber.target, signingSecrets: subscriber.signingSecrets };
      const emailPage = subscriber.channel === 'email' ? emailPages.get(subscriber.pageId) : undefined;
      const linked = subscriber.channel === 'email' || subscriber.channel === 'webhook';
      work.push(async () => {
        let result: SendResult;
        try {
          // Emails and webhooks carry their unsubscribe link (`List-Unsubscribe`; `meta.unsubscribe`):
          // the same token on every attempt of one message, stored hashed on the delivery (the links
          // of a message that never arrived need not work). Slack and Teams hooks end by being deleted (404/410 disable
          // them); SMS by STOP at the provider.
          const links = linked ? subscriptionLinks(options.origin, await linkToken(d.id, messageLinkToken(subscriber.manageTokenHash, d.idempotency_key))) : null;
          if (emailPage && links) {
            delivery.email = { pageName: emailPage.name, accentColor: emailPage.branding.accentColor, manageUrl: links.manageUrl, unsubscribeUrl: links.unsubscribeUrl };
          }
          const message = { meta: { unsubscribe: links?.unsubscribeUrl ?? null, documentation: DOCUMENTATION }, ...(body as Record<string, unknown>) };
          result = await channel.send(delivery, message);
        } catch (error) {
          result = { ok: false, retryable: true, disable: false, error: error instanceof Error ? error.message : String(error) };
        }
        outcomes.push({ id: d.id, subscriberId: subscriber.id, result, attempts: d.attempts, createdAt });
      });
    }
    await runLimited(work, config.concurrency);
    await record(outcomes, postponed);
    return claimed.length;
  }

  async function linkToken(deliveryId: number, token: { value: string; hash: string }): Promise<string> {
    await db.update(notificationDeliveries).set({ linkTokenHash: token.hash }).where(eq(notificationDeliveries.id, deliveryId));
    return token.value;
  }

  async function record(outcomes: { id: number; subscriberId: string; result: SendResult; attempts: number; createdAt: Date }[], postponed: number[]): Promise<void> {
    if (postponed.length) {
      await db
        .update(notificationDeliveries)
        .set({ status: 'pending', attempts: sql`${notificationDeliveries.attempts} - 1`, lockedUntil: null, nextAttemptAt: sql`now() + interval '5 minutes'`, updatedAt: sql`now()` })
        .where(inArray(notificationDeliveries.id, postponed));
    }
    const sentByCode = new Map<number, number[]>();
    const succeeded = new Set<string>();
    const failedCount = new Map<string, number>();
    const gone = new Map<string, string>();
    for (const { id, subscriberId, result, attempts, createdAt } of outcomes) {
      if (result.ok) {
        const code = result.status ?? 0;
        if (!sentByCode.has(code)) sentByCode.set(code, []);
        sentByCode.get(code)!.push(id);
        succeeded.add(subscriberId);
        continue;
      }
      if (result.error !== 'subscriber not active') failedCount.set(subscriberId, (failedCount.get(subscriberId) ?? 0) + 1);
      if (result.disable) gone.set(subscriberId, result.error ?? 'disabled by the receiver');
      // A receiver's Retry-After (at most 6 h) is honoured when it is longer than our backoff.
      const delay = Math.max(retryDelay(config, attempts), Math.min(result.retryAfterMs ?? 0, 6 * 3600_000));
      const retry = result.retryable && !result.disable && Date.now() + delay - createdAt.getTime() <= config.retryForMs;
      await db
        .update(notificationDeliveries)
        .set({
          status: retry ? 'failed' : 'dead',
          lockedUntil: null,
          lastError: result.error ?? null,
          responseCode: result.status ?? null,
          nextAttemptAt: retry ? new Date(Date.now() + delay) : sql`${notificationDeliveries.nextAttemptAt}`,
          updatedAt: sql`now()`,
        })
        .where(eq(notificationDeliveries.id, id));
    }
    for (const [code, ids] of sentByCode) {
      await db
        .update(notificationDeliveries)
        .set({ status: 'sent', sentAt: sql`now()`, responseCode: code || null, lastError: null, lockedUntil: null, updatedAt: sql`now()` })
        .where(and(inArray(notificationDeliveries.id, ids), eq(notificationDeliveries.status, 'sending')));
    }
    const recovered = [...succeeded].filter((id) => !failedCount.has(id));
    if (recovered.length) {
      await db
        .update(subscribers)
        .set({ consecutiveFailures: 0 })
        .where(and(inArray(subscribers.id, recovered), sql`${subscribers.consecutiveFailures} > 0`));
    }
    for (const [id, n] of failedCount) {
      await db
        .update(subscribers)
        .set({
          consecutiveFailures: sql`${subscribers.consecutiveFailures} + ${n}`,
          state: sql`case when ${subscribers.consecutiveFailures} + ${n} >= ${config.disableAfter} then 'disabled'::subscriber_state else ${subscribers.state} end`,
          disabledReason: sql`case when ${subscribers.consecutiveFailures} + ${n} >= ${config.disableAfter} then ${`${config.disableAfter} failed deliveries in a row`} else ${subscribers.disabledReason} end`,
          updatedAt: sql`now()`,
        })
        .where(and(eq(subscribers.id, id), eq(subscribers.state, 'active')));
    }
    for (const [id, reason] of gone) {
      await db.update(subscribers).set({ state: 'disabled', disabledReason: reason, updatedAt: sql`now()` }).where(eq(subscribers.id, id));
    }
  }

  let remindedAt = 0;
  async function remindMaintenances(now = new Date()): Promise<number> {
    if (!config.maintenanceReminders.length) return 0;
    let recorded = 0;
    for (const page of await db.select().from(pages)) {
      recorded += await recordMaintenanceReminders({ db, viewer: systemViewer(page, 'notifier') }, config.maintenanceReminders, now);
    }
    return recorded;
  }

  let supersededAt = 0;
  /**
   * Reminders, fan-out, then consolidation. The supersede pass scans the waiting deliveries, so
   * the running loop does it after a fan-out and otherwise every few seconds, not at every poll
   * (the claim skips a supersedable message anyway; the pass only records it as such).
   */
  async function fanOutAll(always = false): Promise<number> {
    let handled = 0;
    if (Date.now() - remindedAt >= REMINDER_CHECK_MS) {
      remindedAt = Date.now();
      handled += await remindMaintenances();
    }
    for (let n = await fanOut(); n > 0; n = await fanOut()) handled += n;
    if (always || handled || Date.now() - supersededAt >= SUPERSEDE_EVERY_MS) {
      supersededAt = Date.now();
      await supersede();
    }
    return handled;
  }

  async function runOnce(): Promise<number> {
    let handled = await fanOutAll(true);
    for (const n of await Promise.all(lanes.map(send))) handled += n;
    return handled;
  }

  /**
   * Runs `step` while it finds work, then sleeps until woken or `pollMs`. The fan-out and each lane
   * run one such loop of their own, so a lane busy with a slow channel holds up no other.
   */
  async function loop(step: () => Promise<number>, after?: () => void): Promise<void> {
    let woken = false;
    let wakeUp: (() => void) | null = null;
    const waker = () => {
      woken = true;
      wakeUp?.();
    };
    wakers.add(waker);
    try {
      while (!stopped) {
        let handled = 0;
        try {
          handled = await step();
        } catch (error) {
          options.logger?.error({ err: error }, 'notification worker');
        }
        if (handled) after?.();
        if (handled || stopped) continue;
        if (woken) {
          woken = false;
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, config.pollMs);
          wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeUp = null;
      }
    } finally {
      wakers.delete(waker);
    }
  }

  const wakeAll = () => {
    for (const wake of wakers) wake();
  };

  return {
    wake: wakeAll,
    runOnce,
    remindMaintenances,
    start() {
      if (!stopped) return;
      stopped = false;
      // New deliveries from the fan-out wake the lanes at once rather than at their next poll.
      running = Promise.all([loop(() => fanOutAll(), wakeAll), ...lanes.map((lane) => loop(() => send(lane)))]).then(() => undefined);
    },
    async stop() {
      stopped = true;
      wakeAll();
      await running;
      running = null;
    },
  };
}

/** Run these with at most `limit` at once. */
async function runLimited(work: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, work.length) }, async () => {
    while (next < work.length) await work[next++]!();
  });
  await Promise.all(lanes);
}
