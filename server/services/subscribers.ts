import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { newSecret } from '../auth/secrets.js';
import { audienceViewer } from '../auth/viewer.js';
import { deployments, subscribers, type SubscriberRow } from '../db/tables/index.js';
import { invalidInput, notFound } from '../domain/errors.js';
import type { SubscriberRecord } from '../domain/events.js';
import { id, inputSchema, isId } from '../domain/validate.js';
import { subscriberTarget } from '../domain/subscriber-target.js';
import { channelKinds } from '../domain/vocabulary.js';
import { newSigningSecret } from '../notify/channels/webhook.js';
import { listComponents, listGroupsByIds } from '../read/catalog.js';
import { listSubscribers, type SubscriberInfo } from '../read/notifications.js';
import { requirePermission, transact, type ServiceContext, type Writer } from './context.js';

/**
 * Subscribers (staff-managed; public self-service with double opt-in comes with the email
 * channel). A subscriber belongs to one audience of the page, `public` or `deployment:<slug>`,
 * and follows what it names, or everything that audience sees. Admin only. A webhook's signing
 * secret appears only in the answer that made it; the event log holds neither it nor any hash.
 */

const audienceKey = z.string().regex(/^(public|deployment:[a-z0-9-]{1,63})$/, 'must be public or deployment:<slug>');

const subscriberInput = inputSchema(
  {
    audience: audienceKey,
    channel: z.enum(channelKinds),
    target: z.string().trim().min(1, 'must not be empty').max(2048, 'must be at most 2048 characters'),
    componentIds: z.array(id).max(500).transform((ids) => [...new Set(ids)]),
    groupIds: z.array(id).max(500).transform((ids) => [...new Set(ids)]),
  },
  { componentIds: [], groupIds: [] },
);

export interface CreatedSubscriber {
  subscriber: SubscriberInfo;
  /** Webhooks: the `whsec_…` signing secret, shown this once. */
  signingSecret: string | null;
  /** The manage-preferences token (its sha256 is stored), shown this once. */
  manageToken: string;
}

export interface RotatedSecret {
  subscriber: SubscriberInfo;
  /** The new `whsec_…` secret, shown this once. */
  signingSecret: string;
}

/** A subscriber as the event log holds it: no token hashes, no signing secrets (only how many). */
export const subscriberRecord = (row: SubscriberRow): SubscriberRecord => {
  const { confirmTokenHash: _c, manageTokenHash: _m, signingSecrets, ...rest } = row;
  return { ...rest, signingSecretCount: signingSecrets.length };
};

async function lockSubscriber(w: Writer, ctx: ServiceContext, subscriberId: string): Promise<SubscriberRow> {
  if (!isId(subscriberId)) throw notFound('subscriber');
  const [row] = await w.tx
    .select()
    .from(subscribers)
    .where(and(eq(subscribers.id, subscriberId), eq(subscribers.pageId, ctx.viewer.page.id)))
    .for('update');
  if (!row) throw notFound('subscriber');
  return row;
}

async function info(w: Writer, ctx: ServiceContext, subscriberId: string): Promise<SubscriberInfo> {
  return (await listSubscribers(w.tx as never, ctx.viewer, { id: subscriberId }))[0]!;
}

