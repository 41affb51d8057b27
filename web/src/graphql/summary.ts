import { gql, type TypedDocumentNode } from '@urql/core';
import type { ComponentStatus, Impact } from '../status';

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

export const PublicSummaryQuery: TypedDocumentNode<{ summary: SummaryFields; liveCursor: number }> = gql`
  query PublicSummary {
    summary {
      ...SummaryFields
    }
    liveCursor
  }
  ${summaryFields}
`;

export interface DeploymentSummaryResult {
  summary: SummaryFields;
  deployments: { id: string; slug: string; name: string }[];
  liveCursor: number;
}

export const DeploymentSummaryQuery: TypedDocumentNode<DeploymentSummaryResult> = gql`
  query DeploymentSummary {
    summary {
      ...SummaryFields
    }
    deployments {
      id
      slug
      name
    }
    liveCursor
  }
  ${summaryFields}
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
