import type { IncomingMessage } from 'node:http';
import { credentialsFrom, type Credentials } from '../auth/resolve-viewer.js';

/** Credentials from a Node request (SSE requests, the WebSocket upgrade). */
export function credentialsFromNode(request: IncomingMessage): Credentials {
  const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
  return credentialsFrom(url, (name) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  });
}
