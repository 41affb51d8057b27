import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemViewer } from '../../server/auth/viewer.js';
import { pages } from '../../server/db/tables/index.js';
import { listComponents } from '../../server/read/catalog.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import * as maintenance from '../../server/services/maintenance.js';
import { manifestName, writeSnapshot } from '../../server/snapshot/write.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

/**
 * The snapshot is a viewer like any other: an anonymous caller of the public page and of each open
 * deployment. Staff prove in the same test that every hidden thing exists; then every file the
 * snapshot wrote (the manifest too) is read and searched for it.
 */

let hub: TestHub;
let dir: string;
let staff: string;
const ids: Record<string, string> = {};

/** Every file under `root`, dotfiles included, as relative path → text. */
function readTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const full = join(at, name);
      if (statSync(full).isDirectory()) walk(full);
      else files.set(relative(root, full), readFileSync(full, 'utf8'));
    }
  };
  walk(root);
  return files;
}

const origin = 'https://status.example.test';

beforeAll(async () => {
  hub = await startTestHub();
  dir = mkdtempSync(join(tmpdir(), 'statushub-snapshot-'));
  const s = hub.system;
  staff = await hub.apiToken(['read:internal']);

  // Public: ungrouped, so the page shows it without opening a group.
  const pub = await catalog.createComponent(s, { name: 'PUBLIC-component' });
  const internal = await catalog.createComponent(s, { name: 'HIDE-internal-component', visibility: 'internal' });
  const prot = await catalog.createDeployment(s, { slug: 'prot-1', name: 'PROT-deployment', access: 'protected' });
  const open = await catalog.createDeployment(s, { slug: 'open-1', name: 'OPEN-deployment', access: 'open' });
  const protGroup = await catalog.createGroup(s, { name: 'PROT-group', deploymentId: prot.id });
  const openGroup = await catalog.createGroup(s, { name: 'OPEN-group', deploymentId: open.id });
  const protComponent = await catalog.createComponent(s, { name: 'PROT-component', groupId: protGroup.id });
  const openComponent = await catalog.createComponent(s, { name: 'OPEN-component', groupId: openGroup.id });
  Object.assign(ids, { pub: pub.id, internal: internal.id, prot: prot.id, open: open.id, protComponent: protComponent.id, openComponent: openComponent.id });

  ids.publicIncident = (
    await incidents.createIncident(s, {
      title: 'PUBLIC-incident',
      message: 'PUBLIC-message',
      internalNote: 'HIDE-internal-note',
      // The public update changed an internal and a protected component too: those changes stay hidden.
      components: [
        { componentId: pub.id, status: 'partial_outage' },
        { componentId: internal.id, status: 'major_outage' },
        { componentId: protComponent.id, status: 'degraded_performance' },
      ],
    })
  ).id;
  ids.internalIncident = (await incidents.createIncident(s, { title: 'HIDE-internal-incident', message: 'HIDE-internal-message', visibility: 'internal' })).id;
  ids.protIncident = (
    await incidents.createIncident(s, { title: 'PROT-incident', message: 'PROT-message', components: [{ componentId: protComponent.id, status: 'major_outage' }] })
  ).id;
  ids.openIncident = (
    await incidents.createIncident(s, { title: 'OPEN-incident', message: 'OPEN-message', components: [{ componentId: openComponent.id, status: 'major_outage' }] })
  ).id;
  const soon = new Date(Date.now() + 3_600_000);
  const later = new Date(soon.getTime() + 3_600_000);
  ids.internalMaintenance = (
    await maintenance.createMaintenance(s, { title: 'HIDE-internal-maintenance', body: 'HIDE-internal-body', scheduledStart: soon, scheduledEnd: later, visibility: 'internal' })
  ).id;
  ids.protMaintenance = (
    await maintenance.createMaintenance(s, { title: 'PROT-maintenance', body: 'PROT-body', scheduledStart: soon, scheduledEnd: later, componentIds: [protComponent.id] })
  ).id;
});

