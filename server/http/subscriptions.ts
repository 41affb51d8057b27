import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from '../db/client.js';
import type { SubscriberRow } from '../db/tables/index.js';
import { readBody } from './request.js';
import { DomainError, invalidInput } from '../domain/errors.js';
import { confirmSubscription, describeSubscription, shownTarget, subscriberByToken, unsubscribe, updatePreferences } from '../services/subscriptions.js';

/**
 * The links of subscription emails (docs/API.md, *Email*):
 * - `GET /subscriptions/confirm?token=` activates a pending subscriber (double opt-in);
 * - `GET /subscriptions/manage?token=` shows what is followed (JSON when asked), a form to change it
 *   (`POST` the same URL: `follow=everything`, or `follow=some` with `component=<id>` / `group=<id>`
 *   repeated; or JSON `{ componentIds, groupIds }`), and unsubscribe;
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
    const showManage = async (row: SubscriberRow, json: boolean, notice: string) => {
      const info = await describeSubscription(db, row);
      if (json) return void res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(info));
      const follows = typeof info.follows === 'string' ? info.follows : info.follows.map(escape).join(', ') || 'nothing this audience can see now';
      const box = (name: string, id: string, label: string, checked: boolean) =>
        `<label><input type="checkbox" name="${name}" value="${escape(id)}"${checked ? ' checked' : ''}> ${escape(label)}</label><br>`;
      const choices = info.choices
        .map((section) => (section.group ? `<p>${box('group', section.group.id, `All of ${section.group.name}`, section.group.followed)}` : '<p>') + section.components.map((c) => box('component', c.id, c.name, c.followed)).join('') + '</p>')
        .join('');
      const everything = info.follows === 'everything';
      const preferences =
        info.state === 'unsubscribed'
          ? ''
          : `<form method="post" action="/subscriptions/manage?token=${encodeURIComponent(token ?? '')}"><fieldset><legend>Send me updates about</legend>` +
            `<label><input type="radio" name="follow" value="everything"${everything ? ' checked' : ''}> Everything</label><br>` +
            `<label><input type="radio" name="follow" value="some"${everything ? '' : ' checked'}> Only what I tick:</label>${choices}</fieldset><button type="submit">Save</button></form>`;
      return page(
        200,
        `Your subscription to ${info.page}`,
        `${notice ? `<p role="status">${escape(notice)}</p>` : ''}<p>${escape(info.target)} (${escape(info.state)}), ${escape(info.audience)} updates: ${follows}.</p>${preferences}${info.state === 'unsubscribed' ? '' : unsubscribeForm}`,
      );
    };
    // Only a preferences form is read (small); anything else a request carries is not: every action is in the URL.
    const body = action === 'manage' && method === 'POST' ? (await readBody(req, MAX_FORM))?.toString('utf8') : (req.resume(), '');
    if (body === undefined) return void res.writeHead(413, { 'content-type': 'text/plain' }).end('Payload Too Large');

    if (action === 'unsubscribe' && method === 'POST') {
      const row = await unsubscribe(db, token);
      if (!row) return invalid();
      return page(200, 'Unsubscribed', `<p>${escape(shownTarget(row))} will receive no more updates.</p>`);
    }
    const wantsJson = req.headers.accept?.includes('application/json') ?? false;
    if (action === 'manage' && method === 'POST') {
      let row;
      try {
        row = await updatePreferences(db, token, preferencesFrom(body, req.headers['content-type'] ?? ''));
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        if (wantsJson) return void res.writeHead(400, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ error: { message: error.message, ...error.extensions } }));
        return page(400, 'Not saved', `<p>${escape(error.message)}.</p><p><a href="/subscriptions/manage?token=${encodeURIComponent(token ?? '')}">Back</a></p>`);
      }
      if (!row) return invalid();
      return showManage(row, wantsJson, 'Saved.');
    }
    if (method !== 'GET' && method !== 'HEAD') return void res.writeHead(405, { allow: action === 'unsubscribe' || action === 'manage' ? 'GET, HEAD, POST' : 'GET, HEAD', 'content-type': 'text/plain' }).end('Method Not Allowed');
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
      return showManage(row, wantsJson, '');
    }
    return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
  };
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The preferences form (urlencoded) or JSON (`{ componentIds, groupIds }`; both empty: everything); `input/invalid` when it cannot be read. */
function preferencesFrom(body: string, contentType: string): { componentIds: string[]; groupIds: string[] } {
  if (contentType.includes('application/json')) {
    let value: { componentIds?: unknown; groupIds?: unknown } | null;
    try {
      value = JSON.parse(body) as { componentIds?: unknown; groupIds?: unknown } | null;
    } catch {
      throw invalidInput('body', 'is not JSON');
    }
    const list = (x: unknown, field: string) => {
      if (x === undefined) return [];
      if (Array.isArray(x) && x.every((i) => typeof i === 'string')) return x as string[];
      throw invalidInput(field, 'must be a list of ids');
    };
    return { componentIds: list(value?.componentIds, 'componentIds'), groupIds: list(value?.groupIds, 'groupIds') };
  }
  const form = new URLSearchParams(body);
  if (form.get('follow') === 'everything') return { componentIds: [], groupIds: [] };
  const choice = { componentIds: form.getAll('component'), groupIds: form.getAll('group') };
  if (!choice.componentIds.length && !choice.groupIds.length) throw invalidInput('componentIds', 'tick at least one, or choose Everything');
  return choice;
}

/** A preferences form is a few hundred bytes. */
const MAX_FORM = 64 * 1024;
