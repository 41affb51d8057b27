import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Audience } from '../../server/auth/audience.js';
import { audienceViewer } from '../../server/auth/viewer.js';
import type { Db } from '../../server/db/client.js';
import {
  componentGroups,
  components,
  deployments,
  incidentComponents,
  incidents,
  maintenanceComponents,
  maintenances,
  pages,
  type DeploymentRow,
  type PageRow,
} from '../../server/db/tables/index.js';
import { entityKey, visibleEntityKeys } from '../../server/read/event-visibility.js';
import { componentVisibleTo, deploymentVisibleTo, groupVisibleTo, storyVisibleTo, visibilityAdmits } from '../../server/read/visibility.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * The rules of server/read/visibility.ts are written twice: as SQL for reads, and for a row held in
 * memory (an event's `before`, judged for the live hub). fast-check generates pages of groups
 * (public or internal; shared or owned by one of three deployments), components (public or internal,
 * in a group or not), and incidents and maintenance (public or internal, page-wide or not, over any
 * set of components); for every audience, what the SQL lets through (`visibleEntityKeys`, the
 * hub's own query) must be exactly what the in-memory rules say of the same rows.
 */

let database: TestDatabase;
let page: PageRow;
let owners: DeploymentRow[];

beforeAll(async () => {
  database = await createTestDatabase();
  const [row] = await database.db.insert(pages).values({ slug: 'visibility-rules', name: 'Visibility rules' }).returning();
  page = row!;
  owners = await database.db
    .insert(deployments)
    .values(['a', 'b', 'c'].map((slug) => ({ pageId: page.id, slug, name: slug.toUpperCase() })))
    .returning();
});

afterAll(async () => {
  await database?.destroy();
});

const visibility = fc.constantFrom('public' as const, 'internal' as const);
const pageShape = fc.record({
  groups: fc.array(fc.record({ visibility, owner: fc.option(fc.nat(2), { nil: null }) }), { maxLength: 4 }),
  components: fc.array(fc.record({ visibility, group: fc.option(fc.nat(), { nil: null }) }), { maxLength: 7 }),
  stories: fc.array(
    fc.record({ maintenance: fc.boolean(), visibility, pageWide: fc.boolean(), affects: fc.uniqueArray(fc.nat(), { maxLength: 4 }) }),
    { maxLength: 5 },
  ),
});
type PageShape = typeof pageShape extends fc.Arbitrary<infer T> ? T : never;

class Rollback extends Error {}

/** Writes the page in a transaction that is always rolled back, and hands it to `check` first. */
async function withPage(shape: PageShape, check: (db: Db) => Promise<void>): Promise<void> {
  try {
    await database.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      const groupIds: string[] = [];
      for (const [i, g] of shape.groups.entries()) {
        const [row] = await tx
          .insert(componentGroups)
          .values({ pageId: page.id, name: `G${i}`, visibility: g.visibility, deploymentId: g.owner === null ? null : owners[g.owner]!.id })
          .returning();
        groupIds.push(row!.id);
      }
      const componentIds: string[] = [];
      for (const [i, c] of shape.components.entries()) {
        const groupId = c.group === null || !groupIds.length ? null : groupIds[c.group % groupIds.length]!;
        const [row] = await tx.insert(components).values({ pageId: page.id, name: `C${i}`, visibility: c.visibility, groupId }).returning();
        componentIds.push(row!.id);
      }
      for (const [i, s] of shape.stories.entries()) {
        const affected = componentIds.length ? [...new Set(s.affects.map((n) => componentIds[n % componentIds.length]!))] : [];
        if (s.maintenance) {
          const [row] = await tx
            .insert(maintenances)
            .values({ pageId: page.id, title: `M${i}`, visibility: s.visibility, pageWide: s.pageWide, scheduledStart: new Date(), scheduledEnd: new Date(Date.now() + 3_600_000) })
            .returning();
          if (affected.length) await tx.insert(maintenanceComponents).values(affected.map((componentId) => ({ maintenanceId: row!.id, componentId })));
        } else {
          const [row] = await tx.insert(incidents).values({ pageId: page.id, title: `I${i}`, status: 'investigating', visibility: s.visibility, pageWide: s.pageWide }).returning();
          if (affected.length) await tx.insert(incidentComponents).values(affected.map((componentId) => ({ incidentId: row!.id, componentId, status: 'major_outage' as const })));
        }
      }
      await check(db);
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
}

/** The same page judged row by row with the in-memory rules; also checks that each rule's first condition is `visibilityAdmits`. */
async function judgedInMemory(db: Db, audience: Audience): Promise<Set<string>> {
  const [groups, comps, deps, incs, incLinks, mains, mainLinks] = await Promise.all([
    db.select().from(componentGroups).where(eq(componentGroups.pageId, page.id)),
    db.select().from(components).where(eq(components.pageId, page.id)),
    db.select().from(deployments).where(eq(deployments.pageId, page.id)),
    db.select().from(incidents).where(eq(incidents.pageId, page.id)),
    db.select({ storyId: incidentComponents.incidentId, componentId: incidentComponents.componentId }).from(incidentComponents),
    db.select().from(maintenances).where(eq(maintenances.pageId, page.id)),
    db.select({ storyId: maintenanceComponents.maintenanceId, componentId: maintenanceComponents.componentId }).from(maintenanceComponents),
  ]);
  const keys = new Set<string>();
  const admitted = (visible: boolean, row: { visibility: string }) => {
    if (visible) expect(visibilityAdmits(audience, row.visibility)).toBe(true);
    return visible;
  };
  const groupById = new Map(groups.map((g) => [g.id, g]));
  for (const g of groups) if (admitted(groupVisibleTo(audience, g), g)) keys.add(entityKey('group', g.id));
  const seen = new Set<string>();
  for (const c of comps) {
    const group = c.groupId === null ? undefined : groupById.get(c.groupId);
    if (admitted(componentVisibleTo(audience, c, group !== undefined && groupVisibleTo(audience, group)), c)) {
      seen.add(c.id);
      keys.add(entityKey('component', c.id));
    }
  }
  for (const d of deps) if (deploymentVisibleTo(audience, d)) keys.add(entityKey('deployment', d.id));
  for (const [kind, rows, links] of [['incident', incs, incLinks], ['maintenance', mains, mainLinks]] as const) {
    for (const s of rows) {
      const seesAnAffectedComponent = links.some((l) => l.storyId === s.id && seen.has(l.componentId));
      if (admitted(storyVisibleTo(audience, s, seesAnAffectedComponent), s)) keys.add(entityKey(kind, s.id));
    }
  }
  return keys;
}

it('the in-memory rules agree with the SQL rules for every audience, on generated pages', async () => {
  const audiences: Audience[] = [
    { kind: 'public' },
    ...owners.slice(0, 2).map((d): Audience => ({ kind: 'deployment', deploymentId: d.id, slug: d.slug })),
    { kind: 'internal' },
  ];
  const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
  const runs = Number(process.env.FC_RUNS ?? 100);
  let nonTrivial = 0;
  await fc.assert(
    fc.asyncProperty(pageShape, async (shape) => {
      await withPage(shape, async (db) => {
        const answers: Set<string>[] = [];
        for (const audience of audiences) {
          const bySql = await visibleEntityKeys(db, audienceViewer(page, audience));
          expect([...(await judgedInMemory(db, audience))].sort(), audience.kind).toEqual([...bySql].sort());
          answers.push(bySql);
        }
        // Something besides deployments that customers see, and something staff see that some customer does not.
        const [internal, ...customers] = [answers.at(-1)!, ...answers.slice(0, -1)];
        const notDeployment = (key: string) => !key.startsWith('deployment:');
        const shared = customers.some((a) => [...a].some(notDeployment));
        const hidden = [...internal].some((key) => notDeployment(key) && customers.some((a) => !a.has(key)));
        if (shared && hidden) nonTrivial++;
      });
    }),
    { numRuns: runs, seed, path: process.env.FC_PATH },
  );
  expect(nonTrivial).toBeGreaterThan(runs / 5);
});
