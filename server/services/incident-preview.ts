import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { componentGroups, components, deployments } from '../db/tables/index.js';
import { audienceKey, internalAudience, publicAudience, type Audience } from '../auth/audience.js';
import type { Viewer } from '../auth/viewer.js';
import type { ComponentStatus, Impact, IncidentStatus } from '../domain/vocabulary.js';
import { findIncident, listAffectedComponents, listUpdatesOfIncidents } from '../read/incidents.js';
import { readPageStatus, type PageStatus } from '../read/summary.js';
import { requirePermission, type ServiceContext } from './context.js';
import { createIncident, type CreateIncidentInput } from './incidents.js';

/** One audience's view of an incident that has not been declared yet. */
export interface AudiencePreview {
  audience: string;
  label: string;
  /** False: this audience would not see the incident at all. */
  sees: boolean;
  incident: PreviewIncident | null;
  /** The overall banner the audience would see afterwards. */
  status: PageStatus;
}

export interface PreviewIncident {
  title: string;
  status: IncidentStatus;
  impact: Impact;
  message: string;
  internalNote: string | null;
  nextUpdateDueAt: Date | null;
  components: { name: string; status: ComponentStatus }[];
}

class Rollback extends Error {
  constructor(readonly previews: AudiencePreview[]) {
    super('preview rolled back');
  }
}

/**
 * What the public, each deployment owning an affected component, and staff would see if this
 * incident were declared now. NOTE: exact by construction: the real `createIncident` runs inside a
 * transaction that is always rolled back, and each audience reads it back through the same
 * audience-filtered reads that serve queries. Nothing is saved or published: as a dry run it
 * records no events (no sequence number spent, the writers' event lock never taken), and
 * without `onCommit` the hub is never told.
 */
export async function previewIncident(ctx: ServiceContext, input: CreateIncidentInput): Promise<AudiencePreview[]> {
  requirePermission(ctx, 'write:incidents');
  try {
    await ctx.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      // The guard's findings are the console's to show (Query.checkPublication); a preview shows the text as it would read.
      const record = await createIncident({ db, viewer: ctx.viewer, dryRun: true }, input, { allowLeakOverride: true });
      const audiences = await audiencesAffected(db, record.components.map((c) => c.componentId));
      const previews: AudiencePreview[] = [];
      for (const { audience, label } of audiences) previews.push(await readAs(db, { ...ctx.viewer, audience }, label, record.id));
      throw new Rollback(previews);
    });
  } catch (error) {
    if (error instanceof Rollback) return error.previews;
    throw error;
  }
  throw new Error('unreachable: the preview transaction always rolls back');
}

/** Public first, then every deployment that owns an affected component, then staff. */
async function audiencesAffected(db: Db, componentIds: string[]): Promise<{ audience: Audience; label: string }[]> {
  const owners = componentIds.length
    ? await db
        .selectDistinct({ id: deployments.id, slug: deployments.slug, name: deployments.name, sortOrder: deployments.sortOrder })
        .from(components)
        .innerJoin(componentGroups, eq(componentGroups.id, components.groupId))
        .innerJoin(deployments, eq(deployments.id, componentGroups.deploymentId))
        .where(inArray(components.id, componentIds))
    : [];
  owners.sort((a, b) => a.sortOrder - b.sortOrder || a.slug.localeCompare(b.slug));
  return [
    { audience: publicAudience, label: 'Public page' },
    ...owners.map((d) => ({ audience: { kind: 'deployment', deploymentId: d.id, slug: d.slug } as Audience, label: `${d.name} customers` })),
    { audience: internalAudience, label: 'Staff' },
  ];
}

async function readAs(db: Db, viewer: Viewer, label: string, incidentId: string): Promise<AudiencePreview> {
  const status = await readPageStatus(db, viewer);
  const incident = await findIncident(db, viewer, incidentId);
  const base = { audience: audienceKey(viewer.audience), label, status };
  if (!incident) return { ...base, sees: false, incident: null };
  const [update] = await listUpdatesOfIncidents(db, viewer, [incidentId]);
  const affected = await listAffectedComponents(db, viewer, [incidentId]);
  return {
    ...base,
    sees: true,
    incident: {
      title: incident.title,
      status: incident.status,
      impact: incident.impact,
      message: update?.message ?? '',
      internalNote: update?.internalNote ?? null,
      nextUpdateDueAt: incident.nextUpdateDueAt,
      components: affected.map((a) => ({ name: a.component.name, status: a.status })),
    },
  };
}
