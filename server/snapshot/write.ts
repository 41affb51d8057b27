import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rmdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { resolveViewer } from '../auth/resolve-viewer.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { deployments, pages, type PageRow } from '../db/tables/index.js';
import { DomainError } from '../domain/errors.js';
import { statuspageAnswer, statuspageEndpoints } from '../http/statuspage-api.js';
import { listDeployments } from '../read/catalog.js';
import type { SpIncident } from '../read/statuspage.js';
import { renderStaticPage, type SnapshotSummary } from './render-page.js';

/**
 * The static snapshot: for every page, the public page and each open deployment's page as HTML
 * plus their `/api/v2/*.json`, laid out so that a plain static server answers the hub's URLs:
 *
 *   index.html, api/v2/summary.json, …                 the page `/` shows (the default page)
 *   d/<slug>/index.html, d/<slug>/api/v2/…              each open deployment of that page
 *   pages/<page-slug>/index.html, …/api/v2/…, …/d/…     every other page, same layout inside
 *
 * Every document is read as an anonymous caller asking for `public` or `deployment:<slug>`: the
 * viewer comes from `resolveViewer` and the JSON from `statuspageAnswer`, the functions the live
 * `/api/v2` route runs, so the snapshot sees exactly what an outsider sees and no rule is restated
 * here. A protected deployment resolves to a refusal and gets no directory; internal never appears.
 *
 * Files are replaced atomically (a temp file in the same directory, renamed into place) and only
 * when their bytes changed. What a previous run wrote and this one does not (a deployment made
 * protected or deleted, a page removed) is deleted, from a manifest of our own files
 * (`.statushub-snapshot.json`): nothing else in the directory is touched. If reading fails (the
 * database is down) nothing is written and nothing is deleted: the last snapshot stays.
 */

export interface SnapshotOptions {
  /** The hub's public origin (`https://status.example.com`): links in the JSON and the page. */
  origin: string;
  /** Only these pages (the watcher's per-event rewrite); every page when absent. */
  pageIds?: readonly string[];
}

export interface SnapshotFile {
  /** Relative to the snapshot directory, `/`-separated. */
  path: string;
  body: string;
}

export interface SnapshotResult {
  written: string[];
  unchanged: number;
  removed: string[];
  /** Audiences written: `<page-slug>:public`, `<page-slug>:deployment:<slug>`. */
  audiences: string[];
}

export const manifestName = '.statushub-snapshot.json';
interface Manifest {
  version: 1;
  /** Page id → the files written for it. */
  pages: Record<string, string[]>;
}

// The only names a path segment may have: slugs are validated by the services (and by
// resolveViewer, which refuses anything else), this keeps a path from ever leaving the directory.
const slugPattern = /^[a-z0-9-]{1,63}$/;
const safePath = /^(?:[a-z0-9][a-z0-9._-]*\/)*[a-z0-9][a-z0-9._-]*$/;
const isSafe = (p: string) => safePath.test(p) && !p.split('/').includes('..');

/** Where a page's own URLs live: the root for the page `/` shows, `pages/<slug>/` for the others. */
export function pageDirectory(page: PageRow, rootPageId: string): string {
  return page.id === rootPageId ? '' : `pages/${page.slug}/`;
}

/** The page a request with no `?page=` and an unknown host gets: the hub's own rule. */
async function rootPageId(db: Db): Promise<string | null> {
  try {
    return (await resolveViewer(db, { audience: 'public' })).page.id;
  } catch (error) {
    if (error instanceof DomainError) return null;
    throw error;
  }
}

function originOf(page: PageRow, origin: string): string {
  // A page with its own domain is served there (the hub picks it by Host).
  if (!page.customDomain) return origin;
  return `${new URL(origin).protocol}//${page.customDomain}`;
}

