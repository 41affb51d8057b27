import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';
import { parseCookies, sessionCookie } from '../auth/resolve-viewer.js';
import { DomainError } from '../domain/errors.js';

/** The header the web app sends with every request; any value. */
export const csrfHeader = 'x-statushub-csrf';

/**
 * CSRF prevention for cookie sessions, by yoga's plugin: a request runs only if a browser would
 * have preflighted it (a content type other than a form's or text/plain, or the x-statushub-csrf
 * header). Applied to every POST (a form post could sign someone in, or run a mutation with their
 * cookie) and to every request carrying the session cookie. A GET without the cookie (curl, a
 * link, a feed reader's query) has nothing to forge and runs as before; a GET cannot mutate.
 */
export function useCsrfPrevention(): Plugin {
  const inner = useCSRFPrevention({ requestHeaders: [csrfHeader, 'x-graphql-yoga-csrf'] });
  return {
    onRequestParse(payload) {
      const { request } = payload;
      const read = request.method === 'GET' || request.method === 'HEAD';
      if (read && !parseCookies(request.headers.get('cookie')).has(sessionCookie)) return;
      try {
        return inner.onRequestParse!(payload);
      } catch {
        throw new DomainError('auth/csrf_header_required', `Send the request as JSON or with an ${csrfHeader} header`, { http: { status: 403 } });
      }
    },
  };
}
