import type { Channel } from './channel.js';
import type { GuardedHttpOptions } from './http.js';
import { chatWebhookChannel, clip, headline, type MessageSummary } from './summary.js';

/**
 * Slack through an incoming webhook (the subscriber's target, https://hooks.slack.com/services/…):
 * a Block Kit message — a header with the page and its overall status, a section for the incident
 * (its latest update) or the component change, a context line with the time, a button to the page —
 * with a plain `text` fallback for notifications. Slack answers `200 ok`; 404/410 (`no_service`,
 * `channel_not_found`, …) means the hook is gone (disable), 429 and 5xx are tried again.
 * Slack has no idempotency key: the delivery's is sent as `idempotency-key` for proxies that use it.
 */

export const slackEmoji: Record<string, string> = {
  none: ':large_green_circle:',
  minor: ':large_yellow_circle:',
  major: ':large_orange_circle:',
  critical: ':red_circle:',
  maintenance: ':large_blue_circle:',
};

/** Slack says these when the hook or its channel is gone for good. */
const GONE = ['no_service', 'channel_not_found', 'channel_is_archived', 'no_active_hooks', 'team_disabled', 'invalid_token'];

export function slackMessage(s: MessageSummary): Record<string, unknown> {
  const emoji = slackEmoji[s.indicator] ?? slackEmoji.none!;
  const mrkdwn = (text: string) => text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  const sections =
    s.kind === 'incident'
      ? [
          { type: 'section', text: { type: 'mrkdwn', text: clip(`*${mrkdwn(s.title)}* — ${mrkdwn(s.state)}\n${mrkdwn(s.text)}`, 2900, true) } },
          ...(s.components.length
            ? [{ type: 'section', fields: s.components.slice(0, 10).map((c) => ({ type: 'mrkdwn', text: clip(`*${mrkdwn(c.name)}*\n${mrkdwn(c.status)}`, 1900, true) })) }]
            : []),
        ]
      : [{ type: 'section', text: { type: 'mrkdwn', text: clip(`*${mrkdwn(s.title)}*: ${mrkdwn(s.state)}`, 2900) } }];
  const unix = Math.floor(new Date(s.at).getTime() / 1000);
  return {
    text: clip(`${s.pageName} (${s.statusDescription}): ${headline(s)}${s.text ? ` — ${s.text}` : ''}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(`${s.pageName}: ${s.statusDescription}`, 150), emoji: true } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${emoji} ${mrkdwn(s.statusDescription)}` }] },
      ...sections,
      { type: 'context', elements: [{ type: 'mrkdwn', text: `<!date^${unix}^{date_short_pretty} {time}|${s.at}>` }] },
      ...(s.link ? [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: s.kind === 'incident' ? 'View incident' : 'View status page' }, url: s.link }] }] : []),
    ],
  };
}

export function slackChannel(options: GuardedHttpOptions): Channel & { close(): void } {
  return chatWebhookChannel('slack', slackMessage, GONE, options);
}
