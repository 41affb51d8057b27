import type { Db } from './db/client.js';
import type { PageRow } from './db/tables/index.js';
import { systemViewer } from './auth/viewer.js';
import * as catalog from './services/catalog.js';
import * as customers from './services/customers.js';
import * as maintenance from './services/maintenance.js';
import type { ServiceContext } from './services/context.js';
import { seedUptimeHistory, uptimeHistoryStart } from './seed-uptime.js';
import { seedIncidentHistory, seedTemplates } from './seed-incidents.js';

/** A realistic demo page, written through the same services as everything else. */
export async function seedDemo(db: Db, page: PageRow): Promise<void> {
  const ctx: ServiceContext = { db, viewer: systemViewer(page, 'seed') };
  // The catalog is recorded as created 90 days ago, where its uptime history starts.
  const past: ServiceContext = { ...ctx, eventTime: uptimeHistoryStart() };

  const core = await catalog.createGroup(past, { name: 'Core platform', sortOrder: 1 });
  const api = await catalog.createComponent(past, { name: 'API', groupId: core.id, sortOrder: 1, description: 'REST and GraphQL APIs', sloTarget: 99.95 });
  await catalog.createComponent(past, { name: 'Dashboard', groupId: core.id, sortOrder: 2 });
  await catalog.createComponent(past, { name: 'Authentication', groupId: core.id, sortOrder: 3 });
  const delivery = await catalog.createGroup(past, { name: 'Delivery', sortOrder: 2 });
  await catalog.createComponent(past, { name: 'Push delivery', groupId: delivery.id, sortOrder: 1, sloTarget: 99.9 });
  await catalog.createComponent(past, { name: 'Email delivery', groupId: delivery.id, sortOrder: 2, sloTarget: 99.5 });
  await catalog.createComponent(past, { name: 'Webhooks', groupId: delivery.id, sortOrder: 3 });

  const infra = await catalog.createGroup(past, { name: 'Infrastructure (internal)', visibility: 'internal', sortOrder: 9 });
  await catalog.createComponent(past, { name: 'Primary database', groupId: infra.id, visibility: 'internal', sortOrder: 1 });
  await catalog.createComponent(past, { name: 'Job queue', groupId: infra.id, visibility: 'internal', sortOrder: 2 });

  // Like Duo's deployments, each subscribes its new customers to its own group (issue 11 §2).
  const regions = [
    { slug: 'us-1', name: 'US-1 (Virginia)', access: 'open' as const, customers: ['Initech', 'Globex'] },
    { slug: 'eu-1', name: 'EU-1 (Frankfurt)', access: 'open' as const, customers: ['Vandelay Industries', 'Stark GmbH'] },
    { slug: 'ap-1', name: 'AP-1 (Singapore)', access: 'protected' as const, customers: ['Tyrell Pacific', 'Wayne Asia'] },
  ];
  for (const [i, { customers: _, ...region }] of regions.entries()) {
    const deployment = await catalog.createDeployment(past, { ...region, sortOrder: i + 1, autoSubscribeCustomers: true });
    const group = await catalog.createGroup(past, { name: `${region.slug.toUpperCase()} services`, deploymentId: deployment.id, sortOrder: 10 + i });
    await catalog.createComponent(past, { name: `${region.slug.toUpperCase()} API`, groupId: group.id, sortOrder: 1 });
    await catalog.createComponent(past, { name: `${region.slug.toUpperCase()} Storage`, groupId: group.id, sortOrder: 2 });
  }
  await seedUptimeHistory(past);
  await seedTemplates(ctx);
  await seedIncidentHistory(ctx);
  void api;
  // Added after the history, through the service: each gets its email subscriber to its deployment.
  // NOTE: example.com addresses receive nothing (RFC 2606); with SMTP_URL set their deliveries fail.
  for (const region of regions) {
    for (const name of region.customers) {
      const address = `ops@${name.toLowerCase().replace(/[^a-z]+/g, '-')}.example.com`;
      await customers.createCustomer(ctx, { deployment: region.slug, name, email: address });
    }
  }

  // Next week, 02:00–04:00 UTC: the ticker moves it along on time.
  const start = new Date(Date.now() + 7 * 86_400_000);
  start.setUTCHours(2, 0, 0, 0);
  await maintenance.createMaintenance(ctx, {
    title: 'Database upgrade',
    body: 'We are upgrading our primary database. The API may respond slowly for a few minutes during the window.',
    scheduledStart: start,
    scheduledEnd: new Date(start.getTime() + 2 * 3_600_000),
    componentIds: [api.id],
  });
}
