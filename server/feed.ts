import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialsFrom, resolveViewer } from './auth/resolve-viewer.js';
import type { Db } from './db/client.js';
import { nodeRequestUrl } from './http/request.js';
import type { IncidentRow, IncidentUpdateRow } from './db/tables/index.js';
import { DomainError } from './domain/errors.js';
import { listIncidents } from './read/incidents.js';
import { createLoaders } from './read/loaders.js';

/**
 * GET /history.atom: the latest incidents one audience can see, as an Atom feed (RFC 4287).
 * The viewer is resolved exactly as for /badge.svg: `?audience=public|deployment:<slug>` (public
 * when left out and no token is given) and `?access_token=` for a protected deployment; a refused
 * audience answers 403. Incidents and updates come from the audience-filtered reads, and an entry
 * carries only public fields: title, times and the updates' public messages.
 */

export const FEED_PATH = '/history.atom';
export const FEED_SIZE = 50;

export interface FeedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

// XML 1.0 forbids most C0 controls even escaped; a stray one in a message would break every reader.
const invalidXmlChars = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Text for an XML element or attribute value. */
export function xmlText(text: string): string {
  return text.replace(invalidXmlChars, '').replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const feedHeaders = { 'content-type': 'application/atom+xml; charset=utf-8', 'x-content-type-options': 'nosniff', vary: 'Cookie, Authorization' };

const utc = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const humanize = (value: string) => value.charAt(0).toUpperCase() + value.slice(1).replace(/_/g, ' ');

/** The updates' public messages, oldest first, each under its status and time. */
function entryContent(updates: IncidentUpdateRow[]): string {
  return [...updates]
    .reverse()
    .map((u) => `${humanize(u.status)} (${utc(u.createdAt)}): ${u.message}`)
    .join('\n\n');
}

function entryUpdated(incident: IncidentRow, updates: IncidentUpdateRow[]): Date {
  const times = [incident.updatedAt, incident.startedAt, incident.resolvedAt, incident.postmortemPublishedAt, ...updates.map((u) => u.createdAt)];
  return new Date(Math.max(...times.filter((t): t is Date => t instanceof Date).map((t) => t.getTime())));
}

export async function feed(db: Db, url: URL, header: (name: string) => string | null | undefined): Promise<FeedResponse> {
  const credentials = credentialsFrom(url, header);
  // Like the badge: a feed reader gets the public slice unless an audience or a token says otherwise.
  if (!credentials.audience && !credentials.bearer) credentials.audience = 'public';
  try {
    const viewer = await resolveViewer(db, credentials);
    const { edges } = await listIncidents(db, viewer, { state: 'all', first: FEED_SIZE });
    const incidents = edges.map((e) => e.node);
    // The per-viewer loader: one audience-filtered query, split by incident.
    const updatesByIncident = createLoaders(db, viewer).updatesByIncident;
    const updates = await Promise.all(incidents.map((i) => updatesByIncident.load(i.id)));

    const origin = url.origin;
    // The feed's own address, minus the secret: a feed reader may show or share it.
    const selfParams = new URLSearchParams(url.search);
    selfParams.delete('access_token');
    const self = `${origin}${FEED_PATH}${selfParams.size ? `?${selfParams}` : ''}`;
    // A deployment's own incidents open on the incident page read as that deployment.
    const linkQuery = viewer.audience.kind === 'deployment' ? `?deployment=${encodeURIComponent(viewer.audience.slug)}` : '';
    const entries = incidents.map((incident, i) => {
      const own = updates[i]!;
      return { incident, own, updated: entryUpdated(incident, own) };
    });
    const feedUpdated = entries.reduce((latest, e) => (e.updated > latest ? e.updated : latest), viewer.page.createdAt ?? new Date(0));
    const title = `${viewer.page.name} status history`;

    const body = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:statushub:page:${xmlText(viewer.page.id)}:history</id>
  <title>${xmlText(title)}</title>
  <updated>${feedUpdated.toISOString()}</updated>
  <author><name>${xmlText(viewer.page.name)}</name></author>
  <link rel="self" type="application/atom+xml" href="${xmlText(self)}"/>
  <link rel="alternate" type="text/html" href="${xmlText(`${origin}/history`)}"/>
${entries
  .map(
    ({ incident, own, updated }) => `  <entry>
    <id>urn:statushub:incident:${xmlText(incident.id)}</id>
    <title>${xmlText(incident.title)}</title>
    <updated>${updated.toISOString()}</updated>
    <published>${incident.startedAt.toISOString()}</published>
    <link rel="alternate" type="text/html" href="${xmlText(`${origin}/incidents/${encodeURIComponent(incident.id)}${linkQuery}`)}"/>
    <content type="text">${xmlText(entryContent(own))}</content>
  </entry>
`,
  )
  .join('')}</feed>
`;
    return {
      status: 200,
      // Anything but the public slice stays out of shared caches.
      headers: { ...feedHeaders, 'cache-control': viewer.audience.kind === 'public' ? 'public, max-age=60' : 'private, max-age=60' },
      body,
    };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const code = String(error.extensions.code);
    const status = code === 'input/invalid' ? 400 : code === 'page/not_found' ? 404 : 403;
    return { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: 'This feed is not available.\n' };
  }
}

/** The Node handler for GET /history.atom. */
export function feedHandler(db: Db) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = nodeRequestUrl(req);
    if (!url) return void res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Request\n');
    const header = (name: string) => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    const answer = await feed(db, url, header);
    res.writeHead(answer.status, answer.headers).end(req.method === 'HEAD' ? undefined : answer.body);
  };
}

