import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { newSecret } from '../auth/secrets.js';
import type { Audience } from '../auth/audience.js';
import { audienceViewer, type Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { deployments, subscribers, type ComponentGroupRow, type ComponentRow, type SubscriberRow } from '../db/tables/index.js';
import { invalidInput, notFound } from '../domain/errors.js';
import type { SubscriberRecord } from '../domain/events.js';
import { id, inputSchema, isId } from '../domain/validate.js';
import { subscriberTarget } from '../domain/subscriber-target.js';
import { channelKinds, type ChannelKind } from '../domain/vocabulary.js';
import { newSigningSecret } from '../notify/channels/webhook.js';
import { listComponents, listGroups, listGroupsByIds } from '../read/catalog.js';
import { listSubscribers, type SubscriberInfo } from '../read/notifications.js';
import { requirePermission, transact, type ServiceContext, type Writer } from './context.js';

/**
 * Subscribers (staff-managed; public self-service with double opt-in comes with the email
 * channel). A subscriber belongs to one audience of the page, `public` or `deployment:<slug>`,
 * and follows what it names, or everything that audience sees. Admin only. A webhook's signing
 * secret appears only in the answer that made it; the event log holds neither it nor any hash.
 */

export const audienceKey = z.string().regex(/^(public|deployment:[a-z0-9-]{1,63})$/, 'must be public or deployment:<slug>');

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

/** An audience key resolved on the caller's page: its deployment (none for `public`) and a viewer reading as it. */
export interface SubscriberAudience {
  deployment: { id: string; slug: string } | null;
  viewer: Viewer;
}

/** `public` or `deployment:<slug>` of the caller's page; anything else is bad input on `audience`. */
export async function resolveAudience(reader: Pick<Db, 'select'>, ctx: Pick<ServiceContext, 'viewer'>, key: string): Promise<SubscriberAudience> {
  const parsed = audienceKey.safeParse(key);
  if (!parsed.success) throw invalidInput('audience', parsed.error.issues[0]?.message ?? 'is not valid');
  let deployment: SubscriberAudience['deployment'] = null;
  if (parsed.data !== 'public') {
    const slug = parsed.data.slice('deployment:'.length);
    [deployment = null] = await reader
      .select({ id: deployments.id, slug: deployments.slug })
      .from(deployments)
      .where(and(eq(deployments.pageId, ctx.viewer.page.id), eq(deployments.slug, slug)));
    if (!deployment) throw invalidInput('audience', 'no such deployment');
  }
  const audience: Audience = deployment ? { kind: 'deployment', deploymentId: deployment.id, slug: deployment.slug } : { kind: 'public' };
  return { deployment, viewer: audienceViewer(ctx.viewer.page, audience) };
}

/** The target as stored (trimmed; emails lower-cased), or why it is not one for the channel. */
export function checkTarget(channel: ChannelKind, target: string): { value: string } | { message: string } {
  const result = subscriberTarget[channel].safeParse(target);
  return result.success ? { value: result.data } : { message: result.error.issues[0]?.message ?? 'is not valid' };
}

/** A subscriber about to be made by staff: target checked, follows visible to its audience. */
export interface NewSubscriber {
  channel: ChannelKind;
  target: string;
  componentIds: string[];
  groupIds: string[];
}

export interface InsertedSubscriber {
  row: SubscriberRow;
  signingSecret: string | null;
  manageToken: string;
}

/**
 * Insert active subscribers of one audience (staff vouch for them: no opt-in), each with a manage
 * token and, for webhooks, a signing secret, and record `subscriber.created` for each unless
 * `recordEach` is false (the caller records one event for all). The caller has checked targets
 * (`checkTarget`) and that what they follow is visible to the audience.
 */
export async function insertActiveSubscribers(w: Writer, ctx: ServiceContext, audience: SubscriberAudience, list: readonly NewSubscriber[], recordEach = true): Promise<InsertedSubscriber[]> {
  const made: InsertedSubscriber[] = [];
  // 1,000 rows of 11 values stay far below PostgreSQL's 65,535 parameters per statement.
  for (let at = 0; at < list.length; at += 1000) {
    const chunk = list.slice(at, at + 1000).map((s) => ({ ...s, manage: newSecret('session'), signingSecret: s.channel === 'webhook' ? newSigningSecret() : null }));
    const rows = await w.tx
      .insert(subscribers)
      .values(
        chunk.map((s) => ({
          pageId: ctx.viewer.page.id,
          audienceKind: audience.deployment ? ('deployment' as const) : ('public' as const),
          deploymentId: audience.deployment?.id ?? null,
          channel: s.channel,
          target: s.target,
          componentIds: s.componentIds,
          groupIds: s.groupIds,
          state: 'active' as const,
          manageTokenHash: s.manage.hash,
          signingSecrets: s.signingSecret ? [s.signingSecret] : [],
        })),
      )
      .returning();
    // RETURNING promises no order: each row is matched to its secrets by its manage token's hash.
    const byHash = new Map(chunk.map((s) => [s.manage.hash, s]));
    for (const row of rows) {
      const s = byHash.get(row.manageTokenHash!)!;
      made.push({ row, signingSecret: s.signingSecret, manageToken: s.manage.value });
    }
  }
  if (recordEach) for (const { row } of made) await w.record({ action: 'subscriber.created', entityType: 'subscriber', entityId: row.id, after: subscriberRecord(row) });
  return made;
}

/** Add a subscriber; staff-made ones are active at once (no opt-in: staff vouch for them). */
export async function createSubscriber(ctx: ServiceContext, input: Parameters<typeof subscriberInput.create>[0]): Promise<CreatedSubscriber> {
  requirePermission(ctx, 'admin');
  const data = subscriberInput.create(input);
  const target = checkTarget(data.channel, data.target);
  if ('message' in target) throw invalidInput('target', target.message);
  return transact(ctx, async (w) => {
    const audience = await resolveAudience(w.tx, ctx, data.audience);
    // What it follows must be something its audience can see: anything else would never notify.
    if (data.componentIds.length && (await listComponents(w.tx as never, audience.viewer, { ids: data.componentIds })).length !== data.componentIds.length) {
      throw invalidInput('componentIds', 'names a component this audience cannot see');
    }
    if (data.groupIds.length && (await listGroupsByIds(w.tx as never, audience.viewer, data.groupIds)).length !== data.groupIds.length) {
      throw invalidInput('groupIds', 'names a group this audience cannot see');
    }
    const [made] = await insertActiveSubscribers(w, ctx, audience, [{ channel: data.channel, target: target.value, componentIds: data.componentIds, groupIds: data.groupIds }]);
    return { subscriber: await info(w, ctx, made!.row.id), signingSecret: made!.signingSecret, manageToken: made!.manageToken };
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

/**
 * What a subscriber of `audience` may follow: that audience's groups and components, read through
 * server/read/ as that audience (staff read everything, so the console asks the server rather than
 * working the rules out again).
 */
export async function followableFor(ctx: ServiceContext, audience: string): Promise<{ groups: ComponentGroupRow[]; components: ComponentRow[] }> {
  requirePermission(ctx, 'admin');
  const { viewer } = await resolveAudience(ctx.db, ctx, audience);
  const [groups, components] = await Promise.all([listGroups(ctx.db, viewer), listComponents(ctx.db, viewer)]);
  return { groups, components };
}
