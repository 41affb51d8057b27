import { credentialsFrom, resolveViewer, type Credentials } from '../auth/resolve-viewer.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import type { ComponentRow, IncidentRow, MaintenanceRow } from '../db/tables/index.js';
import { DomainError } from '../domain/errors.js';
import { listComponents, listGroups } from '../read/catalog.js';
import { listActiveIncidents, listIncidents } from '../read/incidents.js';
import { createLoaders } from '../read/loaders.js';
import { listMaintenances } from '../read/maintenance.js';
import { readPageStatus } from '../read/summary.js';
import { spComponents, spIncident, spMaintenance, spPage, type SpComponent, type SpContext } from '../read/statuspage.js';
import { routeHandler } from './request.js';

/**
 * The Statuspage-compatible read API: `/api/v2/<endpoint>.json` (the public page by default) and
 * `/d/<slug>/api/v2/<endpoint>.json` (a deployment's view). The viewer is resolved exactly as for
 * /badge.svg and /history.atom (`?page=`, `?audience=`, `?access_token=` or `Authorization: Bearer`
 * with an audience token), every row comes from the audience-filtered reads in server/read/, and
 * server/read/statuspage.ts maps them. A refused audience answers like a missing page: 404.
 */

export const API_PREFIX = '/api/';
export const INCIDENTS_SIZE = 50;

export const statuspageEndpoints = [
  'summary.json',
  'status.json',
  'components.json',
  'incidents.json',
  'incidents/unresolved.json',
  'scheduled-maintenances.json',
  'scheduled-maintenances/upcoming.json',
  'scheduled-maintenances/active.json',
] as const;
export type StatuspageEndpoint = (typeof statuspageEndpoints)[number];

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** `/api/v2/x.json` or `/d/<slug>/api/v2/x.json`; anything else under an `/api/` prefix is a 404. */
export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith(API_PREFIX) || /^\/d\/[^/]+\/api(\/|$)/.test(path);
}

function parsePath(path: string): { endpoint: StatuspageEndpoint | null; deployment: string | null } {
  const match = /^(?:\/d\/([^/]+))?\/api\/v2\/(.+)$/.exec(path);
  const endpoint = match && (statuspageEndpoints as readonly string[]).includes(match[2]!) ? (match[2] as StatuspageEndpoint) : null;
  let deployment: string | null = null;
  if (match?.[1]) {
    try {
      deployment = decodeURIComponent(match[1]);
    } catch {
      return { endpoint: null, deployment: null };
    }
  }
  return { endpoint, deployment };
}

