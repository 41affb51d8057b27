import { and, desc, eq, getTableColumns, lt, sql, type SQL } from 'drizzle-orm';
import { isInternal, type Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { deployments, notificationDeliveries, subscribers, type NotificationDeliveryRow, type SubscriberRow } from '../db/tables/index.js';
import type { ChannelKind, DeliveryStatus } from '../domain/vocabulary.js';

/**
 * Subscribers and the delivery log: staff tooling, read only as the internal audience (any other
 * audience gets nothing, without a query). Token hashes and signing secrets never leave here.
 */

const { confirmTokenHash: _c, manageTokenHash: _m, signingSecrets: _s, ...publicColumns } = getTableColumns(subscribers);
export const subscriberColumns = { ...publicColumns, signingSecretCount: sql<number>`cardinality(${subscribers.signingSecrets})::int`, deploymentSlug: deployments.slug };

export type SubscriberInfo = Omit<SubscriberRow, 'confirmTokenHash' | 'manageTokenHash' | 'signingSecrets'> & { signingSecretCount: number; deploymentSlug: string | null };

export async function listSubscribers(db: Db, viewer: Viewer, filter: { id?: string; audience?: string } = {}): Promise<SubscriberInfo[]> {
  if (!isInternal(viewer)) return [];
  const conditions: (SQL | undefined)[] = [eq(subscribers.pageId, viewer.page.id)];
  if (filter.id) conditions.push(eq(subscribers.id, filter.id));
  if (filter.audience === 'public') conditions.push(eq(subscribers.audienceKind, 'public'));
  else if (filter.audience?.startsWith('deployment:')) conditions.push(eq(deployments.slug, filter.audience.slice('deployment:'.length)));
  return db
    .select(subscriberColumns)
    .from(subscribers)
    .leftJoin(deployments, eq(deployments.id, subscribers.deploymentId))
    .where(and(...conditions))
    .orderBy(desc(subscribers.createdAt), desc(subscribers.id)) as Promise<SubscriberInfo[]>;
}

/** The delivery log, newest first; `before`: a delivery id to page from. */
export async function listDeliveries(
  db: Db,
  viewer: Viewer,
  filter: { subscriberId?: string; status?: DeliveryStatus; channel?: ChannelKind; before?: number; first: number },
): Promise<NotificationDeliveryRow[]> {
  if (!isInternal(viewer)) return [];
  const conditions: (SQL | undefined)[] = [eq(notificationDeliveries.pageId, viewer.page.id)];
  if (filter.subscriberId) conditions.push(eq(notificationDeliveries.subscriberId, filter.subscriberId));
  if (filter.status) conditions.push(eq(notificationDeliveries.status, filter.status));
  if (filter.channel) conditions.push(eq(notificationDeliveries.channel, filter.channel));
  if (filter.before !== undefined) conditions.push(lt(notificationDeliveries.id, filter.before));
  return db
    .select()
    .from(notificationDeliveries)
    .where(and(...conditions))
    .orderBy(desc(notificationDeliveries.id))
    .limit(filter.first);
}

export interface ChannelStats {
  channel: ChannelKind;
  sent: number;
  /** Failed at least once and will be tried again. */
  retrying: number;
  dead: number;
  pending: number;
  superseded: number;
  /** sent / (sent + dead): the messages that arrived among those that were settled; null when none was. */
  successRate: number | null;
}

/** Per channel, over deliveries created in the last `hours`: the "notification success" figure. */
export async function deliveryStats(db: Db, viewer: Viewer, hours: number): Promise<ChannelStats[]> {
  if (!isInternal(viewer)) return [];
  const rows = await db
    .select({ channel: notificationDeliveries.channel, status: notificationDeliveries.status, n: sql<number>`count(*)::int` })
    .from(notificationDeliveries)
    .where(and(eq(notificationDeliveries.pageId, viewer.page.id), sql`${notificationDeliveries.createdAt} > now() - ${hours} * interval '1 hour'`))
    .groupBy(notificationDeliveries.channel, notificationDeliveries.status);
  const byChannel = new Map<ChannelKind, ChannelStats>();
  for (const { channel, status, n } of rows) {
    const stats = byChannel.get(channel) ?? { channel, sent: 0, retrying: 0, dead: 0, pending: 0, superseded: 0, successRate: null };
    const count = Number(n);
    if (status === 'sent') stats.sent += count;
    else if (status === 'failed') stats.retrying += count;
    else if (status === 'dead') stats.dead += count;
    else if (status === 'superseded') stats.superseded += count;
    else stats.pending += count;
    byChannel.set(channel, stats);
  }
  for (const stats of byChannel.values()) stats.successRate = stats.sent + stats.dead ? stats.sent / (stats.sent + stats.dead) : null;
  return [...byChannel.values()].sort((a, b) => a.channel.localeCompare(b.channel));
}
