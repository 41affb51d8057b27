import { and, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { audienceViewer, systemViewer, type Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { deployments, notificationDeliveries, pages, subscribers, type SubscriberRow } from '../db/tables/index.js';
import { invalidInput } from '../domain/errors.js';
import { subscriberTarget } from '../domain/subscriber-target.js';
import { id } from '../domain/validate.js';
import { channelKinds, type ChannelKind } from '../domain/vocabulary.js';
import { newSigningSecret } from '../notify/channels/webhook.js';
import { notifyConfigFromEnv } from '../notify/config.js';
import { offeredChannels, sendConfirmation, type ConfirmationSettings } from '../notify/confirmations.js';
import { emailConfigFromEnv, type EmailConfig } from '../notify/email-config.js';
import { linkTokenHash, newLinkToken, sameHash, subscriptionLinks } from '../notify/links.js';
import { listComponents, listGroups, listGroupsByIds } from '../read/catalog.js';
import { transact, type ServiceContext, type Writer } from './context.js';
import { subscriberRecord } from './subscribers.js';

/**
 * Public self-service with double opt-in (issue 11 §2; docs/API.md, *Subscribing*). Anyone may
 * ask for the updates of the audience they read as (public, or the deployment their request
 * resolves to, with its audience token when protected), through any channel the hub offers: a
 * `pending` subscriber is made and a confirmation with a confirm link is sent through that channel
 * (server/notify/confirmations.ts); only `active` subscribers are notified. The answer is the same
 * whether the target is new, pending or already active (no enumeration), and the confirmation is
 * sent after the answer (no timing difference). The links' tokens are random, stored hashed
 * (server/notify/links.ts). Each step is in the audit log, as the `self-service` actor.
 */

export interface SubscriptionSettings extends Partial<Omit<ConfirmationSettings, 'email'>> {
  email: EmailConfig | null;
  /** The hub's public origin, for the links (SNAPSHOT_ORIGIN, never the request's Host). */
  origin: string;
}

let settings: SubscriptionSettings | null = null;
/** What `settings` resolves to, the environment read once (not at every subscribe or `subscriptionChannels`). */
let resolved: (ConfirmationSettings & { origin: string }) | null = null;
/** Tests and start-up: where confirmations go and which origin the links name. */
export function setSubscriptionSettings(value: SubscriptionSettings | null): void {
  settings = value;
  resolved = null;
}
function current(): ConfirmationSettings & { origin: string } {
  if (resolved) return resolved;
  const notify = notifyConfigFromEnv();
  const chosen = settings ?? {
    email: emailConfigFromEnv(),
    origin: new URL(process.env.SNAPSHOT_ORIGIN ?? `http://localhost:${process.env.PORT ?? 3000}`).origin,
  };
  return (resolved = { sms: notify.sms, timeoutMs: notify.timeoutMs, allowPrivateTargets: notify.allowPrivateTargets, ...chosen });
}

/** The channels a visitor may subscribe through on this hub (`Page.subscriptionChannels`). */
export const subscriptionChannels = (): ChannelKind[] => offeredChannels(current());

/** The last confirmation to one target is not repeated within this long (no message-bombing through the form). */
const RESEND_AFTER_MS = 60_000;

const subscribeInput = z.object({
  channel: z.enum(channelKinds),
  target: z.string().max(2048, 'must be at most 2048 characters'),
  componentIds: z.array(id).max(500).transform((ids) => [...new Set(ids)]),
  groupIds: z.array(id).max(500).transform((ids) => [...new Set(ids)]),
});

export interface SubscribeRequest {
  channel?: ChannelKind;
  target: string;
  componentIds?: string[];
  groupIds?: string[];
}

export async function subscribe(db: Db, viewer: Viewer, input: SubscribeRequest, log?: (error: unknown) => void): Promise<true> {
  const config = current();
  const parsed = subscribeInput.safeParse({ channel: 'email', componentIds: [], groupIds: [], ...input });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidInput(String(issue?.path[0] ?? 'target'), issue?.message ?? 'is not valid');
  }
  const { channel, componentIds, groupIds } = parsed.data;
  if (!offeredChannels(config).includes(channel)) throw invalidInput('channel', `${channel} subscriptions are not available on this hub`);
  const target = subscriberTarget[channel].safeParse(parsed.data.target);
  if (!target.success) throw invalidInput('target', target.error.issues[0]?.message ?? 'is not valid');
  // Staff (internal) subscribe as the public: a subscriber is never internal.
  const audience = viewer.audience.kind === 'deployment' ? viewer.audience : ({ kind: 'public' } as const);
  const reader = audienceViewer(viewer.page, audience);
  if (componentIds.length && (await listComponents(db, reader, { ids: componentIds })).length !== componentIds.length) {
    throw invalidInput('componentIds', 'names a component this audience cannot see');
  }
  if (groupIds.length && (await listGroupsByIds(db, reader, groupIds)).length !== groupIds.length) {
    throw invalidInput('groupIds', 'names a group this audience cannot see');
  }
  const deploymentId = audience.kind === 'deployment' ? audience.deploymentId : null;
  const confirm = newLinkToken('confirm');
  const manage = newLinkToken('manage');
  const signingSecret = channel === 'webhook' ? newSigningSecret() : undefined;
  const ctx: ServiceContext = { db, viewer: systemViewer(viewer.page, SELF_SERVICE) };
  const subscriberId = await transact(ctx, async (w) => {
    const [existing] = await w.tx
      .select()
      .from(subscribers)
      .where(
        and(
          eq(subscribers.pageId, viewer.page.id),
          eq(subscribers.channel, channel),
          eq(subscribers.target, target.data),
          eq(subscribers.audienceKind, audience.kind),
          deploymentId ? eq(subscribers.deploymentId, deploymentId) : isNull(subscribers.deploymentId),
        ),
      )
      .for('update');
    if (existing?.state === 'active') return null;
    // Staff disabled it (or it bounced): only staff turn it back on.
    if (existing?.state === 'disabled') return null;
    if (existing && existing.state === 'pending' && Date.now() - existing.updatedAt.getTime() < RESEND_AFTER_MS) return null;
    const values = {
      componentIds,
      groupIds,
      state: 'pending' as const,
      confirmTokenHash: confirm.hash,
      manageTokenHash: manage.hash,
      signingSecrets: signingSecret ? [signingSecret] : [],
    };
    const [row] = existing
      ? await w.tx.update(subscribers).set({ ...values, updatedAt: sql`now()` }).where(eq(subscribers.id, existing.id)).returning()
      : await w.tx.insert(subscribers).values({ pageId: viewer.page.id, audienceKind: audience.kind, deploymentId, channel, target: target.data, ...values }).returning();
    await w.record(
      existing
        ? { action: 'subscriber.updated', entityType: 'subscriber', entityId: row!.id, before: subscriberRecord(existing), after: subscriberRecord(row!) }
        : { action: 'subscriber.created', entityType: 'subscriber', entityId: row!.id, after: subscriberRecord(row!) },
    );
    return row!.id;
  });
  if (subscriberId) {
    const manageLinks = subscriptionLinks(config.origin, manage.value);
    const confirmation = {
      pageId: viewer.page.id,
      pageName: viewer.page.name,
      accentColor: viewer.page.branding.accentColor,
      audience: audience.kind === 'deployment' ? `deployment:${audience.slug}` : 'public',
      subscriberId,
      confirmUrl: subscriptionLinks(config.origin, confirm.value).confirmUrl,
      manageUrl: manageLinks.manageUrl,
      unsubscribeUrl: manageLinks.unsubscribeUrl,
      signingSecret,
    };
    // After the answer: a new target and a known one answer alike, in the same time.
    void sendConfirmation(config, channel, target.data, confirmation).catch((error) => log?.(error));
  }
  return true;
}

/** The actor of the audit log's self-service steps (subscribe, confirm, unsubscribe by link). */
const SELF_SERVICE = 'self-service';

/** A subscriber by a link's token: `confirm` tokens on the subscriber; `manage` ones on it or on one of its emails. */
export async function subscriberByToken(db: Db, token: string | null, kind: 'confirm' | 'manage'): Promise<SubscriberRow | null> {
  const hash = linkTokenHash(token, kind);
  if (!hash) return null;
  if (kind === 'confirm') {
    const [row] = await db.select().from(subscribers).where(eq(subscribers.confirmTokenHash, hash));
    return row && sameHash(row.confirmTokenHash, hash) ? row : null;
  }
  const [own] = await db.select().from(subscribers).where(eq(subscribers.manageTokenHash, hash));
  if (own && sameHash(own.manageTokenHash, hash)) return own;
  const [viaDelivery] = await db
    .select({ subscriber: subscribers, tokenHash: notificationDeliveries.linkTokenHash })
    .from(notificationDeliveries)
    .innerJoin(subscribers, eq(subscribers.id, notificationDeliveries.subscriberId))
    .where(eq(notificationDeliveries.linkTokenHash, hash))
    .limit(1);
  return viaDelivery && sameHash(viaDelivery.tokenHash, hash) ? viaDelivery.subscriber : null;
}

/** Double opt-in: a pending subscriber becomes active (once, within 7 days; the token is spent). */
export async function confirmSubscription(db: Db, token: string | null): Promise<SubscriberRow | null> {
  const row = await subscriberByToken(db, token, 'confirm');
  if (!row) return null;
  return changeByLink(db, row, (w) =>
    w.tx
      .update(subscribers)
      .set({ state: 'active', confirmTokenHash: null, consecutiveFailures: 0, updatedAt: sql`now()` })
      // A confirmation link works for a week after it was sent.
      .where(and(eq(subscribers.id, row.id), eq(subscribers.state, 'pending'), sql`${subscribers.updatedAt} > now() - interval '7 days'`))
      .returning(),
  );
}

/** One-click unsubscribe (idempotent): the subscriber is `unsubscribed`, its pending messages are not sent. */
export async function unsubscribe(db: Db, token: string | null): Promise<SubscriberRow | null> {
  const row = await subscriberByToken(db, token, 'manage');
  if (!row) return null;
  if (row.state === 'unsubscribed') return row;
  return (await changeByLink(db, row, (w) => w.tx.update(subscribers).set({ state: 'unsubscribed', confirmTokenHash: null, updatedAt: sql`now()` }).where(eq(subscribers.id, row.id)).returning())) ?? row;
}

/** A link's change to its subscriber, with its `subscriber.updated` event, in one transaction. */
async function changeByLink(db: Db, before: SubscriberRow, change: (w: Writer) => Promise<SubscriberRow[]>): Promise<SubscriberRow | null> {
  const [page] = await db.select().from(pages).where(eq(pages.id, before.pageId));
  if (!page) return null;
  return transact({ db, viewer: systemViewer(page, SELF_SERVICE) }, async (w) => {
    const [after] = await change(w);
    if (after) await w.record({ action: 'subscriber.updated', entityType: 'subscriber', entityId: after.id, before: subscriberRecord(before), after: subscriberRecord(after) });
    return after ?? null;
  });
}

/** The audience a subscriber reads as, and its page; null when the page or deployment is gone. */
async function readerOf(db: Db, row: SubscriberRow): Promise<{ page: typeof pages.$inferSelect; deploymentName: string | null; reader: Viewer } | null> {
  const [page] = await db.select().from(pages).where(eq(pages.id, row.pageId));
  if (!page) return null;
  if (!row.deploymentId) return { page, deploymentName: null, reader: audienceViewer(page, { kind: 'public' }) };
  const [deployment] = await db.select({ name: deployments.name, slug: deployments.slug }).from(deployments).where(eq(deployments.id, row.deploymentId));
  if (!deployment) return null;
  return { page, deploymentName: deployment.name, reader: audienceViewer(page, { kind: 'deployment', deploymentId: row.deploymentId, slug: deployment.slug }) };
}

/**
 * What a manage link shows: the page, the target, the audience, what it follows and what it could
 * follow instead, all read as its audience sees them now (a component hidden since is not named).
 */
export async function describeSubscription(db: Db, row: SubscriberRow) {
  const found = await readerOf(db, row);
  const [groups, components] = found ? await Promise.all([listGroups(db, found.reader), listComponents(db, found.reader)]) : [[], []];
  const followsAll = !row.componentIds.length && !row.groupIds.length;
  return {
    page: found?.page.name ?? '',
    channel: row.channel,
    /** The address or number; a URL only by its origin: a Slack or Teams hook URL is a secret, and a link may be forwarded. */
    target: shownTarget(row),
    /** Kept for the email links' first readers. */
    email: row.channel === 'email' ? row.target : undefined,
    audience: found?.deploymentName ?? 'public',
    state: row.state,
    follows: followsAll ? ('everything' as const) : [...groups.filter((g) => row.groupIds.includes(g.id)), ...components.filter((c) => row.componentIds.includes(c.id))].map((x) => x.name),
    /** What this audience may follow: each group with its components, then the components in none. */
    choices: [
      ...groups.map((g) => ({ group: { id: g.id, name: g.name, followed: row.groupIds.includes(g.id) }, components: components.filter((c) => c.groupId === g.id) })),
      { group: null, components: components.filter((c) => !c.groupId) },
    ]
      .map((section) => ({ ...section, components: section.components.map((c) => ({ id: c.id, name: c.name, followed: row.componentIds.includes(c.id) })) }))
      .filter((section) => section.group || section.components.length),
  };
}

/**
 * Manage preferences by link: follow everything (both lists empty) or only these components and
 * groups, which must be ones the subscriber's audience sees now (`input/invalid` otherwise;
 * nothing changes). Audited like the other link steps.
 */
export async function updatePreferences(db: Db, token: string | null, choice: { componentIds: string[]; groupIds: string[] }): Promise<SubscriberRow | null> {
  const row = await subscriberByToken(db, token, 'manage');
  if (!row || row.state === 'unsubscribed') return null;
  const found = await readerOf(db, row);
  if (!found) return null;
  const componentIds = [...new Set(choice.componentIds)];
  const groupIds = [...new Set(choice.groupIds)];
  if (componentIds.length > 500 || groupIds.length > 500 || ![...componentIds, ...groupIds].every((x) => id.safeParse(x).success)) throw invalidInput('componentIds', 'is not a list of components');
  if (componentIds.length && (await listComponents(db, found.reader, { ids: componentIds })).length !== componentIds.length) {
    throw invalidInput('componentIds', 'names a component this audience cannot see');
  }
  if (groupIds.length && (await listGroupsByIds(db, found.reader, groupIds)).length !== groupIds.length) {
    throw invalidInput('groupIds', 'names a group this audience cannot see');
  }
  return changeByLink(db, row, (w) => w.tx.update(subscribers).set({ componentIds, groupIds, updatedAt: sql`now()` }).where(eq(subscribers.id, row.id)).returning());
}

export const shownTarget = (row: Pick<SubscriberRow, 'channel' | 'target'>): string =>
  row.channel === 'email' || row.channel === 'sms' ? row.target : `${URL.parse(row.target)?.origin ?? 'a URL'}/…`;
