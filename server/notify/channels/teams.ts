import type { Channel } from './channel.js';
import type { GuardedHttpOptions } from './http.js';
import { chatWebhookChannel, clip, type MessageSummary } from './summary.js';

/**
 * Microsoft Teams through an incoming webhook or a Workflows ("When a Teams webhook request is
 * received") URL: a message with one Adaptive Card 1.4 — the page and its overall status (coloured
 * by the indicator), the incident with its latest update or the component change, the time, and an
 * `Action.OpenUrl` to the page. Same answers as Slack: 2xx (Workflows answer 202) delivered,
 * 404/410 disable, 429 and 5xx retried. The delivery's key goes as `idempotency-key`.
 */

export const teamsColor: Record<string, string> = { none: 'Good', minor: 'Warning', major: 'Attention', critical: 'Attention', maintenance: 'Accent' };

export function teamsMessage(s: MessageSummary): Record<string, unknown> {
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: clip(s.pageName, 200), size: 'Medium', weight: 'Bolder', wrap: true },
    { type: 'TextBlock', text: s.statusDescription, color: teamsColor[s.indicator] ?? 'Default', weight: 'Bolder', spacing: 'None', wrap: true },
    { type: 'TextBlock', text: clip(s.kind === 'incident' ? `${s.title} — ${s.state}` : `${s.title}: ${s.state}`, 500), weight: 'Bolder', wrap: true },
  ];
  if (s.text) body.push({ type: 'TextBlock', text: clip(s.text, 2000, true), wrap: true });
  if (s.kind === 'incident' && s.components.length) body.push({ type: 'FactSet', facts: s.components.slice(0, 20).map((c) => ({ title: clip(c.name, 100), value: c.status })) });
  // Adaptive Cards format `{{DATE(…)}}` and `{{TIME(…)}}` in the reader's time zone (RFC 3339, no milliseconds).
  const at = new Date(s.at).toISOString().replace(/\.\d{3}Z$/, 'Z');
  body.push({ type: 'TextBlock', text: `{{DATE(${at}, SHORT)}} {{TIME(${at})}}`, isSubtle: true, size: 'Small', wrap: true });
  return adaptiveCardMessage(
    clip(`${s.pageName}: ${s.title}: ${s.state}`, 200),
    body,
    s.link ? [{ type: 'Action.OpenUrl', title: s.kind === 'incident' ? 'View incident' : 'View status page', url: s.link }] : [],
  );
}

/** A Teams message carrying one Adaptive Card 1.4 with these blocks and actions. */
export function adaptiveCardMessage(summary: string, body: Record<string, unknown>[], actions: Record<string, unknown>[]): Record<string, unknown> {
  return {
    type: 'message',
    summary,
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4', body, actions },
      },
    ],
  };
}

export function teamsChannel(options: GuardedHttpOptions): Channel & { close(): void } {
  return chatWebhookChannel('teams', teamsMessage, [], options);
}
