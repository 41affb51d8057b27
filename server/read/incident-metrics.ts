import type { Db } from '../db/client.js';
import type { IncidentRow, IncidentUpdateRow } from '../db/tables/index.js';
import { invalidInput } from '../domain/errors.js';
import type { Viewer } from '../auth/viewer.js';
import { listIncidentsStartedSince } from './incidents.js';
import { createLoaders } from './loaders.js';

/**
 * How an incident was communicated: how long until the first public word, how often the public
 * heard more, and how long until it was over. An internal incident has no public updates.
 */
export interface IncidentMetrics {
  timeToFirstUpdateSeconds: number | null;
  averageUpdateIntervalSeconds: number | null;
  timeToResolveSeconds: number | null;
  publicUpdateCount: number;
}

export interface IncidentMetricsSummary {
  days: number;
  incidentCount: number;
  resolvedCount: number;
  medianTimeToFirstUpdateSeconds: number | null;
  averageUpdateIntervalSeconds: number | null;
  medianTimeToResolveSeconds: number | null;
  p90TimeToResolveSeconds: number | null;
}

export const maxMetricsDays = 365;

const seconds = (from: Date, to: Date) => Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));

export function incidentMetrics(incident: IncidentRow, updates: readonly IncidentUpdateRow[]): IncidentMetrics {
  const published = incident.visibility === 'public' ? [...updates].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()) : [];
  const first = published[0];
  const last = published.at(-1);
  return {
    timeToFirstUpdateSeconds: first ? seconds(incident.startedAt, first.createdAt) : null,
    averageUpdateIntervalSeconds: first && last && published.length > 1 ? seconds(first.createdAt, last.createdAt) / (published.length - 1) : null,
    timeToResolveSeconds: incident.resolvedAt ? seconds(incident.startedAt, incident.resolvedAt) : null,
    publicUpdateCount: published.length,
  };
}

/** The value below which `share` of the sorted values lie (nearest rank). */
export function percentile(values: readonly number[], share: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))]!;
}

const mean = (values: readonly number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);
const present = (values: (number | null)[]) => values.filter((v): v is number => v !== null);

/** Response figures over the incidents the viewer can see that started in the last `days` days. */
export async function summarizeIncidentMetrics(db: Db, viewer: Viewer, days: number, now = new Date()): Promise<IncidentMetricsSummary> {
  if (!Number.isInteger(days) || days < 1 || days > maxMetricsDays) throw invalidInput('days', `must be between 1 and ${maxMetricsDays}`);
  const rows = await listIncidentsStartedSince(db, viewer, new Date(now.getTime() - days * 86_400_000));
  // The per-viewer loader: one audience-filtered query for every incident's updates.
  const updatesByIncident = createLoaders(db, viewer).updatesByIncident;
  const figures = await Promise.all(rows.map(async (row) => incidentMetrics(row, await updatesByIncident.load(row.id))));
  const resolveTimes = present(figures.map((f) => f.timeToResolveSeconds));
  const intervals = present(figures.map((f) => f.averageUpdateIntervalSeconds));
  return {
    days,
    incidentCount: rows.length,
    resolvedCount: resolveTimes.length,
    medianTimeToFirstUpdateSeconds: percentile(present(figures.map((f) => f.timeToFirstUpdateSeconds)), 0.5),
    averageUpdateIntervalSeconds: mean(intervals),
    medianTimeToResolveSeconds: percentile(resolveTimes, 0.5),
    p90TimeToResolveSeconds: percentile(resolveTimes, 0.9),
  };
}
