import type { IncomingMessage } from 'node:http';
import { credentialsFrom, type Credentials } from '../auth/resolve-viewer.js';
import { DomainError } from '../domain/errors.js';
import { headerReader, nodeRequestUrl } from '../http/request.js';

/** Credentials from a Node request (SSE requests, the WebSocket upgrade). */
export function credentialsFromNode(request: IncomingMessage): Credentials {
  const url = nodeRequestUrl(request);
  // Plain HTTP requests with such a Host never get here (server/http/server.ts answers 400); a WebSocket
  // upgrade does, and is refused with a typed code.
  if (!url) throw new DomainError('input/invalid', 'The Host header or request target is malformed', { field: 'host' });
  const credentials = credentialsFrom(url, headerReader(request));
  // NOTE: browsers send the session cookie with a WebSocket handshake from any page of the same
  // site, and no CORS check stands in the way; a socket opened by another origin is anonymous.
  if (credentials.sessionToken && !sameOrigin(request.headers.origin, url)) credentials.sessionToken = null;
  return credentials;
}

/** No Origin header (not a browser, or a same-origin GET) or one naming this host. */
function sameOrigin(origin: string | undefined, url: URL): boolean {
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === url.host;
  } catch {
    return false;
  }
}