/** The viewer an anonymous request for this audience resolves to, or null when it is refused. */
async function outsider(db: Db, page: PageRow, audience: string): Promise<Viewer | null> {
  try {
    const viewer = await resolveViewer(db, { pageSlug: page.slug, audience });
    // resolveViewer never gives an anonymous caller more; checked so no change there can widen this.
    if (viewer.actor.type !== 'anonymous' || viewer.audience.kind === 'internal') throw new Error(`snapshot: ${audience} resolved to ${viewer.audience.kind}`);
    return viewer;
  } catch (error) {
    if (error instanceof DomainError) return null;
    throw error;
  }
}

/** One audience's files under `prefix` (`''` or `d/<slug>/`), or null when it is refused. */
async function collectAudience(db: Db, page: PageRow, origin: string, audience: string, prefix: string): Promise<SnapshotFile[] | null> {
  const viewer = await outsider(db, page, audience);
  if (!viewer) return null;
  const deploymentName = viewer.audience.kind === 'deployment' ? ((await listDeployments(db, viewer))[0]?.name ?? viewer.audience.slug) : null;
  const files: SnapshotFile[] = [];
  const bodies = new Map<string, string>();
  for (const endpoint of statuspageEndpoints) {
    // The route's own document for this viewer, serialised as the route serialises it.
    const body = JSON.stringify(await statuspageAnswer(db, viewer, origin, endpoint));
    bodies.set(endpoint, body);
    files.push({ path: `${prefix}api/v2/${endpoint}`, body });
  }
  const summary = JSON.parse(bodies.get('summary.json')!) as SnapshotSummary;
  const history = (JSON.parse(bodies.get('incidents.json')!) as { incidents: SpIncident[] }).incidents;
  files.unshift({ path: `${prefix}index.html`, body: renderStaticPage({ summary, history, accentColor: page.branding.accentColor, deploymentName }) });
  return files;
}

/** Every file of one page, relative to the page's own directory, and the audiences written. */
export async function collectPage(db: Db, page: PageRow, origin: string): Promise<{ files: SnapshotFile[]; audiences: string[] }> {
  const files: SnapshotFile[] = [];
  const audiences: string[] = [];
  const pageOrigin = originOf(page, origin);
  const publicFiles = await collectAudience(db, page, pageOrigin, 'public', '');
  if (publicFiles) {
    files.push(...publicFiles);
    audiences.push(`${page.slug}:public`);
  }
  // Candidates only: each is resolved as an outsider above, which refuses a protected one.
  const open = await db
    .select({ slug: deployments.slug })
    .from(deployments)
    .where(and(eq(deployments.pageId, page.id), eq(deployments.access, 'open')))
    .orderBy(asc(deployments.slug));
  for (const { slug } of open) {
    if (!slugPattern.test(slug)) continue;
    const deploymentFiles = await collectAudience(db, page, pageOrigin, `deployment:${slug}`, `d/${slug}/`);
    if (!deploymentFiles) continue;
    files.push(...deploymentFiles);
    audiences.push(`${page.slug}:deployment:${slug}`);
  }
  return { files, audiences };
}

async function readManifest(dir: string): Promise<Manifest> {
  try {
    const parsed = JSON.parse(await readFile(path.join(dir, manifestName), 'utf8')) as Manifest;
    if (parsed?.version === 1 && parsed.pages && typeof parsed.pages === 'object') return parsed;
  } catch {
    // None yet (or unreadable): nothing of ours to clean up.
  }
  return { version: 1, pages: {} };
}

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null;
  }
}

/** Replace `file` with `body` unless it already holds exactly that; true when written. */
export async function writeAtomically(file: string, body: string): Promise<boolean> {
  if ((await readOrNull(file)) === body) return false;
  await mkdir(path.dirname(file), { recursive: true });
  // Same directory, so the rename is atomic: a reader gets the old file or the new one, never half.
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, body, { flag: 'wx', mode: 0o644 });
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  return true;
}

