import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Channel, NotificationMessage, OutgoingDelivery, SendResult } from './channel.js';

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

/** Whether an address is one a hub must not be made to call (SSRF): loopback, private, link-local, unspecified, multicast. */
export function isPrivateAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    return (
      a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a >= 224
    );
  }
  if (version === 6) {
    const v6 = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
    if (mapped) return isPrivateAddress(mapped[1]!);
    return v6 === '::' || v6 === '::1' || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6) || v6.startsWith('ff');
  }
  return true;
}

/**
 * A DNS lookup that refuses private addresses: every address the name resolves to is checked, and
 * the connection is made to one of those checked (no second lookup a rebinding DNS could answer
 * differently).
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as unknown as LookupAddress[];
      const refused = allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
      if (refused || !list.length) return callback(Object.assign(new Error(`refused: ${hostname} resolves to a private address`), { code: 'EPRIVATE' }), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

export function webhookChannel(options: WebhookOptions): Channel & { close(): void } {
  const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };
  const lookup = guardedLookup(options.allowPrivateTargets);

  function post(delivery: OutgoingDelivery, body: string): Promise<SendResult> {
    let url: URL;
    try {
      url = new URL(delivery.target);
    } catch {
      return Promise.resolve({ ok: false, retryable: false, disable: false, error: 'invalid URL' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.resolve({ ok: false, retryable: false, disable: false, error: 'not an http(s) URL' });
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !options.allowPrivateTargets && isPrivateAddress(host)) {
      return Promise.resolve({ ok: false, retryable: false, disable: false, error: 'refused: private address' });
    }
    const timestamp = new Date();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'statushub-webhooks',
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signatureHeader(delivery.signingSecrets, delivery.id, timestamp, body),
    };
    const secure = url.protocol === 'https:';
    return new Promise<SendResult>((resolve) => {
      const request = (secure ? https : http).request(
        url,
        { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent: secure ? agents.https : agents.http, lookup },
        (response) => {
          const status = response.statusCode ?? 0;
          response.resume();
          response.on('end', () => resolve(resultOf(status)));
          response.on('error', () => resolve(resultOf(status)));
        },
      );
      // The whole attempt (DNS, connect, answer) within the timeout, not only each idle stretch.
      const timer = setTimeout(() => request.destroy(Object.assign(new Error(`timed out after ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })), options.timeoutMs);
      request.on('close', () => clearTimeout(timer));
      request.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ ok: false, retryable: error.code !== 'EPRIVATE', disable: false, error: error.message.slice(0, 500) }),
      );
      request.end(body);
    });
  }

  return {
    kind: 'webhook',
    send: (delivery: OutgoingDelivery, message: NotificationMessage) => post(delivery, JSON.stringify(message)),
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
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
