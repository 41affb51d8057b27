import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from '../db/client.js';
import { confirmSubscription, describeSubscription, shownTarget, subscriberByToken, unsubscribe } from '../services/subscriptions.js';

/**
 * The links of subscription emails (docs/API.md, *Email*):
 * - `GET /subscriptions/confirm?token=` activates a pending subscriber (double opt-in);
 * - `GET /subscriptions/manage?token=` shows what is followed (JSON when asked), with unsubscribe;
 * - `POST /subscriptions/unsubscribe?token=` unsubscribes at once (RFC 8058 one-click; idempotent);
 *   `GET` of it shows a button that POSTs, so a link scanner following links unsubscribes nobody.
 */
export function subscriptionsHandler(db: Db) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const token = url.searchParams.get('token');
    const action = url.pathname.replace(/^\/subscriptions\//, '');
    const method = req.method ?? 'GET';
    const page = (status: number, title: string, body: string) =>
      void res
        .writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
        .end(method === 'HEAD' ? undefined : `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`);
    const invalid = () => page(404, 'Link not valid', '<p>This link is not valid (any more).</p>');
    const unsubscribeForm = `<form method="post" action="/subscriptions/unsubscribe?token=${encodeURIComponent(token ?? '')}"><button type="submit">Unsubscribe</button></form>`;
    // Whatever the request carries, it is not read: every action is in the URL.
    req.resume();

    if (action === 'unsubscribe' && method === 'POST') {
      const row = await unsubscribe(db, token);
      if (!row) return invalid();
      return page(200, 'Unsubscribed', `<p>${escape(shownTarget(row))} will receive no more updates.</p>`);
    }
    if (method !== 'GET' && method !== 'HEAD') return void res.writeHead(405, { allow: action === 'unsubscribe' ? 'GET, HEAD, POST' : 'GET, HEAD', 'content-type': 'text/plain' }).end('Method Not Allowed');
    if (action === 'confirm') {
      const row = await confirmSubscription(db, token);
      if (!row) return invalid();
      return page(200, 'Subscription confirmed', `<p>${escape(shownTarget(row))} will receive updates.</p>`);
    }
    if (action === 'unsubscribe') {
      const row = await subscriberByToken(db, token, 'manage');
      if (!row) return invalid();
      return page(200, 'Unsubscribe?', `<p>Stop sending updates to ${escape(shownTarget(row))}?</p>${unsubscribeForm}`);
    }
    if (action === 'manage') {
      const row = await subscriberByToken(db, token, 'manage');
      if (!row) return invalid();
      const info = await describeSubscription(db, row);
      if (req.headers.accept?.includes('application/json')) {
        return void res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(info));
      }
      const follows = typeof info.follows === 'string' ? info.follows : info.follows.map(escape).join(', ') || 'nothing this audience can see now';
      return page(
        200,
        `Your subscription to ${info.page}`,
        `<p>${escape(info.target)} (${escape(info.state)}), ${escape(info.audience)} updates: ${follows}.</p>${info.state === 'unsubscribed' ? '' : unsubscribeForm}`,
      );
    }
    return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
  };
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
