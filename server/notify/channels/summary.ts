import type { Channel, NotificationMessage, OutgoingDelivery, SendResult } from './channel.js';
import { guardedHttp, isFailure, retryAfterMs, type GuardedHttpOptions } from './http.js';

/**
 * What the chat and SMS channels say, read only from the audience's message the worker gives them
 * (Statuspage's webhook body, docs/API.md *Webhooks*): nothing is read again, so nothing the
 * audience may not see can get in.
 */
export interface MessageSummary {
  pageName: string;
  /** The audience's page (or the incident's own page). */
  link: string;
  /** `none | minor | major | critical | maintenance`: the audience's overall status. */
  indicator: string;
  statusDescription: string;
  /** When it happened (ISO). */
  at: string;
  kind: 'component' | 'incident';
  /** The incident's name or the component's. */
  title: string;
  /** `Investigating`, or `Operational → Partial outage`. */
  state: string;
  /** The incident's latest update text; empty for a component change. */
  text: string;
  /** The incident's components with their status. */
  components: { name: string; status: string }[];
}

const words = (s: string) => (s ? s.charAt(0).toUpperCase() + s.slice(1).replace(/_/g, ' ') : s);

export const statusLabel = (status: string): string => words(status);

type Sp = Record<string, unknown> & { name?: string; status?: string };

export function summarize(message: NotificationMessage): MessageSummary {
  const page = (message.page ?? {}) as { name?: string; url?: string; status_indicator?: string; status_description?: string };
  const base = {
    pageName: page.name || 'Status page',
    indicator: page.status_indicator ?? 'none',
    statusDescription: page.status_description ?? '',
  };
  const incident = message.incident as (Sp & { shortlink?: string; updated_at?: string; incident_updates?: { body?: string; status?: string; created_at?: string }[]; components?: Sp[] }) | undefined;
  if (incident) {
    const latest = incident.incident_updates?.[0];
    return {
      ...base,
      link: incident.shortlink || page.url || '',
      at: latest?.created_at ?? incident.updated_at ?? new Date().toISOString(),
      kind: 'incident',
      title: incident.name ?? 'Incident',
      state: words(incident.status ?? ''),
      text: latest?.body ?? '',
      components: (incident.components ?? []).map((c) => ({ name: String(c.name ?? ''), status: words(String(c.status ?? '')) })),
    };
  }
  const component = (message.component ?? {}) as Sp;
  const update = (message.component_update ?? {}) as { old_status?: string; new_status?: string; created_at?: string };
  return {
    ...base,
    link: page.url || '',
    at: update.created_at ?? new Date().toISOString(),
    kind: 'component',
    title: component.name ?? 'A component',
    state: `${words(update.old_status ?? '')} → ${words(update.new_status ?? component.status ?? '')}`,
    text: '',
    components: [{ name: String(component.name ?? ''), status: words(update.new_status ?? component.status ?? '') }],
  };
}

/** One line for a notification preview, a fallback text or an SMS. */
export function headline(s: MessageSummary): string {
  return `${s.title}: ${s.state}`;
}

/** Cut to `max` characters with an ellipsis; whitespace runs become one space unless `keepLines`. */
export function clip(text: string, max: number, keepLines = false): string {
  const flat = (keepLines ? text.replace(/[^\S\n]+/g, ' ') : text.replace(/\s+/g, ' ')).trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

/**
 * A chat answer: 2xx delivered; 404/410 or a body naming a hook that is gone → disable; 429, 408
 * and 5xx → try again; any other 4xx (our message refused) → give up on this message.
 */
export function chatResult(status: number, body: string, gone: string[], retryAfter?: number): SendResult {
  const reason = body.trim().slice(0, 200);
  if (status >= 200 && status < 300) return { ok: true, status, retryable: false, disable: false };
  if (status === 404 || status === 410 || gone.includes(reason)) return { ok: false, status, retryable: false, disable: true, error: `HTTP ${status}${reason ? ` ${reason}` : ''}` };
  const retryable = status === 429 || status === 408 || status >= 500;
  return { ok: false, status, retryable, disable: false, ...(retryable && retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}), error: `HTTP ${status}${reason ? ` ${reason}` : ''}` };
}

/**
 * A chat service's incoming webhook (Slack, Teams): the audience's summary rendered by `render`,
 * POSTed as JSON through the guarded client, the answer read by `chatResult` (`gone`: the bodies
 * that name a hook that no longer exists).
 */
export function chatWebhookChannel(kind: 'slack' | 'teams', render: (summary: MessageSummary) => Record<string, unknown>, gone: string[], options: GuardedHttpOptions): Channel & { close(): void } {
  const client = guardedHttp(options);
  return {
    kind,
    async send(delivery: OutgoingDelivery, message: NotificationMessage) {
      const body = JSON.stringify(render(summarize(message)));
      const answer = await client.post(delivery.target, { 'content-type': 'application/json', 'user-agent': 'statushub-notify', 'idempotency-key': delivery.id }, body);
      return isFailure(answer) ? answer : chatResult(answer.status, answer.body, gone, retryAfterMs(answer.headers['retry-after']));
    },
    close: () => client.close(),
  };
}