// Reads are open to any origin, never with credentials: a browser sends no cookie cross-origin to
// `*`, and a token travels only as a header or parameter the caller chose to send.
const corsHeaders = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'Authorization, X-Statushub-Page',
  'access-control-max-age': '86400',
};
const jsonHeaders = { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff', vary: 'Cookie, Authorization', ...corsHeaders };

const notFound = (): ApiResponse => ({
  status: 404,
  headers: { ...jsonHeaders, 'cache-control': 'no-store' },
  body: JSON.stringify({ error: 'not_found', message: 'Not found' }),
});

/** One endpoint's document for a viewer already resolved (the route below; the static snapshot, server/snapshot/). */
export async function statuspageAnswer(db: Db, viewer: Viewer, origin: string, endpoint: StatuspageEndpoint): Promise<unknown> {
  const ctx: SpContext = { page: viewer.page, origin, deploymentSlug: viewer.audience.kind === 'deployment' ? viewer.audience.slug : null };
  const loaders = createLoaders(db, viewer);
  const wantsIncidents = endpoint === 'summary.json' || endpoint.startsWith('incidents');
  const wantsMaintenance = endpoint === 'summary.json' || endpoint.startsWith('scheduled-maintenances');

  const [groups, components, status] = await Promise.all([listGroups(db, viewer), listComponents(db, viewer), readPageStatus(db, viewer)]);
  const allComponents = spComponents(ctx, groups, components);

  let incidents: IncidentRow[] = [];
  if (wantsIncidents) {
    incidents =
      endpoint === 'incidents.json' ? (await listIncidents(db, viewer, { state: 'all', first: INCIDENTS_SIZE })).edges.map((e) => e.node) : await listActiveIncidents(db, viewer);
  }
  let maintenances: MaintenanceRow[] = [];
  if (wantsMaintenance) {
    const current = await listMaintenances(db, viewer, { window: 'upcoming_or_active' });
    if (endpoint === 'scheduled-maintenances.json') {
      const past = await listMaintenances(db, viewer, { window: 'past', limit: INCIDENTS_SIZE });
      maintenances = [...current, ...past].sort((a, b) => b.scheduledStart.getTime() - a.scheduledStart.getTime()).slice(0, INCIDENTS_SIZE);
    } else if (endpoint === 'scheduled-maintenances/upcoming.json') maintenances = current.filter((m) => m.status === 'scheduled');
    else if (endpoint === 'scheduled-maintenances/active.json') maintenances = current.filter((m) => m.status === 'in_progress');
    else maintenances = current;
    // Statuspage has no cancelled state: a cancelled window is not listed.
    maintenances = maintenances.filter((m) => m.status !== 'cancelled');
  }

  const [updates, affected, maintenanceComponents] = await Promise.all([
    Promise.all(incidents.map((i) => loaders.updatesByIncident.load(i.id))),
    Promise.all(incidents.map((i) => loaders.affectedComponentsByIncident.load(i.id))),
    Promise.all(maintenances.map((m) => loaders.componentsByMaintenance.load(m.id))),
  ]);
  const spIncidents = incidents.map((incident, i) =>
    spIncident(ctx, incident, updates[i]!, affected[i]!.map((a) => a.component), allComponents),
  );
  const spMaintenances = maintenances.map((m, i) => spMaintenance(ctx, m, maintenanceComponents[i]! as ComponentRow[], allComponents));

  const updatedAt = [
    ...components.map((c) => c.updatedAt),
    ...incidents.map((i) => i.updatedAt),
    ...maintenances.map((m) => m.updatedAt),
  ].reduce((max, d) => (d > max ? d : max), viewer.page.createdAt);
  const page = spPage(ctx, updatedAt);

  switch (endpoint) {
    case 'status.json':
      return { page, status };
    case 'components.json':
      return { page, components: allComponents };
    case 'incidents.json':
    case 'incidents/unresolved.json':
      return { page, incidents: spIncidents };
    case 'scheduled-maintenances.json':
    case 'scheduled-maintenances/upcoming.json':
    case 'scheduled-maintenances/active.json':
      return { page, scheduled_maintenances: spMaintenances };
    case 'summary.json':
      return { page, components: allComponents satisfies SpComponent[], incidents: spIncidents, scheduled_maintenances: spMaintenances, status };
  }
}

/**
 * How the API reads its caller: the badge's and the feed's rules, with the deployment of a
 * `/d/<slug>/api/v2/...` path as the audience, and the public slice when nothing says otherwise.
 */
export function apiCredentials(url: URL, header: (name: string) => string | null | undefined): Credentials {
  const credentials = credentialsFrom(url, header);
  const { deployment } = parsePath(url.pathname);
  if (deployment !== null) credentials.audience = `deployment:${deployment}`;
  if (!credentials.audience && !credentials.bearer) credentials.audience = 'public';
  return credentials;
}

/** A GET of the API: a mostly pure function of (db, url, headers). */
export async function statuspageApi(db: Db, url: URL, header: (name: string) => string | null | undefined): Promise<ApiResponse> {
  const { endpoint } = parsePath(url.pathname);
  if (!endpoint) return notFound();
  try {
    const viewer = await resolveViewer(db, apiCredentials(url, header));
    const body = await statuspageAnswer(db, viewer, url.origin, endpoint);
    return {
      status: 200,
      // Anything but the public slice stays out of shared caches.
      headers: { ...jsonHeaders, 'cache-control': viewer.audience.kind === 'public' ? 'public, max-age=30' : 'private, max-age=30' },
      body: JSON.stringify(body),
    };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    // NOTE: every refusal (no such page or deployment, protected, bad or revoked token, a malformed
    // audience) is the same 404: which deployments exist is not public.
    return notFound();
  }
}

/** CORS preflight and methods other than GET/HEAD; null for a GET or HEAD, which `statuspageApi` answers. */
export function statuspageApiMethod(method: string | undefined): ApiResponse | null {
  if (method === 'OPTIONS') return { status: 204, headers: { ...corsHeaders, 'cache-control': 'public, max-age=86400' }, body: '' };
  if (method === 'GET' || method === 'HEAD' || method === undefined) return null;
  return { status: 405, headers: { ...jsonHeaders, allow: 'GET, HEAD, OPTIONS', 'cache-control': 'no-store' }, body: JSON.stringify({ error: 'method_not_allowed', message: 'Method not allowed' }) };
}

/** The Node handler for `/api/...` and `/d/<slug>/api/...`. */
export function statuspageApiHandler(db: Db) {
  return routeHandler(async (url, header, req) => statuspageApiMethod(req.method) ?? (await statuspageApi(db, url, header)));
}
