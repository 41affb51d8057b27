import { builder } from './builder.js';
import { ComponentStatusEnum, ImpactEnum, IncidentStatusEnum } from './enums.js';
import { CreateIncidentInput, createIncidentArgs, IncidentStaffDetails } from './incident.js';
import { PageStatus } from './page.js';
import {
  incidentMetrics,
  summarizeIncidentMetrics,
  type IncidentMetrics as MetricsShape,
  type IncidentMetricsSummary as SummaryShape,
} from '../server/read/incident-metrics.js';
import { previewIncident, type AudiencePreview as PreviewShape, type PreviewIncident as PreviewIncidentShape } from '../server/services/incident-preview.js';

/** Staff tools around responding to incidents: response metrics and the declare preview. */

const IncidentMetrics = builder.objectRef<MetricsShape>('IncidentMetrics').implement({
  description: 'How an incident was communicated. Public updates only: an internal incident has none.',
  authScopes: { internal: true },
  fields: (t) => ({
    timeToFirstUpdateSeconds: t.float({
      nullable: true,
      description: 'From the start to the first public update.',
      resolve: (m) => m.timeToFirstUpdateSeconds,
    }),
    averageUpdateIntervalSeconds: t.float({
      nullable: true,
      description: 'Mean time between public updates; null with fewer than two.',
      resolve: (m) => m.averageUpdateIntervalSeconds,
    }),
    timeToResolveSeconds: t.float({ nullable: true, description: 'From the start to resolution.', resolve: (m) => m.timeToResolveSeconds }),
    publicUpdateCount: t.exposeInt('publicUpdateCount'),
  }),
});

builder.objectField(IncidentStaffDetails, 'metrics', (t) =>
  t.field({
    type: IncidentMetrics,
    resolve: async (incident, _, ctx) => incidentMetrics(incident, await ctx.loaders.updatesByIncident.load(incident.id)),
  }),
);

const IncidentMetricsSummary = builder.objectRef<SummaryShape>('IncidentMetricsSummary').implement({
  description: 'Response figures over the incidents that started in a window of days.',
  authScopes: { internal: true },
  fields: (t) => ({
    days: t.exposeInt('days'),
    incidentCount: t.exposeInt('incidentCount'),
    resolvedCount: t.exposeInt('resolvedCount'),
    medianTimeToFirstUpdateSeconds: t.float({ nullable: true, resolve: (s) => s.medianTimeToFirstUpdateSeconds }),
    averageUpdateIntervalSeconds: t.float({ nullable: true, resolve: (s) => s.averageUpdateIntervalSeconds }),
    medianTimeToResolveSeconds: t.float({ nullable: true, resolve: (s) => s.medianTimeToResolveSeconds }),
    p90TimeToResolveSeconds: t.float({ nullable: true, resolve: (s) => s.p90TimeToResolveSeconds }),
  }),
});

const PreviewComponent = builder.objectRef<{ name: string; status: PreviewIncidentShape['components'][number]['status'] }>('PreviewComponent').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    status: t.expose('status', { type: ComponentStatusEnum }),
  }),
});

const PreviewIncident = builder.objectRef<PreviewIncidentShape>('PreviewIncident').implement({
  description: 'The incident as one audience would see it.',
  fields: (t) => ({
    title: t.exposeString('title'),
    status: t.expose('status', { type: IncidentStatusEnum }),
    impact: t.expose('impact', { type: ImpactEnum }),
    message: t.exposeString('message'),
    internalNote: t.exposeString('internalNote', { nullable: true, description: 'Only in the staff preview.' }),
    nextUpdateDueAt: t.expose('nextUpdateDueAt', { type: 'DateTime', nullable: true }),
    components: t.field({ type: [PreviewComponent], description: 'The affected components this audience sees.', resolve: (i) => i.components }),
  }),
});

const AudiencePreview = builder.objectRef<PreviewShape>('AudiencePreview').implement({
  authScopes: { internal: true },
  fields: (t) => ({
    audience: t.exposeString('audience', { description: '`public`, `deployment:<slug>` or `internal`.' }),
    label: t.exposeString('label'),
    sees: t.exposeBoolean('sees', { description: 'False: this audience would not see the incident at all.' }),
    incident: t.field({ type: PreviewIncident, nullable: true, resolve: (p) => p.incident }),
    status: t.field({ type: PageStatus, description: 'The overall banner this audience would see afterwards.', resolve: (p) => p.status }),
  }),
});

builder.queryFields((t) => ({
  incidentMetrics: t.field({
    type: IncidentMetricsSummary,
    description: 'Staff: response figures over incidents that started in the last `days` days (1–365).',
    authScopes: { internal: true },
    args: { days: t.arg.int({ required: true, defaultValue: 30 }) },
    resolve: (_, { days }, ctx) => summarizeIncidentMetrics(ctx.db, ctx.viewer, days),
  }),
  previewIncident: t.field({
    type: [AudiencePreview],
    description:
      'What the public, each deployment owning an affected component, and staff would see if this incident were declared now. Nothing is saved or published.',
    // Both: the staff column carries internal notes, and only writers may declare.
    authScopes: { $all: { internal: true, permission: 'write:incidents' } },
    args: { input: t.arg({ type: CreateIncidentInput, required: true }) },
    resolve: (_, { input }, ctx) => previewIncident(ctx.service, createIncidentArgs(input)),
  }),
}));
