import { gql, type TypedDocumentNode } from '@urql/core';
import type { ChannelKind, DeliveryStatus, DeploymentAccess, SubscriberState } from '../../../server/domain/vocabulary';

/** Subscribers and the delivery log: the admin-only Subscribers screen. */

export interface ManagedSubscriber {
  id: string;
  audience: string;
  channel: ChannelKind;
  target: string;
  componentIds: string[];
  groupIds: string[];
  state: SubscriberState;
  signingSecretCount: number;
  consecutiveFailures: number;
  disabledReason: string | null;
  createdAt: string;
}

/** Something a subscriber may follow, as its audience sees it (`subscriberFollowable`). */
export interface CatalogComponent {
  id: string;
  name: string;
  group: { id: string } | null;
}
export interface CatalogGroup {
  id: string;
  name: string;
}
export interface AudienceDeployment {
  id: string;
  name: string;
  slug: string;
  access: DeploymentAccess;
}

/** The deployments (the audiences), every name staff see (to show what a subscriber follows), and which channels this hub can send. */
export const SubscriberCatalogQuery: TypedDocumentNode<
  {
    page: { subscriptionChannels: ChannelKind[] };
    deployments: AudienceDeployment[];
    components: { id: string; name: string }[];
    componentGroups: { id: string; name: string }[];
  },
  Record<string, never>
> = gql`
  query SubscriberCatalog {
    page {
      subscriptionChannels
    }
    deployments {
      id
      name
      slug
      access
    }
    components {
      id
      name
    }
    componentGroups {
      id
      name
    }
  }
`;

/** What one audience sees, read by the server as that audience (server/read/visibility.ts decides). */
export const SubscriberFollowableQuery: TypedDocumentNode<
  { subscriberFollowable: { groups: CatalogGroup[]; components: CatalogComponent[] } },
  { audience: string }
> = gql`
  query SubscriberFollowable($audience: String!) {
    subscriberFollowable(audience: $audience) {
      groups {
        id
        name
      }
      components {
        id
        name
        group {
          id
        }
      }
    }
  }
`;

const subscriberFields = `
  id
  audience
  channel
  target
  componentIds
  groupIds
  state
  signingSecretCount
  consecutiveFailures
  disabledReason
  createdAt
`;

export const SubscribersQuery: TypedDocumentNode<{ subscribers: ManagedSubscriber[] }, { audience: string }> = gql`
  query Subscribers($audience: String!) {
    subscribers(audience: $audience) {
      ${subscriberFields}
    }
  }
`;

export interface SubscriberInput {
  audience: string;
  channel: ChannelKind;
  target: string;
  componentIds: string[];
  groupIds: string[];
}

export const CreateSubscriberMutation: TypedDocumentNode<
  { createSubscriber: { subscriber: ManagedSubscriber; signingSecret: string | null; manageToken: string } },
  { input: SubscriberInput }
> = gql`
  mutation CreateSubscriber($input: SubscriberInput!) {
    createSubscriber(input: $input) {
      subscriber {
        ${subscriberFields}
      }
      signingSecret
      manageToken
    }
  }
`;

export const DisableSubscriberMutation: TypedDocumentNode<{ disableSubscriber: ManagedSubscriber }, { id: string }> = gql`
  mutation DisableSubscriber($id: ID!) {
    disableSubscriber(id: $id) {
      ${subscriberFields}
    }
  }
`;

export const EnableSubscriberMutation: TypedDocumentNode<{ enableSubscriber: ManagedSubscriber }, { id: string }> = gql`
  mutation EnableSubscriber($id: ID!) {
    enableSubscriber(id: $id) {
      ${subscriberFields}
    }
  }
`;

export const RotateSigningSecretMutation: TypedDocumentNode<
  { rotateSubscriberSigningSecret: { subscriber: ManagedSubscriber; signingSecret: string } },
  { id: string }
> = gql`
  mutation RotateSubscriberSigningSecret($id: ID!) {
    rotateSubscriberSigningSecret(id: $id) {
      subscriber {
        ${subscriberFields}
      }
      signingSecret
    }
  }
`;

// ── delivery health ─────────────────────────────────────────────────────────────

export interface ChannelStats {
  channel: ChannelKind;
  sent: number;
  retrying: number;
  dead: number;
  pending: number;
  superseded: number;
  successRate: number | null;
}

export interface DeliveryLogEntry {
  id: string;
  channel: ChannelKind;
  topic: string;
  status: DeliveryStatus;
  attempts: number;
  responseCode: number | null;
  lastError: string | null;
  nextAttemptAt: string;
  sentAt: string | null;
  createdAt: string;
}

export const DeliveryHealthQuery: TypedDocumentNode<
  { notificationStats: ChannelStats[]; notificationDeliveries: DeliveryLogEntry[] },
  { hours: number; first: number; status?: DeliveryStatus | null; subscriberId?: string | null }
> = gql`
  query DeliveryHealth($hours: Int!, $first: Int!, $status: DeliveryStatus, $subscriberId: ID) {
    notificationStats(hours: $hours) {
      channel
      sent
      retrying
      dead
      pending
      superseded
      successRate
    }
    notificationDeliveries(first: $first, status: $status, subscriberId: $subscriberId) {
      id
      channel
      topic
      status
      attempts
      responseCode
      lastError
      nextAttemptAt
      sentAt
      createdAt
    }
  }
`;
