import { and, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { audienceViewer, type Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { deployments, notificationDeliveries, pages, subscribers, type SubscriberRow } from '../db/tables/index.js';
import { invalidInput } from '../domain/errors.js';
import { id } from '../domain/validate.js';
import { renderEmail, sendDirectEmail } from '../notify/channels/email.js';
import { emailConfigFromEnv, type EmailConfig } from '../notify/email-config.js';
import { linkTokenHash, newLinkToken, sameHash, subscriptionLinks } from '../notify/links.js';
import { listComponents, listGroupsByIds } from '../read/catalog.js';

/**
 * Public email self-service with double opt-in (issue 11 §2; docs/API.md, *Email*). Anyone may ask
 * for the emails of the audience they read as (public, or the deployment their request resolves
 * to, with its audience token when protected): a `pending` subscriber is made and a confirmation
 * email sent with a confirm link; only `active` subscribers are notified. The answer is the same
 * whether the address is new, pending or already active (no enumeration), and the email is sent
 * after the answer (no timing difference). The links' tokens are random, stored hashed
 * (server/notify/links.ts).
 */

export interface SubscriptionSettings {
  email: EmailConfig | null;
  /** The hub's public origin, for the links (SNAPSHOT_ORIGIN, never the request's Host). */
  origin: string;
}

let settings: SubscriptionSettings | null = null;
/** Tests and start-up: where confirmations go and which origin the links name. */
export function setSubscriptionSettings(value: SubscriptionSettings | null): void {
  settings = value;
}
function current(): SubscriptionSettings {
  return (settings ??= {
    email: emailConfigFromEnv(),
    origin: new URL(process.env.SNAPSHOT_ORIGIN ?? `http://localhost:${process.env.PORT ?? 3000}`).origin,
  });
}

/** The last confirmation to one address is not repeated within this long (no mail-bombing through the form). */
const RESEND_AFTER_MS = 60_000;

const subscribeInput = z.object({
  email: z
    .string()
    .trim()
    .max(254)
    .pipe(z.email({ error: 'must be an email address' }))
    .transform((e) => e.toLowerCase()),
  componentIds: z.array(id).max(500).transform((ids) => [...new Set(ids)]),
  groupIds: z.array(id).max(500).transform((ids) => [...new Set(ids)]),
});

export async function subscribeByEmail(db: Db, viewer: Viewer, input: { email: string; componentIds?: string[]; groupIds?: string[] }): Promise<true> {
  const { email: config, origin } = current();
  if (!config) throw invalidInput('email', 'email subscriptions are not available on this hub');
  const parsed = subscribeInput.safeParse({ componentIds: [], groupIds: [], ...input });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidInput(String(issue?.path[0] ?? 'email'), issue?.message ?? 'is not valid');
  }
  const data = parsed.data;
  // Staff (internal) subscribe as the public: an email subscriber is never internal.
  const audience = viewer.audience.kind === 'deployment' ? viewer.audience : ({ kind: 'public' } as const);
  const reader = audienceViewer(viewer.page, audience);
  if (data.componentIds.length && (await listComponents(db, reader, { ids: data.componentIds })).length !== data.componentIds.length) {
    throw invalidInput('componentIds', 'names a component this audience cannot see');
  }
  if (data.groupIds.length && (await listGroupsByIds(db, reader, data.groupIds)).length !== data.groupIds.length) {
    throw invalidInput('groupIds', 'names a group this audience cannot see');
  }
  const deploymentId = audience.kind === 'deployment' ? audience.deploymentId : null;
  const confirm = newLinkToken('confirm');
  const manage = newLinkToken('manage');
  const send = await db.transaction(async (tx) => {
    const [existing] = await tx
      .select()
      .from(subscribers)
      .where(
        and(
          eq(subscribers.pageId, viewer.page.id),
          eq(subscribers.channel, 'email'),
          eq(subscribers.target, data.email),
          eq(subscribers.audienceKind, audience.kind),
          deploymentId ? eq(subscribers.deploymentId, deploymentId) : isNull(subscribers.deploymentId),
        ),
      )
      .for('update');
    if (existing?.state === 'active') return false;
    // Staff disabled it (or it bounced): only staff turn it back on.
    if (existing?.state === 'disabled') return false;
    if (existing && existing.state === 'pending' && Date.now() - existing.updatedAt.getTime() < RESEND_AFTER_MS) return false;
    const values = { componentIds: data.componentIds, groupIds: data.groupIds, state: 'pending' as const, confirmTokenHash: confirm.hash, manageTokenHash: manage.hash };
    if (existing) await tx.update(subscribers).set({ ...values, updatedAt: sql`now()` }).where(eq(subscribers.id, existing.id));
    else await tx.insert(subscribers).values({ pageId: viewer.page.id, audienceKind: audience.kind, deploymentId, channel: 'email', target: data.email, ...values });
    return true;
  });
  if (send) {
    const links = subscriptionLinks(origin, confirm.value);
    const manageLinks = subscriptionLinks(origin, manage.value);
    const mail = confirmationEmail(viewer.page.name, viewer.page.branding.accentColor, links.confirmUrl, manageLinks.manageUrl, manageLinks.unsubscribeUrl);
    // After the answer: a new address and a known one answer alike, in the same time.
    void sendDirectEmail(config, { to: data.email, ...mail }).catch(() => undefined);
  }
  return true;
}

function confirmationEmail(pageName: string, accentColor: string | undefined, confirmUrl: string, manageUrl: string, unsubscribeUrl: string) {
  const base = renderEmail({}, { pageName, accentColor, manageUrl, unsubscribeUrl });
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return {
    subject: `[${pageName.replace(/[\r\n]+/g, ' ')}] Confirm your subscription`,
    text: `Someone (hopefully you) asked to receive status updates from ${pageName} at this address.\n\nConfirm: ${confirmUrl}\n\nIf it was not you, ignore this email: nothing will be sent.\n`,
    html: base.html
      .replace(/<h1[^>]*>.*<\/h1>/, '<h1 style="font-size:20px">Confirm your subscription</h1>')
      .replace(
        '<hr',
        `<p>Someone (hopefully you) asked to receive status updates from ${escape(pageName)} at this address.</p><p><a href="${escape(confirmUrl)}">Confirm your subscription</a></p><p>If it was not you, ignore this email: nothing will be sent.</p><hr`,
      ),
  };
}

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
  const [updated] = await db
    .update(subscribers)
    .set({ state: 'active', confirmTokenHash: null, consecutiveFailures: 0, updatedAt: sql`now()` })
    // A confirmation link works for a week after it was sent.
    .where(and(eq(subscribers.id, row.id), eq(subscribers.state, 'pending'), sql`${subscribers.updatedAt} > now() - interval '7 days'`))
    .returning();
  return updated ?? null;
}

