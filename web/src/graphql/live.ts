import { gql, type TypedDocumentNode } from '@urql/core';

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
