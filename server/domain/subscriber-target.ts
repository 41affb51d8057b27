import { z } from 'zod';
import { text } from './validate.js';
import type { ChannelKind } from './vocabulary.js';

/**
 * What a subscriber's target must look like per channel: the one rule staff-made, imported and
 * self-service subscribers all pass. Whether a URL may be reached is decided at send time by the
 * SSRF guard (server/notify/channels/http.ts), which resolves where it really leads.
 */

/**
 * Slack and Teams hooks: an https URL (any host), or http to a loopback host for local testing
 * (refused at send time unless NOTIFY_ALLOW_PRIVATE_TARGETS).
 */
const chatHook = text.url.refine((value) => {
  const url = URL.parse(value);
  return !url || url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}, 'must be an https URL');

export const subscriberTarget: Record<ChannelKind, z.ZodType<string>> = {
  webhook: text.url,
  slack: chatHook,
  teams: chatHook,
  email: z
    .string()
    .trim()
    .max(254, 'must be at most 254 characters')
    .pipe(z.email({ error: 'must be an email address' }))
    .transform((e) => e.toLowerCase()),
  sms: z.string().trim().regex(/^\+[1-9]\d{6,14}$/, 'must be a phone number in E.164 form (+15551234567)'),
};
