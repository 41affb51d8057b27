/**
 * The status vocabulary, shared by the database, the GraphQL schema and the web app.
 * Names follow the Statuspage API so tools written for it read ours unchanged.
 */

export const componentStatuses = [
  'operational',
  'degraded_performance',
  'partial_outage',
  'major_outage',
  'under_maintenance',
] as const;
export type ComponentStatus = (typeof componentStatuses)[number];

export const incidentStatuses = ['investigating', 'identified', 'monitoring', 'resolved', 'postmortem'] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];

/** Statuses an update may carry; `postmortem` is only reached by publishing one. */
export const updateStatuses = ['investigating', 'identified', 'monitoring', 'resolved'] as const;

export const impacts = ['none', 'minor', 'major', 'critical'] as const;
export type Impact = (typeof impacts)[number];

export const severities = ['SEV1', 'SEV2', 'SEV3'] as const;
export type Severity = (typeof severities)[number];

export const visibilities = ['public', 'internal'] as const;
export type Visibility = (typeof visibilities)[number];

export const deploymentAccesses = ['open', 'protected'] as const;
export type DeploymentAccess = (typeof deploymentAccesses)[number];

export const maintenanceStatuses = ['scheduled', 'in_progress', 'completed', 'cancelled'] as const;
export type MaintenanceStatus = (typeof maintenanceStatuses)[number];

export const incidentRoles = ['incident_commander', 'communications_lead', 'tech_lead', 'scribe'] as const;
export type IncidentRole = (typeof incidentRoles)[number];

export const staffRoles = ['admin', 'editor', 'viewer'] as const;
export type StaffRole = (typeof staffRoles)[number];

export const templateKinds = ['incident', 'maintenance'] as const;
export type TemplateKind = (typeof templateKinds)[number];

/** How a subscriber is reached (issue 11). Only `webhook` has a channel so far (server/notify/channels/). */
export const channelKinds = ['email', 'webhook', 'slack', 'teams', 'sms'] as const;
export type ChannelKind = (typeof channelKinds)[number];

/** `pending`: waiting for a double opt-in (email); only `active` subscribers receive anything. */
export const subscriberStates = ['pending', 'active', 'disabled', 'unsubscribed'] as const;
export type SubscriberState = (typeof subscriberStates)[number];

/**
 * One notification to one subscriber: `pending` (due at `next_attempt_at`), `sending` (claimed by a
 * worker until its lease ends), `sent`, `failed` (will be retried), `dead` (given up),
 * `superseded` (a newer message about the same incident replaced it before it left: consolidation).
 */
export const deliveryStatuses = ['pending', 'sending', 'sent', 'failed', 'dead', 'superseded'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** Scopes an API token can hold. `admin` implies every other one. */
export const tokenScopes = [
  'read:internal',
  'write:incidents',
  'write:components',
  'write:maintenance',
  'write:templates',
  'admin',
] as const;
export type TokenScope = (typeof tokenScopes)[number];

/** Worst-first order used for rollups: a group shows the worst status of the children its viewer can see. */
const componentStatusRank: Record<ComponentStatus, number> = {
  operational: 0,
  under_maintenance: 1,
  degraded_performance: 2,
  partial_outage: 3,
  major_outage: 4,
};

export function worstComponentStatus(statuses: Iterable<ComponentStatus>): ComponentStatus {
  let worst: ComponentStatus = 'operational';
  for (const s of statuses) if (componentStatusRank[s] > componentStatusRank[worst]) worst = s;
  return worst;
}

const impactRank: Record<Impact, number> = { none: 0, minor: 1, major: 2, critical: 3 };

export function worstImpact(values: Iterable<Impact>): Impact {
  let worst: Impact = 'none';
  for (const v of values) if (impactRank[v] > impactRank[worst]) worst = v;
  return worst;
}

/** How a component status weighs on the page indicator (Statuspage's mapping). */
export const impactOfComponentStatus: Record<ComponentStatus, Impact> = {
  operational: 'none',
  under_maintenance: 'none',
  degraded_performance: 'minor',
  partial_outage: 'major',
  major_outage: 'critical',
};

export const indicatorDescriptions: Record<Impact, string> = {
  none: 'All Systems Operational',
  minor: 'Minor Service Outage',
  major: 'Partial System Outage',
  critical: 'Major Service Outage',
};
export const maintenanceDescription = 'Service Under Maintenance';
