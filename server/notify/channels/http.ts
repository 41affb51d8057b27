import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { SendResult } from './channel.js';

/**
 * Outgoing HTTP for every channel (webhook, Slack, Teams, the SMS provider): one POST with the
 * SSRF guard (no loopback, private or link-local targets unless allowed, checked on every address
 * a name resolves to, with no second lookup a rebinding DNS could answer differently) and one
 * timeout over the whole attempt.
 */

export interface GuardedHttpOptions {
  /** Give up on one attempt after this long. */
  timeoutMs: number;
  /** Send to loopback, private and link-local addresses (tests, closed networks). */
  allowPrivateTargets: boolean;
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

/** A DNS lookup that refuses private addresses: every address the name resolves to is checked, and the connection is made to one of those. */
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

/** What came back: the status, headers and (up to 64 KiB of) the body. */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A failed attempt before any answer: `retryable` false for a refused or malformed target. */
export type HttpFailure = Omit<SendResult, 'ok' | 'status'> & { ok: false };

export interface GuardedHttp {
  post(target: string, headers: Record<string, string>, body: string): Promise<HttpAnswer | HttpFailure>;
  close(): void;
}

const MAX_ANSWER = 64 * 1024;

export function guardedHttp(options: GuardedHttpOptions): GuardedHttp {
  const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };
  const lookup = guardedLookup(options.allowPrivateTargets);
  const fail = (error: string, retryable = false): HttpFailure => ({ ok: false, retryable, disable: false, error });

  function post(target: string, headers: Record<string, string>, body: string): Promise<HttpAnswer | HttpFailure> {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return Promise.resolve(fail('invalid URL'));
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.resolve(fail('not an http(s) URL'));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !options.allowPrivateTargets && isPrivateAddress(host)) return Promise.resolve(fail('refused: private address'));
    const secure = url.protocol === 'https:';
    return new Promise((resolve) => {
      const request = (secure ? https : http).request(
        url,
        { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent: secure ? agents.https : agents.http, lookup },
        (response) => {
          const status = response.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (c: Buffer) => {
            if (size < MAX_ANSWER) chunks.push(c);
            size += c.length;
          });
          const done = () => resolve({ status, headers: response.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER) });
          response.on('end', done);
          response.on('error', done);
        },
      );
      // The whole attempt (DNS, connect, answer) within the timeout, not only each idle stretch.
      const timer = setTimeout(() => request.destroy(Object.assign(new Error(`timed out after ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })), options.timeoutMs);
      request.on('close', () => clearTimeout(timer));
      request.on('error', (error: NodeJS.ErrnoException) => resolve(fail(error.message.slice(0, 500), error.code !== 'EPRIVATE')));
      request.end(body);
    });
  }

  return {
    post,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/** A `Retry-After` header (seconds or an HTTP date) in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export const isFailure = (answer: HttpAnswer | HttpFailure): answer is HttpFailure => 'ok' in answer;
