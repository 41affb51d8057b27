import { and, eq, inArray, sql } from 'drizzle-orm';
import { audienceViewer } from '../auth/viewer.js';
import { customers, deployments, subscribers, type CustomerRow, type DeploymentRow } from '../db/tables/index.js';
import { DomainError, invalidInput, notFound } from '../domain/errors.js';
import { subscriberTarget } from '../domain/subscriber-target.js';
import { inputSchema, isId, text } from '../domain/validate.js';
import { listGroups } from '../read/catalog.js';
import { listCustomers, type CustomerInfo } from '../read/customers.js';
import { requirePermission, transact, type ServiceContext, type Writer } from './context.js';
import { insertActiveSubscribers, subscriberRecord, type SubscriberAudience } from './subscribers.js';

/**
 * Customers of a deployment and subscribing them (issue 11 §2). Admin only. A customer's
 * subscriber is an active email subscriber of the audience `deployment:<slug>` (staff vouch for
 * it) that follows the deployment's groups its audience can see, so a component added to one of
 * them later is followed too. Made in bulk by `subscribeDeploymentCustomers`, or with the customer
 * when the deployment has `autoSubscribeCustomers`. A subscriber that unsubscribed, or that staff
 * or failures disabled, is never made again nor resumed.
 */

const customerInput = inputSchema({ deployment: text.slug, name: text.name, email: subscriberTarget.email }, {});

/** Why `deleteCustomer` disabled a subscriber; subscribing the customer again resumes only those. */
const customerRemoved = 'customer removed';

export interface SubscribeCustomersResult {
  created: number;
  alreadySubscribed: number;
}

async function lockDeploymentBySlug(w: Writer, ctx: ServiceContext, slug: string): Promise<DeploymentRow | undefined> {
  const [row] = await w.tx
    .select()
    .from(deployments)
    .where(and(eq(deployments.pageId, ctx.viewer.page.id), eq(deployments.slug, slug)))
    // NOTE: every write about a deployment's customers holds this lock, so two of them never both find "not subscribed yet".
    .for('update');
  return row;
}

/** Subscribe these customers of one deployment (locked by the caller) that have no email subscriber of its audience yet. */
async function subscribeCustomers(w: Writer, ctx: ServiceContext, deployment: DeploymentRow, list: readonly CustomerRow[]): Promise<SubscribeCustomersResult> {
  if (!list.length) return { created: 0, alreadySubscribed: 0 };
  const audience: SubscriberAudience = {
    deployment: { id: deployment.id, slug: deployment.slug },
    viewer: audienceViewer(ctx.viewer.page, { kind: 'deployment', deploymentId: deployment.id, slug: deployment.slug }),
  };
  const emails = list.map((c) => c.email);
  const existing = await w.tx
    .select()
    .from(subscribers)
    .where(and(eq(subscribers.deploymentId, deployment.id), eq(subscribers.channel, 'email'), inArray(sql`lower(${subscribers.target})`, emails)))
    .for('update');
  const have = new Set(existing.map((s) => s.target.toLowerCase()));
  const resumed = new Set<string>();
  for (const before of existing.filter((s) => s.state === 'disabled' && s.disabledReason === customerRemoved)) {
    const [row] = await w.tx.update(subscribers).set({ state: 'active', disabledReason: null, consecutiveFailures: 0, updatedAt: sql`now()` }).where(eq(subscribers.id, before.id)).returning();
    await w.record({ action: 'subscriber.updated', entityType: 'subscriber', entityId: before.id, before: subscriberRecord(before), after: subscriberRecord(row!) });
    resumed.add(before.target.toLowerCase());
  }
  const fresh = list.filter((c) => !have.has(c.email));
  if (fresh.length) {
    // The groups as the deployment's own audience sees them: an internal one is followed by no customer.
    // NOTE: a deployment without groups leaves both lists empty: everything its audience sees.
    const groupIds = (await listGroups(w.tx as never, audience.viewer, { deploymentIds: [deployment.id] })).map((g) => g.id);
    await insertActiveSubscribers(w, ctx, audience, fresh.map((c) => ({ channel: 'email' as const, target: c.email, componentIds: [], groupIds })));
  }
  return { created: fresh.length + resumed.size, alreadySubscribed: list.length - fresh.length - resumed.size };
}

