import { gql, type TypedDocumentNode } from '@urql/core';
import type { ChannelKind, SubscribeInput } from '../subscribe';

/** The channels this hub offers for self-service (email only with SMTP, SMS only with a provider). */
export const SubscriptionChannelsQuery: TypedDocumentNode<{ page: { subscriptionChannels: ChannelKind[] } }> = gql`
  query SubscriptionChannels {
    page {
      subscriptionChannels
    }
  }
`;

/** Always true once accepted, whether or not the target was known (no enumeration). */
export const SubscribeMutation: TypedDocumentNode<{ subscribe: boolean }, { input: SubscribeInput }> = gql`
  mutation Subscribe($input: SubscribeInput!) {
    subscribe(input: $input)
  }
`;