afterAll(async () => {
  await hub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('snapshot isolation', () => {
  it('writes only what each outsider may see: public markers at the root, public + own in the open deployment, nothing of the protected one or of staff', async () => {
    // Staff see every hidden marker (so "not written" below means something).
    const asStaff = await hub.gql(
      `{ components { id name } deployments { slug name access }
         incidents(first: 100) { edges { node { id title updates { message staff { internalNote } componentChanges { componentId name } } } } }
         maintenances { id title body } }`,
      {},
      { token: staff },
    );
    expect(asStaff.errors).toBeUndefined();
    const staffText = JSON.stringify(asStaff.data);
    const hidden = ['HIDE-internal-component', 'HIDE-internal-note', 'HIDE-internal-incident', 'HIDE-internal-message', 'HIDE-internal-maintenance', 'PROT-deployment', 'PROT-component', 'PROT-incident', 'PROT-maintenance', 'prot-1'];
    for (const marker of [...hidden, 'OPEN-component', 'OPEN-incident', 'PUBLIC-incident']) expect(staffText, `staff see ${marker}`).toContain(marker);
    for (const id of [ids.internal, ids.protComponent, ids.internalIncident, ids.protIncident, ids.internalMaintenance, ids.protMaintenance]) expect(staffText).toContain(id);

    const result = await writeSnapshot(hub.database.db, dir, { origin });
    const page = hub.page.slug;
    expect(result.audiences.sort()).toEqual([`${page}:deployment:open-1`, `${page}:public`]);

    const files = readTree(dir);
    const publicFiles = [...files].filter(([path]) => !path.startsWith('d/') && path !== manifestName);
    const openFiles = [...files].filter(([path]) => path.startsWith('d/open-1/'));
    expect(publicFiles.map(([p]) => p).sort()).toEqual(
      ['index.html', ...['summary', 'status', 'components', 'incidents', 'incidents/unresolved', 'scheduled-maintenances', 'scheduled-maintenances/upcoming', 'scheduled-maintenances/active'].map((e) => `api/v2/${e}.json`)].sort(),
    );
    expect(openFiles).toHaveLength(publicFiles.length);
    // The protected deployment has no directory at all; d/ holds the open one only.
    expect(readdirSync(join(dir, 'd'))).toEqual(['open-1']);

    for (const [path, text] of files) {
      for (const marker of hidden) expect(text, `${path} must not contain ${marker}`).not.toContain(marker);
      for (const id of [ids.internal, ids.protComponent, ids.internalIncident, ids.protIncident, ids.internalMaintenance, ids.protMaintenance, ids.prot]) expect(text, `${path} must not name ${id}`).not.toContain(id);
    }
    for (const [path, text] of publicFiles) {
      expect(text, path).not.toContain('OPEN-');
      expect(text, path).not.toContain(ids.openComponent);
    }
    const html = files.get('index.html')!;
    for (const marker of ['PUBLIC-component', 'PUBLIC-incident', 'PUBLIC-message', 'Last updated']) expect(html).toContain(marker);
    const openHtml = files.get('d/open-1/index.html')!;
    for (const marker of ['PUBLIC-component', 'PUBLIC-incident', 'OPEN-component', 'OPEN-incident', 'OPEN-message', 'OPEN-deployment', 'Last updated']) expect(openHtml).toContain(marker);
    expect(files.get('d/open-1/api/v2/summary.json')).toContain('OPEN-incident');
    expect(JSON.parse(files.get('api/v2/summary.json')!).page.url).toBe(`${origin}/`);
  });

  it('a second run writes nothing when nothing public changed, even after an internal change', async () => {
    await incidents.createIncident(hub.system, { title: 'HIDE-internal-later', message: 'HIDE-internal-later', visibility: 'internal' });
    await catalog.updateComponent(hub.system, ids.internal!, { status: 'major_outage' });
    const result = await writeSnapshot(hub.database.db, dir, { origin });
    expect(result.written).toEqual([]);
    expect(result.removed).toEqual([]);
    for (const [path, text] of readTree(dir)) expect(text, path).not.toContain('HIDE-');
  });

  it('a deployment made protected loses its directory on the next run; staff still see it', async () => {
    await catalog.updateDeployment(hub.system, ids.open!, { access: 'protected' });
    const asStaff = await hub.gql('{ deployments { slug access } }', {}, { token: staff });
    expect(asStaff.data.deployments).toContainEqual({ slug: 'open-1', access: 'protected' });

    const result = await writeSnapshot(hub.database.db, dir, { origin });
    expect(result.removed).toContain('d/open-1/index.html');
    expect(result.removed).toContain('d/open-1/api/v2/summary.json');
    expect(readdirSync(dir).sort()).toEqual([manifestName, 'api', 'index.html'].sort());
    for (const [path, text] of readTree(dir)) {
      expect(text, path).not.toContain('OPEN-');
      expect(text, path).not.toContain('open-1');
    }
  });

  it("another page of the hub is written under pages/<slug>/ with its own slice, and never into the default page's files", async () => {
    const [other] = await hub.database.db.insert(pages).values({ slug: 'other', name: 'Other page' }).returning();
    const ctx = { db: hub.database.db, viewer: systemViewer(other!, 'test') };
    await catalog.createComponent(ctx, { name: 'OTHER-public-component' });
    await catalog.createComponent(ctx, { name: 'HIDE-other-internal', visibility: 'internal' });
    // Staff of that page read it (so "not written" below means something).
    expect((await listComponents(hub.database.db, ctx.viewer)).map((c) => c.name)).toContain('HIDE-other-internal');

    const result = await writeSnapshot(hub.database.db, dir, { origin });
    expect(result.audiences).toContain('other:public');
    const files = readTree(dir);
    expect(files.get('pages/other/index.html')).toContain('OTHER-public-component');
    expect(JSON.parse(files.get('pages/other/api/v2/components.json')!).components.map((c: { name: string }) => c.name)).toEqual(['OTHER-public-component']);
    for (const [path, text] of files) {
      expect(text, path).not.toContain('HIDE-');
      if (!path.startsWith('pages/') && path !== manifestName) expect(text, path).not.toContain('OTHER-');
    }
    // Only the pages' own views: the default page at the root, the other page under pages/.
    expect(readdirSync(join(dir, 'pages'))).toEqual(['other']);
    expect(files.get('index.html')).toContain('PUBLIC-component');
  });
});