async function info(w: Writer, ctx: ServiceContext, customerId: string): Promise<CustomerInfo> {
  return (await listCustomers(w.tx as never, ctx.viewer, { id: customerId }))[0]!;
}

/** Add a customer to a deployment; subscribed at once when the deployment has `autoSubscribeCustomers`. */
export async function createCustomer(ctx: ServiceContext, input: { deployment: string; name: string; email: string }): Promise<CustomerInfo> {
  requirePermission(ctx, 'admin');
  const data = customerInput.create(input);
  return transact(ctx, async (w) => {
    const deployment = await lockDeploymentBySlug(w, ctx, data.deployment);
    if (!deployment) throw invalidInput('deployment', 'no such deployment');
    const [taken] = await w.tx.select({ id: customers.id }).from(customers).where(and(eq(customers.deploymentId, deployment.id), eq(customers.email, data.email)));
    if (taken) throw new DomainError('customer/email_taken', `${deployment.slug} already has a customer with this email address`, { field: 'email' });
    const [row] = await w.tx.insert(customers).values({ pageId: ctx.viewer.page.id, deploymentId: deployment.id, name: data.name, email: data.email }).returning();
    await w.record({ action: 'customer.created', entityType: 'customer', entityId: row!.id, after: row! });
    if (deployment.autoSubscribeCustomers) await subscribeCustomers(w, ctx, deployment, [row!]);
    return info(w, ctx, row!.id);
  });
}

/**
 * Remove a customer. Its email subscriber to the deployment, if any is still sending, is disabled
 * with it: a former customer hears nothing more of the deployment.
 */
export async function deleteCustomer(ctx: ServiceContext, customerId: string): Promise<CustomerRow> {
  requirePermission(ctx, 'admin');
  if (!isId(customerId)) throw notFound('customer');
  return transact(ctx, async (w) => {
    const [found] = await w.tx.select().from(customers).where(and(eq(customers.id, customerId), eq(customers.pageId, ctx.viewer.page.id)));
    if (!found) throw notFound('customer');
    // Deployment first, then the customer: the lock order of every customer write.
    await w.tx.select({ id: deployments.id }).from(deployments).where(eq(deployments.id, found.deploymentId)).for('update');
    const [before] = await w.tx.delete(customers).where(eq(customers.id, customerId)).returning();
    if (!before) throw notFound('customer');
    await w.record({ action: 'customer.deleted', entityType: 'customer', entityId: customerId, before });
    const sending = await w.tx
      .select()
      .from(subscribers)
      .where(and(eq(subscribers.deploymentId, before.deploymentId), eq(subscribers.channel, 'email'), eq(sql`lower(${subscribers.target})`, before.email), inArray(subscribers.state, ['active', 'pending'])))
      .for('update');
    for (const s of sending) {
      const [row] = await w.tx.update(subscribers).set({ state: 'disabled', disabledReason: customerRemoved, updatedAt: sql`now()` }).where(eq(subscribers.id, s.id)).returning();
      await w.record({ action: 'subscriber.updated', entityType: 'subscriber', entityId: s.id, before: subscriberRecord(s), after: subscriberRecord(row!) });
    }
    return before;
  });
}

/** Subscribe every customer of the deployment that is not subscribed to it yet. */
export async function subscribeDeploymentCustomers(ctx: ServiceContext, slug: string): Promise<SubscribeCustomersResult> {
  requirePermission(ctx, 'admin');
  if (!text.slug.safeParse(slug).success) throw notFound('deployment');
  return transact(ctx, async (w) => {
    const deployment = await lockDeploymentBySlug(w, ctx, slug);
    if (!deployment) throw notFound('deployment');
    const list = await w.tx.select().from(customers).where(eq(customers.deploymentId, deployment.id));
    return subscribeCustomers(w, ctx, deployment, list);
  });
}
