import type { IncomingMessage } from 'node:http';

/**
 * A Host header as RFC 9110 allows it: a registered name, an IPv4 address or a bracketed IPv6
 * literal, and an optional port. Anything else (`[`, `a b`, `a/b`) makes the request's URL
 * unparseable, so it is refused with 400 before any route sees it.
 */
const hostPattern = /^(?:[A-Za-z0-9._~-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::(\d{1,5}))?$/;

export function isValidHost(host: string): boolean {
  const match = hostPattern.exec(host);
  if (!match || (match[1] !== undefined && Number(match[1]) > 65_535)) return false;
  try {
    new URL(`http://${host}/`);
    return true;
  } catch {
    return false;
  }
}

/**
 * The URL of a Node request, or null when its Host header or target cannot form one: only an
 * origin-form target (`/path?query`) is served. Built the way yoga's Node adapter builds it
 * (`http://` + Host + target), so a request that passes here cannot fail there (where the
 * failure would be answered with a stack trace). No Host header (HTTP/1.0) reads as `localhost`.
 */
export function nodeRequestUrl(req: Pick<IncomingMessage, 'url' | 'headers'>): URL | null {
  const host = req.headers.host ?? 'localhost';
  const target = req.url ?? '/';
  if (!isValidHost(host) || !target.startsWith('/')) return null;
  try {
    return new URL(`http://${host}${target}`);
  } catch {
    return null;
  }
}
