import { gql, type TypedDocumentNode } from '@urql/core';
import type { Finding } from '../../../server/domain/publication-guard';
import type { StaffRole } from '../../../server/domain/vocabulary';

export interface ConsoleViewer {
  name: string | null;
  email: string | null;
  role: StaffRole | null;
  permissions: string[];
}

/** What the console layout needs: who is signed in, and the cursor its live subscription starts from. */
export const ConsoleViewerQuery: TypedDocumentNode<{ viewer: ConsoleViewer; page: { name: string }; liveCursor: number }> = gql`
  query ConsoleViewer {
    viewer {
      name
      email
      role
      permissions
    }
    page {
      name
    }
    liveCursor
  }
`;

export const SignOutMutation: TypedDocumentNode<{ signOut: boolean }, Record<string, never>> = gql`
  mutation SignOut {
    signOut
  }
`;

export const SignOutEverywhereMutation: TypedDocumentNode<{ signOutEverywhere: number }, Record<string, never>> = gql`
  mutation SignOutEverywhere {
    signOutEverywhere
  }
`;

export type PublicationFinding = Finding;

/** What the publication guard would find in a text about to go public (the console warns as the editor types). */
export const CheckPublicationQuery: TypedDocumentNode<{ checkPublication: PublicationFinding[] }, { text: string }> = gql`
  query CheckPublication($text: String!) {
    checkPublication(text: $text) {
      kind
      match
      index
    }
  }
`;
