import { gql, type TypedDocumentNode } from '@urql/core';
import type { ComponentStatus, Impact } from '../status';
import type { UptimeCompact } from '../../../server/domain/uptime-compact';

export type { UptimeCompact };

// NOTE: result types are written by hand for now; tests/web/documents.test.ts validates every
// document here against the printed schema so the two cannot drift apart silently.

export interface ComponentItem {
  id: string;
  name: string;
  status: ComponentStatus;
}

export interface GroupItem extends ComponentItem {
  components: ComponentItem[];
}

export interface SummaryFields {
  audience: string;
  page: { name: string };
  status: { indicator: Impact; description: string };
  groups: GroupItem[];
  ungroupedComponents: ComponentItem[];
}

const summaryFields = gql`
  fragment SummaryFields on Summary {
    audience
    page {
      name
    }
    status {
      indicator
      description
    }
    groups {
      id
      name
      status
      components {
        id
        name
        status
      }
    }
    ungroupedComponents {
      id
      name
      status
    }
  }
`;

export interface UptimeDay {
  /** UTC day, YYYY-MM-DD. */
  date: string;
  uptimePercent: number | null;
  worstStatus: ComponentStatus | null;
}

export interface UptimeComponentItem extends ComponentItem {
  uptimePercent: number | null;
  /** 90 days, oldest first, today last (decode with `decodeUptime`). */
  uptimeCompact: UptimeCompact;
}

export interface UptimeGroupItem extends GroupItem {
  components: UptimeComponentItem[];
}

export interface ComponentChangeItem {
  componentId: string;
  name: string;
  from: ComponentStatus;
  to: ComponentStatus;
}

export interface IncidentUpdateItem {
  id: string;
  status: string;
  message: string;
  createdAt: string;
  /** Old → new, only components this audience can see (absent in live-patched rows until refetched). */
  componentChanges?: ComponentChangeItem[];
}

export interface IncidentItem {
  id: string;
  title: string;
  status: string;
  impact: Impact;
  startedAt: string;
  nextUpdateDueAt: string | null;
  /** Newest first. */
  updates: IncidentUpdateItem[];
  affectedComponents: { status: ComponentStatus; component: { name: string } }[];
}

export interface MaintenanceItem {
  id: string;
  title: string;
  body: string;
  status: string;
  scheduledStart: string;
  scheduledEnd: string;
  components: { name: string }[];
}

/** What the public and deployment pages show besides the components. */
export interface StatusPageSummary extends SummaryFields {
  groups: UptimeGroupItem[];
  ungroupedComponents: UptimeComponentItem[];
  activeIncidents: IncidentItem[];
  maintenances: MaintenanceItem[];
}

/** What the status pages show of an incident; live events carry the same selection. */
export const incidentFields = gql`
  fragment IncidentFields on Incident {
    id
    title
    status
    impact
    startedAt
    nextUpdateDueAt
    updates {
      id
      status
      message
      createdAt
      componentChanges {
        componentId
        name
        from
        to
      }
    }
    affectedComponents {
      status
      component {
        name
      }
    }
  }
`;

/** What the status pages show of a maintenance window; live events carry the same selection. */
export const maintenanceFields = gql`
  fragment MaintenanceFields on Maintenance {
    id
    title
    body
    status
    scheduledStart
    scheduledEnd
    components {
      name
    }
  }
`;

// Merged with SummaryFields by the server (same fields, same arguments), so one request answers both.
const statusPageFields = gql`
  fragment StatusPageFields on Summary {
    activeIncidents {
      ...IncidentFields
    }
    maintenances {
      ...MaintenanceFields
    }
    groups {
      id
      components {
        id
        ...ComponentUptime
      }
    }
    ungroupedComponents {
      id
      ...ComponentUptime
    }
  }

  ${incidentFields}
  ${maintenanceFields}

  fragment ComponentUptime on Component {
    uptimePercent(days: 90)
    uptimeCompact(days: 90) {
      from
      basisPoints
      worst
    }
  }
`;

/** Every component of the summary, ungrouped first, then group by group. */
export function componentsOf(summary: StatusPageSummary): UptimeComponentItem[] {
  return [...summary.ungroupedComponents, ...summary.groups.flatMap((g) => g.components)];
}

export const PublicSummaryQuery: TypedDocumentNode<{ summary: StatusPageSummary; liveCursor: number }> = gql`
  query PublicSummary {
    summary {
      ...SummaryFields
      ...StatusPageFields
    }
    liveCursor
  }
  ${summaryFields}
  ${statusPageFields}
`;

export interface DeploymentSummaryResult {
  summary: StatusPageSummary;
  deployments: { id: string; slug: string; name: string }[];
  liveCursor: number;
}

export const DeploymentSummaryQuery: TypedDocumentNode<DeploymentSummaryResult> = gql`
  query DeploymentSummary {
    summary {
      ...SummaryFields
      ...StatusPageFields
    }
    deployments {
      id
      slug
      name
    }
    liveCursor
  }
  ${summaryFields}
  ${statusPageFields}
`;

export interface InternalSummaryResult {
  summary: SummaryFields;
  viewer: { email: string | null; name: string | null; role: string | null };
}

export const InternalSummaryQuery: TypedDocumentNode<InternalSummaryResult> = gql`
  query InternalSummary {
    summary {
      ...SummaryFields
    }
    viewer {
      email
      name
      role
    }
  }
  ${summaryFields}
`;
