import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { Channel, NotificationMessage, OutgoingDelivery, SendResult } from './channel.js';
import { guardedHttp, isFailure } from './http.js';

/**
 * Webhooks per the Standard Webhooks convention (https://www.standardwebhooks.com/): a JSON POST
 * with `webhook-id` (the delivery's idempotency key, the same on every retry), `webhook-timestamp`
 * and `webhook-signature` (one `v1,…` per active secret, so a receiver holding either secret
 * verifies during a rotation). The body is Statuspage's webhook shape (docs/API.md, *Webhooks*).
 */

export interface WebhookOptions {
  /** Give up on one attempt after this long (15–30 s is what receivers expect). */
  timeoutMs: number;
  /** Deliver to loopback, private and link-local addresses (tests, closed networks). */
  allowPrivateTargets: boolean;
}

/** A new signing secret: `whsec_` and 24 random bytes, base64 (what `standardwebhooks` reads). */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** The signature header for these secrets: `v1,<sig>` for each, space-separated. */
export function signatureHeader(secrets: string[], id: string, timestamp: Date, body: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(id, timestamp, body)).join(' ');
}

/** The Standard Webhooks headers of one request: its id, this attempt's time, and a signature per secret. */
export function signedHeaders(secrets: string[], id: string, body: string): Record<string, string> {
  const timestamp = new Date();
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signatureHeader(secrets, id, timestamp, body),
  };
}

export { isPrivateAddress } from './http.js';

export function webhookChannel(options: WebhookOptions): Channel & { close(): void } {
  const client = guardedHttp(options);
  return {
    kind: 'webhook',
    async send(delivery: OutgoingDelivery, message: NotificationMessage) {
      const body = JSON.stringify(message);
      const answer = await client.post(delivery.target, { 'content-type': 'application/json', 'user-agent': 'statushub-webhooks', ...signedHeaders(delivery.signingSecrets, delivery.id, body) }, body);
      return isFailure(answer) ? answer : resultOf(answer.status);
    },
    close: () => client.close(),
  };
}

/**
 * 2xx: delivered; 410: the receiver is gone for good (disable it); anything else is tried again
 * (a receiver answering 404 or 401 is most often being fixed), until the retry period ends.
 */
function resultOf(status: number): SendResult {
  if (status >= 200 && status < 300) return { ok: true, status, retryable: false, disable: false };
  if (status === 410) return { ok: false, status, retryable: false, disable: true, error: 'HTTP 410 Gone' };
  return { ok: false, status, retryable: true, disable: false, error: `HTTP ${status}` };
}
