import { gql, type TypedDocumentNode } from '@urql/core';
import type { ComponentStatus, DeploymentAccess, Visibility } from '../../../server/domain/vocabulary';

/** Components, groups and deployments for the console's management screens. */

export interface ManagedComponent {
  id: string;
  name: string;
  description: string;
  status: ComponentStatus;
  updatedAt: string;
  group: { id: string; name: string } | null;
  staff: { visibility: Visibility; sortOrder: number; sloTarget: number | null; errorBudgetRemaining: number | null } | null;
}

export interface GroupOption {
  id: string;
  name: string;
}

export const ManageComponentsQuery: TypedDocumentNode<{ components: ManagedComponent[]; componentGroups: GroupOption[] }, Record<string, never>> = gql`
  query ManageComponents {
    components {
      id
      name
      description
      status
      updatedAt
      group {
        id
        name
      }
      staff {
        visibility
        sortOrder
        sloTarget
        errorBudgetRemaining(days: 30)
      }
    }
    componentGroups {
      id
      name
    }
  }
`;

export interface ComponentInput {
  name: string;
  description?: string;
  groupId?: string | null;
  visibility?: Visibility;
  status?: ComponentStatus;
  sortOrder?: number;
  /** Percent, e.g. 99.9; null clears it. */
  sloTarget?: number | null;
}
export type ComponentPatch = Partial<ComponentInput>;

export const CreateComponentMutation: TypedDocumentNode<{ createComponent: { id: string } }, { input: ComponentInput }> = gql`
  mutation CreateComponent($input: ComponentInput!) {
    createComponent(input: $input) {
      id
    }
  }
`;

export const UpdateComponentMutation: TypedDocumentNode<{ updateComponent: { id: string } }, { id: string; patch: ComponentPatch }> = gql`
  mutation UpdateComponent($id: ID!, $patch: ComponentPatch!) {
    updateComponent(id: $id, patch: $patch) {
      id
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

export const DeleteComponentMutation: TypedDocumentNode<{ deleteComponent: string }, { id: string }> = gql`
  mutation DeleteComponent($id: ID!) {
    deleteComponent(id: $id)
  }
`;

// ── groups ──────────────────────────────────────────────────────────────────────

export interface ManagedGroup {
  id: string;
  name: string;
  description: string;
  deployment: { id: string; name: string; slug: string } | null;
  components: { id: string }[];
  staff: { visibility: Visibility; sortOrder: number } | null;
}

export interface DeploymentOption {
  id: string;
  name: string;
  slug: string;
}

export const ManageGroupsQuery: TypedDocumentNode<{ componentGroups: ManagedGroup[]; deployments: DeploymentOption[] }, Record<string, never>> = gql`
  query ManageGroups {
    componentGroups {
      id
      name
      description
      deployment {
        id
        name
        slug
      }
      components {
        id
      }
      staff {
        visibility
        sortOrder
      }
    }
    deployments {
      id
      name
      slug
    }
  }
`;

export interface GroupInput {
  name: string;
  description?: string;
  deploymentId?: string | null;
  visibility?: Visibility;
  sortOrder?: number;
}
export type GroupPatch = Partial<GroupInput>;

export const CreateGroupMutation: TypedDocumentNode<{ createComponentGroup: { id: string } }, { input: GroupInput }> = gql`
  mutation CreateComponentGroup($input: ComponentGroupInput!) {
    createComponentGroup(input: $input) {
      id
    }
  }
`;

export const UpdateGroupMutation: TypedDocumentNode<{ updateComponentGroup: { id: string } }, { id: string; patch: GroupPatch }> = gql`
  mutation UpdateComponentGroup($id: ID!, $patch: ComponentGroupPatch!) {
    updateComponentGroup(id: $id, patch: $patch) {
      id
    }
  }
`;

export const DeleteGroupMutation: TypedDocumentNode<{ deleteComponentGroup: string }, { id: string }> = gql`
  mutation DeleteComponentGroup($id: ID!) {
    deleteComponentGroup(id: $id)
  }
`;

// ── deployments ─────────────────────────────────────────────────────────────────

export interface ManagedDeployment {
  id: string;
  name: string;
  slug: string;
  description: string;
  access: DeploymentAccess;
  status: ComponentStatus;
  groups: { id: string }[];
}

export const ManageDeploymentsQuery: TypedDocumentNode<{ deployments: ManagedDeployment[] }, Record<string, never>> = gql`
  query ManageDeployments {
    deployments {
      id
      name
      slug
      description
      access
      status
      groups {
        id
      }
    }
  }
`;

export interface DeploymentInput {
  name: string;
  slug: string;
  description?: string;
  access?: DeploymentAccess;
  sortOrder?: number;
}
export type DeploymentPatch = Partial<DeploymentInput>;

export const CreateDeploymentMutation: TypedDocumentNode<{ createDeployment: { id: string } }, { input: DeploymentInput }> = gql`
  mutation CreateDeployment($input: DeploymentInput!) {
    createDeployment(input: $input) {
      id
    }
  }
`;

export const UpdateDeploymentMutation: TypedDocumentNode<{ updateDeployment: { id: string } }, { id: string; patch: DeploymentPatch }> = gql`
  mutation UpdateDeployment($id: ID!, $patch: DeploymentPatch!) {
    updateDeployment(id: $id, patch: $patch) {
      id
    }
  }
`;

export const DeleteDeploymentMutation: TypedDocumentNode<{ deleteDeployment: string }, { id: string }> = gql`
  mutation DeleteDeployment($id: ID!) {
    deleteDeployment(id: $id)
  }
`;
