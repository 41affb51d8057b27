import type { IncomingMessage, ServerResponse } from 'node:http';

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

/** How routes read a request header (URL-based routes and the credentials adapter alike). */
export type HeaderReader = (name: string) => string | undefined;

/**
 * One header of a Node request. Node already folds repeated request headers into one value
 * (only `set-cookie` stays an array), so the first element is the value either way.
 */
export function headerReader(req: Pick<IncomingMessage, 'headers'>): HeaderReader {
  return (name) => {
    const value = req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  };
}

/** What a route computed from its URL and headers answers (badge, feeds, the Statuspage API). */
export interface RouteAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/**
 * The Node handler of such a route: 400 for a request whose URL cannot be formed, the answer's
 * status and headers, and no body for HEAD.
 */
export function routeHandler(compute: (url: URL, header: HeaderReader, req: IncomingMessage) => RouteAnswer | Promise<RouteAnswer>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = nodeRequestUrl(req);
    if (!url) return void res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Request\n');
    const answer = await compute(url, headerReader(req), req);
    res.writeHead(answer.status, answer.headers).end(req.method === 'HEAD' ? undefined : answer.body);
  };
}

/** The bytes of a body up to `limit`; undefined past it (the caller answers 413). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > limit) {
        done = true;
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', reject);
  });
}