/** One-click unsubscribe (idempotent): the subscriber is `unsubscribed`, its pending messages are not sent. */
export async function unsubscribe(db: Db, token: string | null): Promise<SubscriberRow | null> {
  const row = await subscriberByToken(db, token, 'manage');
  if (!row) return null;
  if (row.state === 'unsubscribed') return row;
  const [updated] = await db.update(subscribers).set({ state: 'unsubscribed', confirmTokenHash: null, updatedAt: sql`now()` }).where(eq(subscribers.id, row.id)).returning();
  return updated ?? row;
}

/** What a manage link shows: the page, the address, the audience and what it follows (as its audience sees it now). */
export async function describeSubscription(db: Db, row: SubscriberRow) {
  const [page] = await db.select().from(pages).where(eq(pages.id, row.pageId));
  const [deployment] = row.deploymentId ? await db.select({ name: deployments.name, slug: deployments.slug }).from(deployments).where(eq(deployments.id, row.deploymentId)) : [];
  const reader = page && audienceViewer(page, deployment && row.deploymentId ? { kind: 'deployment', deploymentId: row.deploymentId, slug: deployment.slug } : { kind: 'public' });
  const followed = reader && row.componentIds.length ? await listComponents(db, reader, { ids: row.componentIds }) : [];
  return {
    page: page?.name ?? '',
    email: row.target,
    audience: deployment?.name ?? 'public',
    state: row.state,
    follows: row.componentIds.length || row.groupIds.length ? followed.map((c) => c.name) : 'everything',
  };
}