/** Remove a file of ours and then its directories while they are empty, up to `dir`. */
async function removeFile(dir: string, relative: string): Promise<boolean> {
  try {
    await unlink(path.join(dir, relative));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return false;
  }
  const parts = relative.split('/').slice(0, -1);
  while (parts.length) {
    try {
      await rmdir(path.join(dir, ...parts));
    } catch {
      break; // not empty (or gone): leave it
    }
    parts.pop();
  }
  return true;
}

/** Write the snapshot into `dir` (created if needed). */
export async function writeSnapshot(db: Db, dir: string, options: SnapshotOptions): Promise<SnapshotResult> {
  const origin = new URL(options.origin).origin;
  // Read everything first: a failure here (database down) leaves the directory as it was.
  const root = await rootPageId(db);
  const chosen = options.pageIds
    ? options.pageIds.length
      ? await db.select().from(pages).where(inArray(pages.id, [...options.pageIds]))
      : []
    : await db.select().from(pages).orderBy(asc(pages.createdAt));
  const collected = new Map<string, { files: SnapshotFile[]; audiences: string[] }>();
  for (const page of chosen) {
    if (!slugPattern.test(page.slug)) continue;
    const { files, audiences } = await collectPage(db, page, origin);
    const prefix = root ? pageDirectory(page, root) : `pages/${page.slug}/`;
    collected.set(page.id, { files: files.map((f) => ({ path: `${prefix}${f.path}`, body: f.body })), audiences });
  }

  for (const { files } of collected.values()) for (const file of files) if (!isSafe(file.path)) throw new Error(`snapshot: refusing path ${JSON.stringify(file.path)}`);

  await mkdir(dir, { recursive: true });
  const manifest = await readManifest(dir);
  const before = JSON.stringify(manifest);
  // New paths go into the manifest before their files exist, so a run cut short (a crash, a full
  // disk) never leaves a file of ours that a later run would not know to remove.
  const claimed: Manifest = { version: 1, pages: { ...manifest.pages } };
  for (const [pageId, { files }] of collected) claimed.pages[pageId] = [...new Set([...(manifest.pages[pageId] ?? []), ...files.map((f) => f.path)])];
  if (JSON.stringify(claimed) !== before) await writeAtomically(path.join(dir, manifestName), `${JSON.stringify(claimed, null, 1)}\n`);
  const result: SnapshotResult = { written: [], unchanged: 0, removed: [], audiences: [] };
  for (const [pageId, { files, audiences }] of collected) {
    for (const file of files) {
      if (await writeAtomically(path.join(dir, file.path), file.body)) result.written.push(file.path);
      else result.unchanged++;
    }
    result.audiences.push(...audiences);
    const previous = manifest.pages[pageId] ?? [];
    manifest.pages[pageId] = files.map((f) => f.path);
    await removeStale(dir, manifest, previous, result);
  }
  // Pages asked for that no longer exist, or (on a full run) any page that is gone.
  const gone = Object.keys(manifest.pages).filter((id) => !collected.has(id) && (!options.pageIds || options.pageIds.includes(id)));
  for (const pageId of gone) {
    const previous = manifest.pages[pageId] ?? [];
    delete manifest.pages[pageId];
    await removeStale(dir, manifest, previous, result);
  }
  await writeAtomically(path.join(dir, manifestName), `${JSON.stringify(manifest, null, 1)}\n`);
  return result;
}

/** Delete what a page had and no longer has, unless a page (this one or another) now owns that path. */
async function removeStale(dir: string, manifest: Manifest, previous: string[], result: SnapshotResult): Promise<void> {
  const keep = new Set<string>();
  for (const paths of Object.values(manifest.pages)) if (Array.isArray(paths)) for (const p of paths) keep.add(p);
  for (const stale of previous) {
    if (keep.has(stale) || typeof stale !== 'string' || !isSafe(stale)) continue;
    if (await removeFile(dir, stale)) result.removed.push(stale);
  }
}
