import { and, asc, eq, getTableColumns, type SQL } from 'drizzle-orm';
import { isInternal, type Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { customers, deployments, type CustomerRow } from '../db/tables/index.js';
import { text } from '../domain/validate.js';

/** Customers of the page's deployments: staff tooling, read only as the internal audience (any other gets nothing, without a query). */

export type CustomerInfo = CustomerRow & { deploymentSlug: string };

export async function listCustomers(db: Db, viewer: Viewer, filter: { deploymentSlug?: string; id?: string } = {}): Promise<CustomerInfo[]> {
  if (!isInternal(viewer)) return [];
  // A slug that cannot exist (a NUL would even make PostgreSQL refuse the query) names no customers.
  if (filter.deploymentSlug !== undefined && !text.slug.safeParse(filter.deploymentSlug).success) return [];
  const conditions: (SQL | undefined)[] = [eq(customers.pageId, viewer.page.id)];
  if (filter.deploymentSlug !== undefined) conditions.push(eq(deployments.slug, filter.deploymentSlug));
  if (filter.id !== undefined) conditions.push(eq(customers.id, filter.id));
  return db
    .select({ ...getTableColumns(customers), deploymentSlug: deployments.slug })
    .from(customers)
    .innerJoin(deployments, eq(deployments.id, customers.deploymentId))
    .where(and(...conditions))
    .orderBy(asc(deployments.slug), asc(customers.email));
}
