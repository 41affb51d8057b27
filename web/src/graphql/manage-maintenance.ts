import { gql, type TypedDocumentNode } from '@urql/core';
import type { MaintenanceStatus, Visibility } from '../../../server/domain/vocabulary';

/** Maintenance windows for the console's maintenance screen. */

export interface ManagedMaintenance {
  id: string;
  title: string;
  body: string;
  status: MaintenanceStatus;
  scheduledStart: string;
  scheduledEnd: string;
  startedAt: string | null;
  completedAt: string | null;
  components: { id: string; name: string }[];
  staff: { visibility: Visibility; autoTransition: boolean; pageWide: boolean } | null;
}

type Window = 'upcoming_or_active' | 'past';

export const ManageMaintenanceQuery: TypedDocumentNode<
  { current: ManagedMaintenance[]; past: ManagedMaintenance[]; components: { id: string; name: string }[] },
  { pastLimit: number }
> = gql`
  query ManageMaintenance($pastLimit: Int) {
    current: maintenances(window: upcoming_or_active) {
      ...ManagedMaintenanceFields
    }
    past: maintenances(window: past, limit: $pastLimit) {
      ...ManagedMaintenanceFields
    }
    components {
      id
      name
    }
  }

  fragment ManagedMaintenanceFields on Maintenance {
    id
    title
    body
    status
    scheduledStart
    scheduledEnd
    startedAt
    completedAt
    components {
      id
      name
    }
    staff {
      visibility
      autoTransition
      pageWide
    }
  }
`;
export type { Window as MaintenanceWindow };

export interface MaintenanceInput {
  title: string;
  body?: string;
  scheduledStart: string;
  scheduledEnd: string;
  componentIds?: string[];
  visibility?: Visibility;
  autoTransition?: boolean;
  pageWide?: boolean;
}
export type MaintenancePatch = Partial<MaintenanceInput>;

export const CreateMaintenanceMutation: TypedDocumentNode<{ createMaintenance: { id: string; status: MaintenanceStatus } }, { input: MaintenanceInput; allowLeakOverride?: boolean }> = gql`
  mutation CreateMaintenance($input: MaintenanceInput!, $allowLeakOverride: Boolean) {
    createMaintenance(input: $input, allowLeakOverride: $allowLeakOverride) {
      id
      status
    }
  }
`;

export const UpdateMaintenanceMutation: TypedDocumentNode<
  { updateMaintenance: { id: string; status: MaintenanceStatus } },
  { id: string; patch: MaintenancePatch; allowLeakOverride?: boolean }
> = gql`
  mutation UpdateMaintenance($id: ID!, $patch: MaintenancePatch!, $allowLeakOverride: Boolean) {
    updateMaintenance(id: $id, patch: $patch, allowLeakOverride: $allowLeakOverride) {
      id
      status
    }
  }
`;

export const StartMaintenanceMutation: TypedDocumentNode<{ startMaintenance: { id: string; status: MaintenanceStatus } }, { id: string }> = gql`
  mutation StartMaintenance($id: ID!) {
    startMaintenance(id: $id) {
      id
      status
    }
  }
`;

export const CompleteMaintenanceMutation: TypedDocumentNode<{ completeMaintenance: { id: string; status: MaintenanceStatus } }, { id: string }> = gql`
  mutation CompleteMaintenance($id: ID!) {
    completeMaintenance(id: $id) {
      id
      status
    }
  }
`;

export const CancelMaintenanceMutation: TypedDocumentNode<{ cancelMaintenance: { id: string; status: MaintenanceStatus } }, { id: string }> = gql`
  mutation CancelMaintenance($id: ID!) {
    cancelMaintenance(id: $id) {
      id
      status
    }
  }
`;
