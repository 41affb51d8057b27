import { gql, type TypedDocumentNode } from '@urql/core';
import type { ComponentStatus, Impact, IncidentRole, Severity, Visibility } from '../../../server/domain/vocabulary';
import type { CreateIncidentInput, IncidentUpdateInput, UpdateStatus } from '../incident-console';
import type { ComponentChangeItem } from './summary';

// NOTE: result types are written by hand; tests/web/console-incidents.test.ts validates every
// document here against the printed schema.

export interface ConsoleIncidentListItem {
  id: string;
  title: string;
  status: string;
  impact: Impact;
  startedAt: string;
  resolvedAt: string | null;
  nextUpdateDueAt: string | null;
  staff: { severity: Severity | null; visibility: Visibility } | null;
  affectedComponents: { status: ComponentStatus; component: { id: string; name: string } }[];
}

const incidentListFields = gql`
  fragment ConsoleIncidentListFields on Incident {
    id
    title
    status
    impact
    startedAt
    resolvedAt
    nextUpdateDueAt
    staff {
      severity
      visibility
    }
    affectedComponents {
      status
      component {
        id
        name
      }
    }
  }
`;

export interface ConsoleComponentItem {
  id: string;
  name: string;
  status: ComponentStatus;
  group: { id: string; name: string } | null;
}

const componentFields = gql`
  fragment ConsoleComponentFields on Component {
    id
    name
    status
    group {
      id
      name
    }
  }
`;

// ── overview and list ──────────────────────────────────────────────────────────

export interface ConsoleOverviewResult {
  status: { indicator: Impact; description: string };
  activeIncidents: ConsoleIncidentListItem[];
  components: ConsoleComponentItem[];
}

export const ConsoleOverviewQuery: TypedDocumentNode<ConsoleOverviewResult, Record<string, never>> = gql`
  query ConsoleOverview {
    status {
      indicator
      description
    }
    activeIncidents {
      ...ConsoleIncidentListFields
    }
    components {
      ...ConsoleComponentFields
    }
  }
  ${incidentListFields}
  ${componentFields}
`;

export interface ComponentSloItem {
  id: string;
  staff: { sloTarget: number | null; errorBudgetRemaining: number | null } | null;
}

/** SLO figures, asked separately so the overview works on a server without them. */
export const ComponentSloQuery: TypedDocumentNode<{ components: ComponentSloItem[] }, Record<string, never>> = gql`
  query ComponentSlo {
    components {
      id
      staff {
        sloTarget
        errorBudgetRemaining(days: 30)
      }
    }
  }
`;

export const SetComponentStatusMutation: TypedDocumentNode<
  { setComponentStatus: { id: string; status: ComponentStatus } },
  { id: string; status: ComponentStatus }
> = gql`
  mutation SetComponentStatus($id: ID!, $status: ComponentStatus!) {
    setComponentStatus(id: $id, status: $status) {
      id
      status
    }
  }
`;

export type IncidentStateFilter = 'active' | 'resolved' | 'all';

export interface ConsoleIncidentsResult {
  incidents: { edges: { node: ConsoleIncidentListItem }[]; pageInfo: { hasNextPage: boolean } };
}

export const ConsoleIncidentsQuery: TypedDocumentNode<ConsoleIncidentsResult, { state: IncidentStateFilter }> = gql`
  query ConsoleIncidents($state: IncidentState!) {
    incidents(state: $state, first: 50) {
      edges {
        node {
          ...ConsoleIncidentListFields
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
  ${incidentListFields}
`;

// ── declare ────────────────────────────────────────────────────────────────────

export interface DeclareFormResult {
  components: ConsoleComponentItem[];
  page: { timeZone: string };
}

export const DeclareFormQuery: TypedDocumentNode<DeclareFormResult, Record<string, never>> = gql`
  query DeclareForm {
    components {
      ...ConsoleComponentFields
    }
    page {
      timeZone
    }
  }
  ${componentFields}
`;

export interface TemplateVars {
  service?: string;
  impact?: string;
  nextUpdate?: string;
}

export interface IncidentTemplateItem {
  id: string;
  name: string;
  status: string | null;
  impact: Impact | null;
  rendered: { title: string; body: string };
}

