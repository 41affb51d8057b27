import type { CombinedError } from '@urql/core';
import { errorCodeOf, errorMessageOf } from './errors';
import type { ComponentItem } from './graphql/summary';

/**
 * What the public Subscribe dialog needs to know besides the markup: how each channel's target is
 * asked for, what is sent, what to say once it is accepted, and which field a refusal belongs to.
 */

export type ChannelKind = 'email' | 'sms' | 'webhook' | 'slack' | 'teams';

export interface ChannelSpec {
  kind: ChannelKind;
  /** The radio button's label. */
  label: string;
  /** The target field's label, input type, placeholder, autocomplete and hint. */
  field: string;
  type: 'email' | 'tel' | 'url';
  placeholder: string;
  autocomplete: string;
  hint: string;
}

/** In the order the dialog lists them, whatever order the server answers in. */
export const channelSpecs: readonly ChannelSpec[] = [
  { kind: 'email', label: 'Email', field: 'Email address', type: 'email', placeholder: 'you@example.com', autocomplete: 'email', hint: 'We send a confirmation email first.' },
  {
    kind: 'sms',
    label: 'SMS',
    field: 'Phone number',
    type: 'tel',
    placeholder: '+15551234567',
    autocomplete: 'tel',
    hint: 'In international (E.164) form: a plus sign, the country code and the number, without spaces, e.g. +15551234567.',
  },
  {
    kind: 'webhook',
    label: 'Webhook',
    field: 'Webhook URL',
    type: 'url',
    placeholder: 'https://example.com/hooks/status',
    autocomplete: 'url',
    hint: 'We POST JSON to it, signed per Standard Webhooks; the first request carries your signing secret and a confirm link.',
  },
  {
    kind: 'slack',
    label: 'Slack',
    field: 'Slack incoming-webhook URL',
    type: 'url',
    placeholder: 'https://hooks.slack.com/services/T000/B000/XXXX',
    autocomplete: 'off',
    hint: 'Create one in Slack (Apps, Incoming Webhooks) for the channel that should hear about it.',
  },
  {
    kind: 'teams',
    label: 'Microsoft Teams',
    field: 'Teams incoming-webhook URL',
    type: 'url',
    placeholder: 'https://example.webhook.office.com/webhookb2/…',
    autocomplete: 'off',
    hint: 'Add an Incoming Webhook connector (or a Workflows webhook) to the Teams channel and paste its URL.',
  },
];

/** The channels offered, in display order; unknown kinds from a newer server are left out. */
export function offeredChannels(kinds: readonly string[]): ChannelSpec[] {
  return channelSpecs.filter((spec) => kinds.includes(spec.kind));
}

export function specOf(kind: ChannelKind): ChannelSpec {
  return channelSpecs.find((spec) => spec.kind === kind) ?? channelSpecs[0]!;
}

/** What a group of the checklist holds (the summary's groups carry more; this is all the form reads). */
export interface ChecklistGroup {
  id: string;
  name: string;
  components: ComponentItem[];
}

export interface Selection {
  /** `everything` follows all the audience sees, now and later. */
  mode: 'everything' | 'some';
  groups: ReadonlySet<string>;
  components: ReadonlySet<string>;
}

export interface SubscribeInput {
  channel: ChannelKind;
  target: string;
  components?: string[];
  groups?: string[];
}

/**
 * The mutation's input. A ticked group follows the whole group (components added to it later
 * too), so its own components are not listed again.
 */
export function subscribeInputOf(channel: ChannelKind, target: string, selection: Selection, groups: readonly ChecklistGroup[]): SubscribeInput {
  const input: SubscribeInput = { channel, target: target.trim() };
  if (selection.mode === 'everything') return input;
  const covered = new Set(groups.filter((g) => selection.groups.has(g.id)).flatMap((g) => g.components.map((c) => c.id)));
  const components = [...selection.components].filter((id) => !covered.has(id));
  if (selection.groups.size) input.groups = [...selection.groups];
  if (components.length) input.components = components;
  return input;
}

/** Checked in the browser only where the server could not say it better: nothing typed, nothing ticked. */
export function missingOf(channel: ChannelKind, target: string, selection: Selection): { field: FormField; message: string } | null {
  if (!target.trim()) return { field: 'target', message: `Enter your ${specOf(channel).field.replace(/^[A-Z]/, (c) => c.toLowerCase())}.` };
  if (selection.mode === 'some' && selection.groups.size === 0 && selection.components.size === 0) {
    return { field: 'components', message: 'Tick at least one component, or choose Everything.' };
  }
  return null;
}

/** Once accepted: nothing is sent until the confirmation is followed (double opt-in on every channel). */
export function acceptedMessage(channel: ChannelKind, target: string): string {
  switch (channel) {
    case 'webhook':
      return 'We POSTed a confirmation to your URL with your signing secret and a confirm link: nothing is sent until that link is followed.';
    case 'slack':
      return 'Check the Slack channel of that webhook to confirm: nothing is sent until you follow the confirmation link.';
    case 'teams':
      return 'Check the Teams channel of that webhook to confirm: nothing is sent until you follow the confirmation link.';
    default:
      return `Check ${target.trim()} to confirm: nothing is sent until you follow the confirmation link.`;
  }
}

export type FormField = 'channel' | 'target' | 'components' | 'form';

// The server names input fields as the mutation does (`target`) or as the service does (`componentIds`).
const fieldOfName: Record<string, FormField> = {
  channel: 'channel',
  target: 'target',
  email: 'target',
  components: 'components',
  componentIds: 'components',
  groups: 'components',
  groupIds: 'components',
};

/**
 * Where to show a refused subscription: a typed `input/invalid` error names its field (shown
 * beside it, with the field's label); anything else is said above the submit button.
 */
export function refusalOf(error: CombinedError, channel: ChannelKind): { field: FormField; message: string } {
  for (const e of error.graphQLErrors) {
    const extensions = (e.extensions ?? {}) as { code?: unknown; field?: unknown; issues?: { field?: unknown; message?: unknown }[] };
    if (extensions.code !== 'input/invalid') continue;
    const issue = extensions.issues?.find((i) => typeof i.field === 'string' && i.field in fieldOfName);
    const name = typeof issue?.field === 'string' ? issue.field : typeof extensions.field === 'string' ? extensions.field : '';
    const field = fieldOfName[name];
    if (!field) break;
    const label = field === 'target' ? specOf(channel).field : field === 'channel' ? 'Channel' : 'Components';
    const message = typeof issue?.message === 'string' ? `${label}: ${issue.message}.`.replace(/\.\.$/, '.') : e.message;
    return { field, message };
  }
  // errorMessageOf's own fallback speaks of loading the status; this is a form being sent.
  const said = error.networkError || errorCodeOf(error);
  return { field: 'form', message: said ? errorMessageOf(error) : 'The subscription could not be sent. Please try again.' };
}
