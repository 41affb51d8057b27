import { gql, type TypedDocumentNode } from '@urql/core';
import type { ComponentStatus, Impact } from '../status';
import type { IncidentUpdateItem } from './summary';

// Result types written by hand; tests/web/history.test.ts validates these documents against the schema.

/** Incidents per history page. */
export const HISTORY_PAGE_SIZE = 20;

export interface HistoryIncident {
  id: string;
  title: string;
  status: string;
  impact: Impact;
  startedAt: string;
  resolvedAt: string | null;
  /** Newest first. */
  updates: IncidentUpdateItem[];
}

export interface PastMaintenance {
  id: string;
  title: string;
  status: string;
  scheduledStart: string;
  scheduledEnd: string;
  startedAt: string | null;
  completedAt: string | null;
  components: { name: string }[];
}

export interface PageInfoFields {
  endCursor: string | null;
  hasNextPage: boolean;
}

export interface HistoryResult {
  page: { name: string };
  incidents: { edges: { cursor: string; node: HistoryIncident }[]; pageInfo: PageInfoFields };
  /** Only asked for with `withMaintenance` (page 1). */
  maintenances?: PastMaintenance[];
  liveCursor: number;
}

export interface HistoryVariables {
  first: number;
  after?: string | null;
  withMaintenance: boolean;
}

export const HistoryQuery: TypedDocumentNode<HistoryResult, HistoryVariables> = gql`
  query History($first: Int!, $after: String, $withMaintenance: Boolean!) {
    page {
      name
    }
    incidents(state: resolved, first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          title
          status
          impact
          startedAt
          resolvedAt
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
        }
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
    maintenances(window: past, limit: 10) @include(if: $withMaintenance) {
      id
      title
      status
      scheduledStart
      scheduledEnd
      startedAt
      completedAt
      components {
        name
      }
    }
    liveCursor
  }
`;

/** Walks to a deep-linked page: only the cursors, not the incidents, of the pages before it. */
export const HistoryCursorQuery: TypedDocumentNode<{ incidents: { pageInfo: PageInfoFields } }, { first: number; after?: string | null }> = gql`
  query HistoryCursor($first: Int!, $after: String) {
    incidents(state: resolved, first: $first, after: $after) {
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
`;

export interface IncidentDetail extends HistoryIncident {
  nextUpdateDueAt: string | null;
  affectedComponents: { status: ComponentStatus; component: { id: string; name: string; status: ComponentStatus } }[];
  postmortem: { body: string; publishedAt: string } | null;
}

export interface IncidentDetailResult {
  page: { name: string };
  incident: IncidentDetail;
  liveCursor: number;
}

export const IncidentDetailQuery: TypedDocumentNode<IncidentDetailResult, { id: string }> = gql`
  query IncidentDetail($id: ID!) {
    page {
      name
    }
    incident(id: $id) {
      id
      title
      status
      impact
      startedAt
      resolvedAt
      nextUpdateDueAt
      affectedComponents {
        status
        component {
          id
          name
          status
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
      }
      postmortem {
        body
        publishedAt
      }
    }
    liveCursor
  }
`;
