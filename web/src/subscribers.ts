/** Pure helpers for the console's Subscribers screen (no Vue, no network). */
import type { ChannelKind, DeliveryStatus, SubscriberState } from '../../server/domain/vocabulary';
import type { AudienceDeployment } from './graphql/manage-subscribers';

export interface AudienceOption {
  /** `public` or `deployment:<slug>`, as the API names it. */
  value: string;
  label: string;
  /** Set for a deployment's audience. */
  deployment?: AudienceDeployment;
}

/** Public first, then each deployment by name. */
export function audienceOptions(deployments: readonly AudienceDeployment[]): AudienceOption[] {
  const byName = [...deployments].sort((a, b) => a.name.localeCompare(b.name));
  return [{ value: 'public', label: 'Public' }, ...byName.map((d) => ({ value: `deployment:${d.slug}`, label: d.name, deployment: d }))];
}

/** "Everything" or the names of what a subscriber follows (an id no longer known shows as such). */
export function followsLabel(
  subscriber: { componentIds: readonly string[]; groupIds: readonly string[] },
  names: ReadonlyMap<string, string>,
): string {
  if (!subscriber.componentIds.length && !subscriber.groupIds.length) return 'Everything';
  const name = (id: string) => names.get(id) ?? 'a deleted item';
  return [...subscriber.groupIds.map((id) => `${name(id)} (group)`), ...subscriber.componentIds.map(name)].join(', ');
}

export const channelOptions: { value: ChannelKind; label: string; target: string; placeholder: string }[] = [
  { value: 'email', label: 'Email', target: 'Email address', placeholder: 'ops@customer.example' },
  { value: 'webhook', label: 'Webhook', target: 'Webhook URL', placeholder: 'https://customer.example/hooks/status' },
  { value: 'slack', label: 'Slack', target: 'Slack incoming webhook URL', placeholder: 'https://hooks.slack.com/services/…' },
  { value: 'teams', label: 'Microsoft Teams', target: 'Teams incoming webhook URL', placeholder: 'https://….webhook.office.com/…' },
  { value: 'sms', label: 'SMS', target: 'Phone number (E.164)', placeholder: '+15551234567' },
];

export const channelLabel = (channel: ChannelKind): string => channelOptions.find((c) => c.value === channel)?.label ?? channel;

export const subscriberStateLabel: Record<SubscriberState, string> = {
  pending: 'Awaiting confirmation',
  active: 'Active',
  disabled: 'Disabled',
  unsubscribed: 'Unsubscribed',
};

/** The words the delivery-health table uses, the same as its column heads. */
export const deliveryStatusLabel: Record<DeliveryStatus, string> = {
  pending: 'Waiting',
  sending: 'Sending',
  sent: 'Sent',
  failed: 'Retrying',
  dead: 'Given up',
  superseded: 'Consolidated',
};

/** `0.987` → `98.7 %`; none settled yet → `—`. */
export function percent(rate: number | null): string {
  if (rate === null) return '—';
  const value = Math.floor(rate * 1000) / 10;
  return `${value.toFixed(value === 100 ? 0 : 1)} %`;
}
