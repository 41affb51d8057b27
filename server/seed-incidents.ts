import { and, eq, inArray } from 'drizzle-orm';
import { components } from './db/tables/index.js';
import * as incidents from './services/incidents.js';
import * as templates from './services/templates.js';
import type { ServiceContext } from './services/context.js';

/** Demo templates and incident history, written through the services like everything else. */

/** The seven standard templates, in the wording of common incident-communication practice. */
export async function seedTemplates(ctx: ServiceContext): Promise<void> {
  const standard: templates.CreateTemplateInput[] = [
    {
      name: 'Investigating',
      title: 'Investigating issues with {service}',
      body: 'We are currently investigating an issue affecting {service}. Customers may experience {impact}. We will provide an update by {next_update}.',
      status: 'investigating',
      impact: 'minor',
    },
    {
      name: 'Identified',
      title: 'Issue identified with {service}',
      body: 'We have identified the cause of the issue affecting {service} and are working on a fix. Customers may continue to experience {impact} until it is in place. Next update by {next_update}.',
      status: 'identified',
    },
    {
      name: 'Monitoring',
      title: 'Monitoring a fix for {service}',
      body: 'A fix has been implemented and we are monitoring the results. {service} should be recovering; we will post another update by {next_update}.',
      status: 'monitoring',
    },
    {
      name: 'Resolved',
      title: '{service} issue resolved',
      body: 'This incident has been resolved and {service} is operating normally. We apologise for the disruption and will share a summary of what happened.',
      status: 'resolved',
    },
    {
      name: 'Full outage',
      title: '{service} is unavailable',
      body: '{service} is currently unavailable. Our engineers are working to restore service as quickly as possible; until then customers will experience {impact}. Next update by {next_update}.',
      status: 'investigating',
      impact: 'critical',
    },
    {
      name: 'Partial outage',
      title: 'Partial outage of {service}',
      body: 'Some requests to {service} are failing and customers may experience {impact}. We are investigating and will provide an update by {next_update}.',
      status: 'investigating',
      impact: 'major',
    },
    {
      kind: 'maintenance',
      name: 'Scheduled maintenance',
      title: 'Scheduled maintenance of {service}',
      body: 'We will be performing scheduled maintenance on {service}. During the window customers may experience {impact}. We will post an update when the work is complete.',
      impact: 'none',
    },
  ];
  for (const template of standard) await templates.createTemplate(ctx, template);
}

const hoursAgo = (days: number, hour: number, minute = 0) => {
  const at = new Date(Date.now() - days * 86_400_000);
  at.setUTCHours(hour, minute, 0, 0);
  return at;
};

/** Two resolved incidents with realistic timelines, affecting the seeded components. */
export async function seedIncidentHistory(ctx: ServiceContext): Promise<void> {
  const rows = await ctx.db
    .select({ id: components.id, name: components.name })
    .from(components)
    .where(and(eq(components.pageId, ctx.viewer.page.id), inArray(components.name, ['Push delivery', 'Job queue', 'EU-1 API'])));
  const byName = new Map(rows.map((r) => [r.name, r.id]));
  const component = (name: string) => {
    const id = byName.get(name);
    if (!id) throw new Error(`seed: component ${name} is missing`);
    return id;
  };

  await incidents.backfillIncident(ctx, {
    title: 'Delayed push notifications',
    impact: 'major',
    severity: 'SEV2',
    warRoomUrl: 'https://meet.example.com/inc-2291-push-delay',
    roles: [
      { role: 'incident_commander', assignee: 'Priya Raman' },
      { role: 'communications_lead', assignee: 'Sam Okafor' },
      { role: 'tech_lead', assignee: 'Jonas Weber' },
    ],
    components: [
      { componentId: component('Push delivery'), status: 'partial_outage' },
      { componentId: component('Job queue'), status: 'degraded_performance' },
    ],
    startedAt: hoursAgo(9, 13, 52),
    resolvedAt: hoursAgo(9, 16, 10),
    updates: [
      {
        status: 'investigating',
        at: hoursAgo(9, 14, 5),
        message: 'We are investigating reports of push notifications arriving late. Some notifications are delayed by up to 30 minutes. We will provide an update by 14:45 UTC.',
        internalNote: 'push-workers consumer lag alarm since 13:52; queue depth 1.2M and climbing. Paged infra on-call.',
      },
      {
        status: 'identified',
        at: hoursAgo(9, 14, 40),
        message: 'We have identified the cause: a backlog in our delivery queue after a worker deployment. We are scaling out the delivery workers. Next update by 15:30 UTC.',
        internalNote: 'Deploy 2024.18.3 halved the worker concurrency (config typo). Rolled back; adding 12 extra workers to drain the backlog.',
      },
      {
        status: 'monitoring',
        at: hoursAgo(9, 15, 25),
        message: 'The backlog is draining and new notifications are delivered on time. We are monitoring until the queue is back to normal.',
      },
      {
        status: 'resolved',
        at: hoursAgo(9, 16, 10),
        message: 'All delayed notifications have been delivered and push delivery is operating normally. We are sorry for the disruption.',
      },
    ],
    postmortem:
      'Summary: between 13:52 and 16:10 UTC push notifications were delayed by up to 35 minutes.\n\n' +
      'Cause: a configuration change shipped with a worker deployment reduced delivery concurrency by half, so the queue grew faster than it drained.\n\n' +
      'Fix: the change was rolled back and extra workers drained the backlog.\n\n' +
      'Follow-up: configuration changes to delivery workers now go through a canary with queue-lag alerts.',
  });

  await incidents.backfillIncident(ctx, {
    title: 'Elevated API error rates in EU-1',
    impact: 'minor',
    severity: 'SEV3',
    warRoomUrl: 'https://acme.slack.com/archives/C04INC2307',
    roles: [
      { role: 'incident_commander', assignee: 'Lena Fischer' },
      { role: 'scribe', assignee: 'Tom Becker' },
    ],
    components: [{ componentId: component('EU-1 API'), status: 'degraded_performance' }],
    startedAt: hoursAgo(23, 8, 17),
    resolvedAt: hoursAgo(23, 9, 2),
    updates: [
      {
        status: 'investigating',
        at: hoursAgo(23, 8, 24),
        message: 'We are seeing elevated error rates for API requests in EU-1. Around 3% of requests fail with a 502 error. Retrying the request usually succeeds.',
      },
      {
        status: 'identified',
        at: hoursAgo(23, 8, 41),
        message: 'The errors are caused by a faulty load balancer configuration. We are rolling the change back.',
        internalNote: 'Change #4821 (edge LB pool weights) pushed to eu-1 at 08:12. Rollback in progress.',
      },
      {
        status: 'resolved',
        at: hoursAgo(23, 9, 2),
        message: 'The configuration has been rolled back and error rates in EU-1 are back to normal.',
      },
    ],
  });
}
