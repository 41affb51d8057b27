import type { Channel, NotificationMessage, OutgoingDelivery, SendResult } from './channel.js';
import { guardedHttp, isFailure, retryAfterMs, type GuardedHttpOptions } from './http.js';
import { clip, summarize, type MessageSummary } from './summary.js';

/**
 * SMS: a short text (page, what changed, link; at most 320 characters, two segments) through an
 * `SmsProvider`. The one provider here speaks Twilio's Messages API; anything that answers the
 * same way (a Twilio-compatible gateway, a local fake in tests) works by `SMS_PROVIDER_URL`.
 */

export interface SmsProvider {
  /** Send `body` to `to` (E.164); `idempotencyKey` is the same on every retry of one message. */
  send(to: string, body: string, idempotencyKey: string): Promise<SendResult>;
  close(): void;
}

export interface TwilioOptions extends GuardedHttpOptions {
  /** The API's base URL (`https://api.twilio.com`). */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** The sending number (E.164) or a Messaging Service SID (`MG…`). */
  from: string;
}

/**
 * Twilio errors about the recipient's number: it will never work (disable the subscriber).
 * 21211 invalid `To`, 21214 not reachable, 21610 unsubscribed (STOP), 21612 cannot route,
 * 21614 not a mobile number, 21408 no permission for that region.
 */
const NUMBER_GONE = new Set([21211, 21214, 21408, 21610, 21612, 21614]);

export function twilioProvider(options: TwilioOptions): SmsProvider {
  const client = guardedHttp(options);
  const url = `${options.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
  const auth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  return {
    async send(to, body, idempotencyKey) {
      const form = new URLSearchParams({ To: to, [options.from.startsWith('MG') ? 'MessagingServiceSid' : 'From']: options.from, Body: body }).toString();
      const answer = await client.post(
        url,
        { 'content-type': 'application/x-www-form-urlencoded', authorization: auth, accept: 'application/json', 'user-agent': 'statushub-notify', 'i-twilio-idempotency-token': idempotencyKey },
        form,
      );
      if (isFailure(answer)) return answer;
      const status = answer.status;
      if (status >= 200 && status < 300) return { ok: true, status, retryable: false, disable: false };
      let code: number | undefined;
      let text = '';
      try {
        const parsed = JSON.parse(answer.body) as { code?: number; message?: string };
        code = parsed.code;
        text = parsed.message ?? '';
      } catch {
        text = answer.body.slice(0, 200);
      }
      const error = `HTTP ${status}${code ? ` (${code})` : ''}${text ? `: ${text.slice(0, 300)}` : ''}`;
      if (code !== undefined && NUMBER_GONE.has(code)) return { ok: false, status, retryable: false, disable: true, error };
      // 429 and 5xx: later; 401/403: credentials being fixed, later too; any other 4xx: this message is refused.
      const retryable = status === 429 || status >= 500 || status === 401 || status === 403 || status === 408;
      const after = retryable ? retryAfterMs(answer.headers['retry-after']) : undefined;
      return { ok: false, status, retryable, disable: false, ...(after !== undefined ? { retryAfterMs: after } : {}), error };
    },
    close: () => client.close(),
  };
}

export const SMS_MAX = 320;

/** `Page: API: Operational → Major outage https://…` or `Page: Incident — Investigating: update text https://…`, at most 320 characters. */
export function smsText(s: MessageSummary): string {
  const link = s.link ? ` ${s.link}` : '';
  const head = s.kind === 'incident' ? `${s.pageName}: ${s.title} — ${s.state}` : `${s.pageName}: ${s.title}: ${s.state}`;
  const text = s.text ? `${head}: ${s.text}` : head;
  return `${clip(text, SMS_MAX - link.length)}${link}`;
}

export function smsChannel(provider: SmsProvider): Channel & { close(): void } {
  return {
    kind: 'sms',
    send: (delivery: OutgoingDelivery, message: NotificationMessage) => provider.send(delivery.target, smsText(summarize(message)), delivery.id),
    close: () => provider.close(),
  };
}