/** Add a subscriber; staff-made ones are active at once (no opt-in: staff vouch for them). */
export async function createSubscriber(ctx: ServiceContext, input: Parameters<typeof subscriberInput.create>[0]): Promise<CreatedSubscriber> {
  requirePermission(ctx, 'admin');
  const data = subscriberInput.create(input);
  const target = subscriberTarget[data.channel].safeParse(data.target);
  if (!target.success) throw invalidInput('target', target.error.issues[0]?.message ?? 'is not valid');
  const manage = newSecret('session');
  const signingSecret = data.channel === 'webhook' ? newSigningSecret() : null;
  return transact(ctx, async (w) => {
    let deployment: { id: string; slug: string } | undefined;
    if (data.audience !== 'public') {
      const slug = data.audience.slice('deployment:'.length);
      [deployment] = await w.tx
        .select({ id: deployments.id, slug: deployments.slug })
        .from(deployments)
        .where(and(eq(deployments.pageId, ctx.viewer.page.id), eq(deployments.slug, slug)));
      if (!deployment) throw invalidInput('audience', 'no such deployment');
    }
    // What it follows must be something its audience can see: anything else would never notify.
    const viewer = audienceViewer(ctx.viewer.page, deployment ? { kind: 'deployment', deploymentId: deployment.id, slug: deployment.slug } : { kind: 'public' });
    if (data.componentIds.length && (await listComponents(w.tx as never, viewer, { ids: data.componentIds })).length !== data.componentIds.length) {
      throw invalidInput('componentIds', 'names a component this audience cannot see');
    }
    if (data.groupIds.length && (await listGroupsByIds(w.tx as never, viewer, data.groupIds)).length !== data.groupIds.length) {
      throw invalidInput('groupIds', 'names a group this audience cannot see');
    }
    const [row] = await w.tx
      .insert(subscribers)
      .values({
        pageId: ctx.viewer.page.id,
        audienceKind: deployment ? 'deployment' : 'public',
        deploymentId: deployment?.id ?? null,
        channel: data.channel,
        target: target.data,
        componentIds: data.componentIds,
        groupIds: data.groupIds,
        state: 'active',
        manageTokenHash: manage.hash,
        signingSecrets: signingSecret ? [signingSecret] : [],
      })
      .returning();
    await w.record({ action: 'subscriber.created', entityType: 'subscriber', entityId: row!.id, after: subscriberRecord(row!) });
    return { subscriber: await info(w, ctx, row!.id), signingSecret, manageToken: manage.value };
  });
}

/** Stop (`disabled`) or resume (`active`) sending to a subscriber; resuming clears its failure count. */
export async function setSubscriberState(ctx: ServiceContext, subscriberId: string, state: 'active' | 'disabled'): Promise<SubscriberInfo> {
  requirePermission(ctx, 'admin');
  return transact(ctx, async (w) => {
    const before = await lockSubscriber(w, ctx, subscriberId);
    if (before.state === state) return info(w, ctx, subscriberId);
    const [row] = await w.tx
      .update(subscribers)
      .set({ state, consecutiveFailures: 0, disabledReason: state === 'disabled' ? 'disabled by staff' : null, updatedAt: sql`now()` })
      .where(eq(subscribers.id, subscriberId))
      .returning();
    await w.record({ action: 'subscriber.updated', entityType: 'subscriber', entityId: subscriberId, before: subscriberRecord(before), after: subscriberRecord(row!) });
    return info(w, ctx, subscriberId);
  });
}

/**
 * A new signing secret for a webhook subscriber. `keepPrevious` (the default) keeps the newest
 * older one signing too, so the receiver can switch at its pace; false drops every other one
 * (the rotation's end, or a leaked secret).
 */
export async function rotateSigningSecret(ctx: ServiceContext, subscriberId: string, keepPrevious = true): Promise<RotatedSecret> {
  requirePermission(ctx, 'admin');
  const secret = newSigningSecret();
  return transact(ctx, async (w) => {
    const before = await lockSubscriber(w, ctx, subscriberId);
    if (before.channel !== 'webhook') throw invalidInput('id', 'only webhook subscribers have signing secrets');
    const secrets = keepPrevious ? [secret, ...before.signingSecrets.slice(0, 1)] : [secret];
    const [row] = await w.tx.update(subscribers).set({ signingSecrets: secrets, updatedAt: sql`now()` }).where(eq(subscribers.id, subscriberId)).returning();
    await w.record({ action: 'subscriber.secret_rotated', entityType: 'subscriber', entityId: subscriberId, before: subscriberRecord(before), after: subscriberRecord(row!) });
    return { subscriber: await info(w, ctx, subscriberId), signingSecret: secret };
  });
}

