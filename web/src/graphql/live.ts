import { gql, type TypedDocumentNode } from '@urql/core';
import type { ComponentStatus, Impact } from '../status';
import { incidentFields, maintenanceFields, type IncidentItem, type MaintenanceItem } from './summary';

// A view refetches its summary on any event, so it asks for the sequence number alone: the
// smallest frame, and nothing on the wire that the summary does not show anyway.
export interface PageEventsResult {
  pageEvents: { seq: number; resync: boolean };
}

export const PageEventsSubscription: TypedDocumentNode<PageEventsResult, { after?: number | null }> = gql`
  subscription PageEvents($after: Int) {
    pageEvents(after: $after) {
      seq
      resync
    }
  }
`;

/** A live event as the status pages apply it: the changed entity, already filtered for the audience. */
export interface StatusPageEvent {
  seq: number;
  resync: boolean;
  removed: boolean;
  kind: LiveKind | null;
  entityId: string | null;
  status: { indicator: Impact; description: string };
  component: { id: string; name: string; status: ComponentStatus; group: { id: string; status: ComponentStatus } | null } | null;
  incident: IncidentItem | null;
  maintenance: MaintenanceItem | null;
}

export type LiveKind = 'component' | 'group' | 'deployment' | 'incident' | 'maintenance';

// NOTE: the same document for every viewer of a page, so the server builds each event once per
// audience and every tab receives the same bytes.
export const StatusPageEventsSubscription: TypedDocumentNode<{ pageEvents: StatusPageEvent }, { after?: number | null }> = gql`
  subscription StatusPageEvents($after: Int) {
    pageEvents(after: $after) {
      seq
      resync
      removed
      kind
      entityId
      status {
        indicator
        description
      }
      component {
        id
        name
        status
        group {
          id
          status
        }
      }
      incident {
        ...IncidentFields
      }
      maintenance {
        ...MaintenanceFields
      }
    }
  }
  ${incidentFields}
  ${maintenanceFields}
`;