export const IncidentTemplatesQuery: TypedDocumentNode<{ templates: IncidentTemplateItem[] }, { vars: TemplateVars }> = gql`
  query IncidentTemplates($vars: TemplateVarsInput!) {
    templates(kind: incident) {
      id
      name
      status
      impact
      rendered(vars: $vars) {
        title
        body
      }
    }
  }
`;

/** `allowLeakOverride` on the mutations that publish text: "Publish anyway" after `publication/leak_suspected`. */
type Override = { allowLeakOverride?: boolean };

export const CreateIncidentMutation: TypedDocumentNode<{ createIncident: { id: string } }, { input: CreateIncidentInput } & Override> = gql`
  mutation CreateIncident($input: CreateIncidentInput!, $allowLeakOverride: Boolean) {
    createIncident(input: $input, allowLeakOverride: $allowLeakOverride) {
      id
    }
  }
`;

export interface PreviewIncident {
  title: string;
  status: string;
  impact: Impact;
  message: string;
  internalNote: string | null;
  nextUpdateDueAt: string | null;
  components: { name: string; status: ComponentStatus }[];
}

export interface AudiencePreview {
  audience: string;
  label: string;
  sees: boolean;
  incident: PreviewIncident | null;
  status: { indicator: Impact; description: string };
}

export const PreviewIncidentQuery: TypedDocumentNode<{ previewIncident: AudiencePreview[] }, { input: CreateIncidentInput }> = gql`
  query PreviewIncident($input: CreateIncidentInput!) {
    previewIncident(input: $input) {
      audience
      label
      sees
      incident {
        title
        status
        impact
        message
        internalNote
        nextUpdateDueAt
        components {
          name
          status
        }
      }
      status {
        indicator
        description
      }
    }
  }
`;

// ── one incident ───────────────────────────────────────────────────────────────

export interface ConsoleIncidentUpdate {
  id: string;
  status: string;
  message: string;
  createdAt: string;
  componentChanges: ComponentChangeItem[];
  staff: { author: string | null; internalNote: string | null } | null;
}

export interface ConsoleIncidentDetail {
  id: string;
  title: string;
  status: string;
  impact: Impact;
  startedAt: string;
  resolvedAt: string | null;
  nextUpdateDueAt: string | null;
  postmortem: { body: string; publishedAt: string } | null;
  staff: {
    severity: Severity | null;
    visibility: Visibility;
    pageWide: boolean;
    warRoomUrl: string | null;
    roles: { role: IncidentRole; assignee: string }[];
  } | null;
  affectedComponents: { status: ComponentStatus; component: { id: string; name: string } }[];
  /** Newest first. */
  updates: ConsoleIncidentUpdate[];
}

export interface ConsoleIncidentResult {
  incident: ConsoleIncidentDetail;
  components: ConsoleComponentItem[];
  page: { timeZone: string };
}

const incidentDetailFields = gql`
  fragment ConsoleIncidentDetailFields on Incident {
    id
    title
    status
    impact
    startedAt
    resolvedAt
    nextUpdateDueAt
    postmortem {
      body
      publishedAt
    }
    staff {
      severity
      visibility
      pageWide
      warRoomUrl
      roles {
        role
        assignee
      }
    }
    affectedComponents {
      status
      component {
        id
        name
      }
    }
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
      staff {
        author
        internalNote
      }
    }
  }
`;

export const ConsoleIncidentQuery: TypedDocumentNode<ConsoleIncidentResult, { id: string }> = gql`
  query ConsoleIncident($id: ID!) {
    incident(id: $id) {
      ...ConsoleIncidentDetailFields
    }
    components {
      ...ConsoleComponentFields
    }
    page {
      timeZone
    }
  }
  ${incidentDetailFields}
  ${componentFields}
`;

export interface IncidentMetrics {
  timeToFirstUpdateSeconds: number | null;
  averageUpdateIntervalSeconds: number | null;
  timeToResolveSeconds: number | null;
  publicUpdateCount: number;
}

const incidentMetricsFields = gql`
  fragment ConsoleIncidentMetricsFields on IncidentMetrics {
    timeToFirstUpdateSeconds
    averageUpdateIntervalSeconds
    timeToResolveSeconds
    publicUpdateCount
  }
`;

