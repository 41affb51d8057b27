import { credentialsFrom, resolveViewer } from '../auth/resolve-viewer.js';
import type { Db } from '../db/client.js';
import { routeHandler } from './request.js';
import { DomainError } from '../domain/errors.js';
import { maintenanceDescription, type Impact } from '../domain/vocabulary.js';
import { readPageStatus } from '../read/summary.js';

/**
 * GET /badge.svg: a shields-style "status | <description>" badge for one audience.
 * `?audience=public|deployment:<slug>` (public when left out and no token is given) and
 * `?access_token=` for a protected deployment. The viewer is resolved exactly as for /graphql and
 * the status is `readPageStatus`, so a badge shows only what its audience may see. A refused
 * audience answers 403 with a grey "unavailable" badge: the same for a protected and a missing
 * deployment.
 */

export interface BadgeResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const colors: Record<Impact | 'maintenance' | 'unavailable', string> = {
  none: '#4c1',
  minor: '#dfb317',
  major: '#fe7d37',
  critical: '#e05d44',
  maintenance: '#007ec6',
  unavailable: '#9f9f9f',
};

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Verdana 11px is about 6–7 px a character; shields pads 5 px each side. */
function textWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += /[A-Z mwMW]/.test(ch) ? 7.5 : /[il.,:;|!' ]/.test(ch) ? 3.5 : 6.5;
  return Math.ceil(width) + 10;
}

export function renderBadgeSvg(label: string, message: string, color: string, title: string): string {
  const lw = textWidth(label);
  const mw = textWidth(message);
  const w = lw + mw;
  const [l, m, t] = [escapeXml(label), escapeXml(message), escapeXml(title)];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${t}">
<title>${t}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${mw}" height="20" fill="${color}"/><rect width="${w}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="${lw / 2}" y="15" fill="#010101" fill-opacity=".3">${l}</text><text x="${lw / 2}" y="14">${l}</text>
<text x="${lw + mw / 2}" y="15" fill="#010101" fill-opacity=".3">${m}</text><text x="${lw + mw / 2}" y="14">${m}</text>
</g>
</svg>
`;
}

const svgHeaders = { 'content-type': 'image/svg+xml; charset=utf-8', 'x-content-type-options': 'nosniff', vary: 'Cookie, Authorization' };

export async function badge(db: Db, url: URL, header: (name: string) => string | null | undefined): Promise<BadgeResponse> {
  const credentials = credentialsFrom(url, header);
  // A badge is for embedding: it shows the public slice unless an audience or a token says otherwise
  // (never, by default, what a signed-in staff member's cookie would unlock).
  if (!credentials.audience && !credentials.bearer) credentials.audience = 'public';
  try {
    const viewer = await resolveViewer(db, credentials);
    const status = await readPageStatus(db, viewer);
    const color = status.indicator === 'none' && status.description === maintenanceDescription ? colors.maintenance : colors[status.indicator];
    return {
      status: 200,
      // Anything but the public slice stays out of shared caches.
      headers: { ...svgHeaders, 'cache-control': viewer.audience.kind === 'public' ? 'public, max-age=30' : 'private, max-age=30' },
      body: renderBadgeSvg('status', status.description, color, `${viewer.page.name} status: ${status.description}`),
    };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const code = String(error.extensions.code);
    const status = code === 'input/invalid' ? 400 : code === 'page/not_found' ? 404 : 403;
    return {
      status,
      headers: { ...svgHeaders, 'cache-control': 'no-store' },
      body: renderBadgeSvg('status', 'unavailable', colors.unavailable, 'status: unavailable'),
    };
  }
}

/** The Node handler `server/http/server.ts` routes `/badge.svg` to. */
export function badgeHandler(db: Db) {
  return routeHandler((url, header) => badge(db, url, header));
}
