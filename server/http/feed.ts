import { credentialsFrom, resolveViewer } from '../auth/resolve-viewer.js';
import type { Db } from '../db/client.js';
import { routeHandler } from './request.js';
import type { IncidentRow, IncidentUpdateRow } from '../db/tables/index.js';
import { DomainError } from '../domain/errors.js';
import type { Viewer } from '../auth/viewer.js';
import { listIncidents } from '../read/incidents.js';
import { createLoaders } from '../read/loaders.js';

/**
 * GET /history.atom: the latest incidents one audience can see, as an Atom feed (RFC 4287), and
 * GET /history.rss: the same entries as RSS 2.0 (https://www.rssboard.org/rss-specification).
 * The viewer is resolved exactly as for /badge.svg: `?audience=public|deployment:<slug>` (public
 * when left out and no token is given) and `?access_token=` for a protected deployment; a refused
 * audience answers 403. Incidents and updates come from the audience-filtered reads, and an entry
 * carries only public fields: title, times and the updates' public messages.
 */

export const FEED_PATH = '/history.atom';
export const RSS_PATH = '/history.rss';
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
const rssHeaders = { ...feedHeaders, 'content-type': 'application/rss+xml; charset=utf-8' };

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

interface FeedEntry {
  incident: IncidentRow;
  own: IncidentUpdateRow[];
  updated: Date;
  link: string;
}

interface FeedData {
  viewer: Viewer;
  origin: string;
  /** The feed's own address for `path`, minus the secret: a feed reader may show or share it. */
  self: (path: string) => string;
  title: string;
  updated: Date;
  entries: FeedEntry[];
}

/** What both feeds show: the viewer's latest incidents through the audience-filtered reads. */
async function feedData(db: Db, url: URL, header: (name: string) => string | null | undefined): Promise<FeedData> {
  const credentials = credentialsFrom(url, header);
  // Like the badge: a feed reader gets the public slice unless an audience or a token says otherwise.
  if (!credentials.audience && !credentials.bearer) credentials.audience = 'public';
  const viewer = await resolveViewer(db, credentials);
  const { edges } = await listIncidents(db, viewer, { state: 'all', first: FEED_SIZE });
  const incidents = edges.map((e) => e.node);
  // The per-viewer loader: one audience-filtered query, split by incident.
  const updatesByIncident = createLoaders(db, viewer).updatesByIncident;
  const updates = await Promise.all(incidents.map((i) => updatesByIncident.load(i.id)));

  const origin = url.origin;
  const selfParams = new URLSearchParams(url.search);
  selfParams.delete('access_token');
  // A deployment's own incidents open on the incident page read as that deployment.
  const linkQuery = viewer.audience.kind === 'deployment' ? `?deployment=${encodeURIComponent(viewer.audience.slug)}` : '';
  const entries = incidents.map((incident, i) => {
    const own = updates[i]!;
    return { incident, own, updated: entryUpdated(incident, own), link: `${origin}/incidents/${encodeURIComponent(incident.id)}${linkQuery}` };
  });
  return {
    viewer,
    origin,
    self: (path) => `${origin}${path}${selfParams.size ? `?${selfParams}` : ''}`,
    title: `${viewer.page.name} status history`,
    updated: entries.reduce((latest, e) => (e.updated > latest ? e.updated : latest), viewer.page.createdAt ?? new Date(0)),
    entries,
  };
}

function refused(error: unknown): FeedResponse {
  if (!(error instanceof DomainError)) throw error;
  const code = String(error.extensions.code);
  const status = code === 'input/invalid' ? 400 : code === 'page/not_found' ? 404 : 403;
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: 'This feed is not available.\n' };
}

// Anything but the public slice stays out of shared caches.
const cacheControl = (viewer: Viewer) => (viewer.audience.kind === 'public' ? 'public, max-age=60' : 'private, max-age=60');

export async function feed(db: Db, url: URL, header: (name: string) => string | null | undefined): Promise<FeedResponse> {
  let data: FeedData;
  try {
    data = await feedData(db, url, header);
  } catch (error) {
    return refused(error);
  }
  const { viewer, origin, entries, title } = data;
  const body = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:statushub:page:${xmlText(viewer.page.id)}:history</id>
  <title>${xmlText(title)}</title>
  <updated>${data.updated.toISOString()}</updated>
  <author><name>${xmlText(viewer.page.name)}</name></author>
  <link rel="self" type="application/atom+xml" href="${xmlText(data.self(FEED_PATH))}"/>
  <link rel="alternate" type="text/html" href="${xmlText(`${origin}/history`)}"/>
${entries
  .map(
    ({ incident, own, updated, link }) => `  <entry>
    <id>urn:statushub:incident:${xmlText(incident.id)}</id>
    <title>${xmlText(incident.title)}</title>
    <updated>${updated.toISOString()}</updated>
    <published>${incident.startedAt.toISOString()}</published>
    <link rel="alternate" type="text/html" href="${xmlText(link)}"/>
    <content type="text">${xmlText(entryContent(own))}</content>
  </entry>
`,
  )
  .join('')}</feed>
`;
  return { status: 200, headers: { ...feedHeaders, 'cache-control': cacheControl(viewer) }, body };
}

/** GET /history.rss: the same entries as RSS 2.0, dates in RFC 822 form as RSS requires. */
export async function rss(db: Db, url: URL, header: (name: string) => string | null | undefined): Promise<FeedResponse> {
  let data: FeedData;
  try {
    data = await feedData(db, url, header);
  } catch (error) {
    return refused(error);
  }
  const { viewer, origin, entries, title } = data;
  const body = `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>${xmlText(title)}</title>
    <link>${xmlText(`${origin}/history`)}</link>
    <description>${xmlText(`Incident history of ${viewer.page.name}`)}</description>
    <lastBuildDate>${data.updated.toUTCString()}</lastBuildDate>
    <atom:link rel="self" type="application/rss+xml" href="${xmlText(data.self(RSS_PATH))}"/>
${entries
  .map(
    ({ incident, own, link }) => `    <item>
      <title>${xmlText(incident.title)}</title>
      <link>${xmlText(link)}</link>
      <guid isPermaLink="false">urn:statushub:incident:${xmlText(incident.id)}</guid>
      <pubDate>${incident.startedAt.toUTCString()}</pubDate>
      <description>${xmlText(entryContent(own))}</description>
    </item>
`,
  )
  .join('')}  </channel>
</rss>
`;
  return { status: 200, headers: { ...rssHeaders, 'cache-control': cacheControl(viewer) }, body };
}

/** The Node handler for GET /history.atom. */
export function feedHandler(db: Db) {
  return routeHandler((url, header) => feed(db, url, header));
}


/** The Node handler for GET /history.rss. */
export function rssHandler(db: Db) {
  return routeHandler((url, header) => rss(db, url, header));
}