/** One incident's response figures, asked separately so the page works on a server without them. */
export const IncidentMetricsQuery: TypedDocumentNode<{ incident: { id: string; staff: { metrics: IncidentMetrics } | null } }, { id: string }> = gql`
  query ConsoleIncidentMetrics($id: ID!) {
    incident(id: $id) {
      id
      staff {
        metrics {
          ...ConsoleIncidentMetricsFields
        }
      }
    }
  }
  ${incidentMetricsFields}
`;

export const PostIncidentUpdateMutation: TypedDocumentNode<{ postIncidentUpdate: { id: string } }, { id: string; input: IncidentUpdateInput } & Override> = gql`
  mutation PostIncidentUpdate($id: ID!, $input: IncidentUpdateInput!, $allowLeakOverride: Boolean) {
    postIncidentUpdate(id: $id, input: $input, allowLeakOverride: $allowLeakOverride) {
      ...ConsoleIncidentDetailFields
    }
  }
  ${incidentDetailFields}
`;

export const ResolveIncidentMutation: TypedDocumentNode<
  { resolveIncident: { id: string } },
  { id: string; input: { message?: string; internalNote?: string } } & Override
> = gql`
  mutation ResolveIncident($id: ID!, $input: ResolveIncidentInput, $allowLeakOverride: Boolean) {
    resolveIncident(id: $id, input: $input, allowLeakOverride: $allowLeakOverride) {
      ...ConsoleIncidentDetailFields
    }
  }
  ${incidentDetailFields}
`;

export const PublishPostmortemMutation: TypedDocumentNode<{ publishPostmortem: { id: string } }, { id: string; body: string } & Override> = gql`
  mutation PublishPostmortem($id: ID!, $body: String!, $allowLeakOverride: Boolean) {
    publishPostmortem(id: $id, input: { body: $body }, allowLeakOverride: $allowLeakOverride) {
      ...ConsoleIncidentDetailFields
    }
  }
  ${incidentDetailFields}
`;

export interface IncidentPatch {
  title?: string;
  impact?: Impact;
  severity?: Severity | null;
  visibility?: Visibility;
  pageWide?: boolean;
  warRoomUrl?: string | null;
  roles?: { role: IncidentRole; assignee: string }[];
}

export const UpdateIncidentMutation: TypedDocumentNode<{ updateIncident: { id: string } }, { id: string; patch: IncidentPatch } & Override> = gql`
  mutation UpdateIncident($id: ID!, $patch: IncidentPatch!, $allowLeakOverride: Boolean) {
    updateIncident(id: $id, patch: $patch, allowLeakOverride: $allowLeakOverride) {
      ...ConsoleIncidentDetailFields
    }
  }
  ${incidentDetailFields}
`;

// ── response metrics ───────────────────────────────────────────────────────────

export interface IncidentMetricsSummary {
  days: number;
  incidentCount: number;
  resolvedCount: number;
  medianTimeToFirstUpdateSeconds: number | null;
  averageUpdateIntervalSeconds: number | null;
  medianTimeToResolveSeconds: number | null;
  p90TimeToResolveSeconds: number | null;
}

export interface ResponseMetricsResult {
  last30: IncidentMetricsSummary;
  last90: IncidentMetricsSummary;
  incidents: {
    edges: {
      node: {
        id: string;
        title: string;
        status: string;
        startedAt: string;
        staff: { severity: Severity | null; metrics: IncidentMetrics } | null;
      };
    }[];
  };
}

const metricsSummaryFields = gql`
  fragment ConsoleMetricsSummaryFields on IncidentMetricsSummary {
    days
    incidentCount
    resolvedCount
    medianTimeToFirstUpdateSeconds
    averageUpdateIntervalSeconds
    medianTimeToResolveSeconds
    p90TimeToResolveSeconds
  }
`;

export const ResponseMetricsQuery: TypedDocumentNode<ResponseMetricsResult, Record<string, never>> = gql`
  query ResponseMetrics {
    last30: incidentMetrics(days: 30) {
      ...ConsoleMetricsSummaryFields
    }
    last90: incidentMetrics(days: 90) {
      ...ConsoleMetricsSummaryFields
    }
    incidents(state: all, first: 20) {
      edges {
        node {
          id
          title
          status
          startedAt
          staff {
            severity
            metrics {
              ...ConsoleIncidentMetricsFields
            }
          }
        }
      }
    }
  }
  ${metricsSummaryFields}
  ${incidentMetricsFields}
`;

export type { UpdateStatus };
