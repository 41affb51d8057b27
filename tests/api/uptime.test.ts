import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../../server/db/tables/index.js';
import type { ComponentStatus } from '../../server/domain/vocabulary.js';
import * as catalog from '../../server/services/catalog.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

/**
 * Daily uptime from the event log: intervals are rebuilt from component status events with
 * chosen timestamps (the component is created with a backdated event, later changes are inserted;
 * events are append-only, so nothing is moved afterwards).
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;
const today = (() => {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
})();
const day = (offset: number) => today + offset * DAY;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let hub: TestHub;
let staff: string;
let tracked: string;
let internal: string;

/** Create a component whose creation event is recorded at `at`. */
async function createdAt(at: number, input: Parameters<typeof catalog.createComponent>[1]): Promise<string> {
  return (await catalog.createComponent({ ...hub.system, eventTime: new Date(at) }, input)).id;
}

/** Record status changes of a component at chosen times. */
async function history(componentId: string, changes: Array<[number, ComponentStatus]>): Promise<void> {
  const { db } = hub.database;
  let previous: ComponentStatus = 'operational';
  for (const [at, status] of changes) {
    await db.insert(events).values({
      pageId: hub.page.id,
      actorType: 'system',
      actorName: 'test',
      action: 'component.status_changed',
      entityType: 'component',
      entityId: componentId,
      before: { id: componentId, status: previous },
      after: { id: componentId, status },
      createdAt: new Date(at),
    });
    previous = status;
  }
}

const uptimeQuery = `query ($id: ID!, $days: Int) { component(id: $id) { uptime(days: $days) { date uptimePercent worstStatus } uptimePercent(days: $days) } }`;

beforeAll(async () => {
  hub = await startTestHub();
  staff = await hub.apiToken(['read:internal']);
  await hub.gql('{ page { slug } }', {}, { token: staff });

  tracked = await createdAt(day(-5), { name: 'API' });
  await history(tracked, [
    [day(-4) + 6 * HOUR, 'major_outage'],
    [day(-4) + 12 * HOUR, 'operational'],
    // day -3: 12 h maintenance (excluded), 6 h partial outage (down), 6 h operational (up)
    [day(-3), 'under_maintenance'],
    [day(-3) + 12 * HOUR, 'partial_outage'],
    [day(-3) + 18 * HOUR, 'operational'],
    // day -2: entirely under maintenance; day -1: degraded counts as up
    [day(-2), 'under_maintenance'],
    [day(-1), 'degraded_performance'],
    [day(-1) + 12 * HOUR, 'operational'],
  ]);

  internal = await createdAt(day(-2), { name: 'Internal DB', visibility: 'internal' });
  await history(internal, [[day(-1), 'major_outage'], [day(-1) + 6 * HOUR, 'operational']]);
});
afterAll(() => hub.close());

describe('Component.uptime', () => {
  it('cuts status intervals into UTC days; partial outage is down, degraded is up, maintenance is left out', async () => {
    const { data, errors } = await hub.gql(uptimeQuery, { id: tracked, days: 7 });
    expect(errors).toBeUndefined();
    const days = data.component.uptime;
    expect(days).toHaveLength(7);
    expect(days.map((d: { date: string }) => d.date)).toEqual([-6, -5, -4, -3, -2, -1, 0].map((o) => iso(day(o))));
    const byOffset = (o: number) => days[6 + o];
    // Before the component existed: nothing measured.
    expect(byOffset(-6)).toEqual({ date: iso(day(-6)), uptimePercent: null, worstStatus: null });
    expect(byOffset(-5)).toMatchObject({ uptimePercent: 100, worstStatus: 'operational' });
    expect(byOffset(-4)).toMatchObject({ uptimePercent: 75, worstStatus: 'major_outage' });
    expect(byOffset(-3)).toMatchObject({ uptimePercent: 50, worstStatus: 'partial_outage' });
    expect(byOffset(-2)).toMatchObject({ uptimePercent: null, worstStatus: 'under_maintenance' });
    expect(byOffset(-1)).toMatchObject({ uptimePercent: 100, worstStatus: 'degraded_performance' });
    // Overall: up = 24 + 18 + 6 + 24 (+ today) hours, down = 6 + 6 hours.
    const todayUpHours = (Date.now() - today) / HOUR;
    const expected = ((72 + todayUpHours) / (84 + todayUpHours)) * 100;
    expect(data.component.uptimePercent).toBeCloseTo(expected, 2);
  });

  it('defaults to 90 days, oldest first and today last; more than 90 is refused', async () => {
    const { data } = await hub.gql(uptimeQuery, { id: tracked });
    expect(data.component.uptime).toHaveLength(90);
    expect(data.component.uptime[89].date).toBe(iso(today));
    expect(data.component.uptime[0].date).toBe(iso(day(-89)));
    expect(data.component.uptime.slice(0, 84).every((d: { uptimePercent: unknown }) => d.uptimePercent === null)).toBe(true);
    const tooMany = await hub.gql(uptimeQuery, { id: tracked, days: 91 });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('input/invalid');
  });

  it('a status held since before the window opens is carried into it', async () => {
    const old = await createdAt(day(-200), { name: 'Old' });
    await history(old, [[day(-120), 'major_outage']]);
    const { data } = await hub.gql(uptimeQuery, { id: old, days: 3 });
    expect(data.component.uptime.map((d: { uptimePercent: number }) => d.uptimePercent)).toEqual([0, 0, 0]);
    expect(data.component.uptimePercent).toBe(0);
    await catalog.deleteComponent(hub.system, old);
  });

  it('the public cannot reach an internal component\'s uptime; staff can', async () => {
    const hidden = await hub.gql(uptimeQuery, { id: internal, days: 3 });
    expect(hidden.data?.component ?? null).toBeNull();
    expect(hidden.errors?.[0]?.extensions?.code).toBe('component/not_found');
    const all = await hub.gql('{ components { name uptime(days: 3) { worstStatus } } }');
    expect(JSON.stringify(all.data)).not.toContain('Internal DB');
    const seen = await hub.gql(uptimeQuery, { id: internal, days: 3 }, { token: staff });
    expect(seen.errors).toBeUndefined();
    expect(seen.data.component.uptime[1]).toMatchObject({ date: iso(day(-1)), uptimePercent: 75, worstStatus: 'major_outage' });
  });

  it('costs the same number of statements for 2 and for 20 components', async () => {
    const fresh = await startTestHub();
    try {
      const count = async () => {
        const before = fresh.database.queries.count;
        const result = await fresh.gql('{ components { name uptime { date uptimePercent worstStatus } uptimePercent u7: uptimePercent(days: 7) } }');
        expect(result.errors).toBeUndefined();
        return { statements: fresh.database.queries.count - before, components: result.data.components.length };
      };
      for (let i = 0; i < 2; i++) await catalog.createComponent(fresh.system, { name: `C${i}` });
      const two = await count();
      for (let i = 2; i < 20; i++) await catalog.createComponent(fresh.system, { name: `C${i}` });
      const twenty = await count();
      expect(two.components).toBe(2);
      expect(twenty.components).toBe(20);
      expect(twenty.statements).toBe(two.statements);
    } finally {
      await fresh.close();
    }
  });
});
