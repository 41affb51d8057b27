import { gql, type TypedDocumentNode } from '@urql/core';
import type { StaffRole } from '../../../server/domain/vocabulary';
import type { TokenScopeValue } from '../manage';

/** Staff accounts, tokens and the audit log: admin-only screens. */

export interface ManagedUser {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
  disabled: boolean;
  disabledAt: string | null;
  createdAt: string;
}

export const ManageUsersQuery: TypedDocumentNode<{ users: ManagedUser[]; viewer: { email: string | null } }, Record<string, never>> = gql`
  query ManageUsers {
    users {
      id
      email
      name
      role
      disabled
      disabledAt
      createdAt
    }
    viewer {
      email
    }
  }
`;

export interface UserInput {
  email: string;
  name: string;
  password: string;
  role?: StaffRole;
}

export interface UserPatch {
  name?: string;
  role?: StaffRole;
  disabled?: boolean;
  password?: string;
}

export const CreateUserMutation: TypedDocumentNode<{ createUser: { id: string } }, { input: UserInput }> = gql`
  mutation CreateUser($input: UserInput!) {
    createUser(input: $input) {
      id
    }
  }
`;

export const UpdateUserMutation: TypedDocumentNode<
  { updateUser: { id: string; role: StaffRole; disabled: boolean } },
  { id: string; patch: UserPatch }
> = gql`
  mutation UpdateUser($id: ID!, $patch: UserPatch!) {
    updateUser(id: $id, patch: $patch) {
      id
      role
      disabled
    }
  }
`;

export const DeleteUserMutation: TypedDocumentNode<{ deleteUser: string }, { id: string }> = gql`
  mutation DeleteUser($id: ID!) {
    deleteUser(id: $id)
  }
`;

// ── tokens ──────────────────────────────────────────────────────────────────────

export interface ManagedApiToken {
  id: string;
  name: string;
  prefix: string;
  scopes: TokenScopeValue[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface ManagedAudienceToken {
  id: string;
  label: string;
  prefix: string;
  deploymentId: string;
  deployment: { id: string; name: string; slug: string } | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export const ManageTokensQuery: TypedDocumentNode<
  { apiTokens: ManagedApiToken[]; audienceTokens: ManagedAudienceToken[]; deployments: { id: string; name: string; slug: string; access: 'open' | 'protected' }[] },
  Record<string, never>
> = gql`
  query ManageTokens {
    apiTokens {
      id
      name
      prefix
      scopes
      createdAt
      lastUsedAt
      expiresAt
      revokedAt
    }
    audienceTokens {
      id
      label
      prefix
      deploymentId
      deployment {
        id
        name
        slug
      }
      createdAt
      expiresAt
      revokedAt
    }
    deployments {
      id
      name
      slug
      access
    }
  }
`;

export interface ApiTokenInput {
  name: string;
  scopes: TokenScopeValue[];
  expiresAt?: string | null;
}

export const CreateApiTokenMutation: TypedDocumentNode<
  { createApiToken: { token: string; apiToken: { id: string; name: string; prefix: string } } },
  { input: ApiTokenInput }
> = gql`
  mutation CreateApiToken($input: ApiTokenInput!) {
    createApiToken(input: $input) {
      token
      apiToken {
        id
        name
        prefix
      }
    }
  }
`;

export const RevokeApiTokenMutation: TypedDocumentNode<{ revokeApiToken: { id: string; revokedAt: string | null } }, { id: string }> = gql`
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id) {
      id
      revokedAt
    }
  }
`;

export interface AudienceTokenInput {
  deploymentId: string;
  label: string;
  expiresAt?: string | null;
}

export const CreateAudienceTokenMutation: TypedDocumentNode<
  { createAudienceToken: { token: string; audienceToken: { id: string; label: string; prefix: string; deployment: { slug: string } | null } } },
  { input: AudienceTokenInput }
> = gql`
  mutation CreateAudienceToken($input: AudienceTokenInput!) {
    createAudienceToken(input: $input) {
      token
      audienceToken {
        id
        label
        prefix
        deployment {
          slug
        }
      }
    }
  }
`;

export const RevokeAudienceTokenMutation: TypedDocumentNode<{ revokeAudienceToken: { id: string; revokedAt: string | null } }, { id: string }> = gql`
  mutation RevokeAudienceToken($id: ID!) {
    revokeAudienceToken(id: $id) {
      id
      revokedAt
    }
  }
`;

// ── audit log ───────────────────────────────────────────────────────────────────

export interface AuditEvent {
  seq: number;
  action: string;
  actorName: string;
  actorType: string;
  entityType: string;
  entityId: string;
  createdAt: string;
  before: string | null;
  after: string | null;
}

export const AuditLogQuery: TypedDocumentNode<
  { auditLog: { edges: { cursor: string; node: AuditEvent }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } },
  { first: number; after?: string | null; entityType?: string | null }
> = gql`
  query AuditLog($first: Int, $after: String, $entityType: String) {
    auditLog(first: $first, after: $after, entityType: $entityType) {
      edges {
        cursor
        node {
          seq
          action
          actorName
          actorType
          entityType
          entityId
          createdAt
          before
          after
        }
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
`;
