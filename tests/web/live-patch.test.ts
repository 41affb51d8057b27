import type { Client } from '@urql/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { effectScope, nextTick, ref } from 'vue';
import { REFETCH_SPREAD_MS, useLiveSummary } from '../../web/src/composables/useLiveSummary';
import { REFETCH_DEBOUNCE_MS } from '../../web/src/composables/useLiveRefresh';
import type { StatusPageEvent } from '../../web/src/graphql/live';
import type { IncidentItem, MaintenanceItem, StatusPageSummary } from '../../web/src/graphql/summary';
import { applyPageEvent } from '../../web/src/live-patch';
import { decodeUptime, encodeUptime } from '../../server/domain/uptime-compact';

const day = (date: string, worstStatus: StatusPageSummary['groups'][number]['status'] | null = 'operational') => ({ date, uptimePercent: 100, worstStatus });
const utcDay = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
// Bars end today, as the server draws them.
const component = (id: string, name: string) => ({ id, name, status: 'operational' as const, uptimePercent: 100, uptimeCompact: encodeUptime([day(utcDay(-1)), day(utcDay(0))]) });

function summary(): StatusPageSummary {
  return {
    audience: 'public',
    page: { name: 'Acme' },
    status: { indicator: 'none', description: 'All Systems Operational' },
    ungroupedComponents: [component('c0', 'Website')],
    groups: [
      { id: 'g1', name: 'API', status: 'operational', components: [component('c1', 'REST API'), component('c2', 'Webhooks')] },
      { id: 'g2', name: 'Delivery', status: 'operational', components: [component('c3', 'Email')] },
    ],
    activeIncidents: [],
    maintenances: [],
  };
}

const base: StatusPageEvent = {
  seq: 1,
  resync: false,
  removed: false,
  kind: null,
  entityId: null,
  status: { indicator: 'none', description: 'All Systems Operational' },
  component: null,
  incident: null,
  maintenance: null,
};

const incident = (id: string, startedAt: string, status = 'investigating'): IncidentItem => ({
  id,
  title: `Incident ${id}`,
  status,
  impact: 'major',
  startedAt,
  nextUpdateDueAt: null,
  updates: [{ id: `${id}-u1`, status, message: 'Looking into it', createdAt: startedAt }],
  affectedComponents: [],
});

const window = (id: string, scheduledStart: string, status = 'scheduled'): MaintenanceItem => ({
  id,
  title: `Window ${id}`,
  body: '',
  status,
  scheduledStart,
  scheduledEnd: '2026-12-31T00:00:00Z',
  components: [],
});

describe('applyPageEvent', () => {
  it('a component status change updates the component, its group, today’s bar and the banner', () => {
    const before = summary();
    const next = applyPageEvent(before, {
      ...base,
      kind: 'component',
      entityId: 'c2',
      status: { indicator: 'major', description: 'Partial System Outage' },
      component: { id: 'c2', name: 'Webhooks', status: 'partial_outage', group: { id: 'g1', status: 'partial_outage' } },
    })!;
    expect(next.status.description).toBe('Partial System Outage');
    expect(next.groups[0]!.status).toBe('partial_outage');
    expect(next.groups[0]!.components[1]).toMatchObject({ status: 'partial_outage' });
    expect(decodeUptime(next.groups[0]!.components[1]!.uptimeCompact).map((d) => d.worstStatus)).toEqual(['operational', 'partial_outage']);
    // Untouched parts keep their identity, so Vue re-renders only what changed.
    expect(next.groups[1]).toBe(before.groups[1]);
    expect(before.groups[0]!.status).toBe('operational');
    expect(next.groups[0]!.components[0]!.status).toBe('operational');
  });

  it('recovery keeps the day’s worst status on today’s bar', () => {
    let s = applyPageEvent(summary(), { ...base, kind: 'component', component: { id: 'c0', name: 'Website', status: 'major_outage', group: null } })!;
    s = applyPageEvent(s, { ...base, kind: 'component', component: { id: 'c0', name: 'Website', status: 'operational', group: null } })!;
    expect(s.ungroupedComponents[0]!.status).toBe('operational');
    expect(decodeUptime(s.ungroupedComponents[0]!.uptimeCompact).at(-1)!.worstStatus).toBe('major_outage');
  });

  it('past midnight UTC a component change asks for a refetch: the bars need a new day', () => {
    const event: StatusPageEvent = { ...base, kind: 'component', component: { id: 'c0', name: 'Website', status: 'major_outage', group: null } };
    expect(applyPageEvent(summary(), event)).not.toBeNull();
    expect(applyPageEvent(summary(), event, new Date(Date.now() + 86_400_000))).toBeNull();
  });

  it('asks for a refetch when the payload cannot describe the change', () => {
    const s = summary();
    // A new component, one moved to another group, one removed from view, group and deployment changes, resync.
    expect(applyPageEvent(s, { ...base, kind: 'component', component: { id: 'new', name: 'New', status: 'operational', group: { id: 'g1', status: 'operational' } } })).toBeNull();
    expect(applyPageEvent(s, { ...base, kind: 'component', component: { id: 'c1', name: 'REST API', status: 'operational', group: { id: 'g2', status: 'operational' } } })).toBeNull();
    expect(applyPageEvent(s, { ...base, kind: 'component', entityId: 'c1', removed: true })).toBeNull();
    expect(applyPageEvent(s, { ...base, kind: 'group', entityId: 'g1' })).toBeNull();
    expect(applyPageEvent(s, { ...base, kind: 'deployment', entityId: 'd1' })).toBeNull();
    expect(applyPageEvent(s, { ...base, resync: true })).toBeNull();
  });

  it('incidents: open ones are added newest first and replaced in place; resolved or hidden ones leave', () => {
    let s = applyPageEvent(summary(), { ...base, kind: 'incident', entityId: 'i1', incident: incident('i1', '2026-11-22T10:00:00.000Z') })!;
    s = applyPageEvent(s, { ...base, kind: 'incident', entityId: 'i2', incident: incident('i2', '2026-11-22T11:00:00.000Z') })!;
    expect(s.activeIncidents.map((i) => i.id)).toEqual(['i2', 'i1']);
    s = applyPageEvent(s, { ...base, kind: 'incident', entityId: 'i1', incident: incident('i1', '2026-11-22T10:00:00.000Z', 'identified') })!;
    expect(s.activeIncidents.map((i) => [i.id, i.status])).toEqual([
      ['i2', 'investigating'],
      ['i1', 'identified'],
    ]);
    s = applyPageEvent(s, { ...base, kind: 'incident', entityId: 'i2', incident: incident('i2', '2026-11-22T11:00:00.000Z', 'resolved') })!;
    s = applyPageEvent(s, { ...base, kind: 'incident', entityId: 'i1', removed: true })!;
    expect(s.activeIncidents).toEqual([]);
  });

  it('maintenance: upcoming windows soonest first; completed or cancelled ones leave', () => {
    let s = applyPageEvent(summary(), { ...base, kind: 'maintenance', entityId: 'm2', maintenance: window('m2', '2026-12-02T00:00:00Z') })!;
    s = applyPageEvent(s, { ...base, kind: 'maintenance', entityId: 'm1', maintenance: window('m1', '2026-12-01T00:00:00Z', 'in_progress') })!;
    expect(s.maintenances.map((m) => m.id)).toEqual(['m1', 'm2']);
    s = applyPageEvent(s, { ...base, kind: 'maintenance', entityId: 'm1', maintenance: window('m1', '2026-12-01T00:00:00Z', 'completed') })!;
    expect(s.maintenances.map((m) => m.id)).toEqual(['m2']);
  });
});

/** A client whose one subscription the test drives. */
function fakeClient() {
  const state = { emit: (_result: { data: { pageEvents: StatusPageEvent } }) => {}, subscribed: 0 };
  const client = {
    subscription: () => ({
      subscribe: (callback: typeof state.emit) => {
        state.subscribed++;
        state.emit = callback;
        return { unsubscribe: () => {} };
      },
    }),
  } as unknown as Client;
  return { client, state };
}

const statusEvent = (seq: number, status: 'operational' | 'major_outage'): StatusPageEvent => ({
  ...base,
  seq,
  kind: 'component',
  entityId: 'c0',
  component: { id: 'c0', name: 'Website', status, group: null },
});

describe('useLiveSummary', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('patches without refetching; refetches (once, spread out) only for a change it cannot patch', async () => {
    const { client, state } = fakeClient();
    const snapshot = ref<{ summary: StatusPageSummary; liveCursor: number } | undefined>({ summary: summary(), liveCursor: 10 });
    const refetch = vi.fn();
    const scope = effectScope();
    const live = scope.run(() => useLiveSummary(client, snapshot, refetch))!;
    await nextTick();
    expect(state.subscribed).toBe(1);

    state.emit({ data: { pageEvents: statusEvent(11, 'major_outage') } });
    expect(live.value!.ungroupedComponents[0]!.status).toBe('major_outage');
    vi.advanceTimersByTime(REFETCH_DEBOUNCE_MS + REFETCH_SPREAD_MS);
    expect(refetch).not.toHaveBeenCalled();

    for (const seq of [12, 13, 14]) state.emit({ data: { pageEvents: { ...base, seq, kind: 'group', entityId: 'g1' } } });
    vi.advanceTimersByTime(REFETCH_DEBOUNCE_MS + REFETCH_SPREAD_MS);
    expect(refetch).toHaveBeenCalledTimes(1);
    scope.stop();
  });

  it('a snapshot older than a change it cannot patch is refetched again, with the other patches kept', async () => {
    const { client, state } = fakeClient();
    const snapshot = ref<{ summary: StatusPageSummary; liveCursor: number } | undefined>({ summary: summary(), liveCursor: 10 });
    const refetch = vi.fn();
    const scope = effectScope();
    const live = scope.run(() => useLiveSummary(client, snapshot, refetch))!;
    await nextTick();
    state.emit({ data: { pageEvents: { ...base, seq: 11, kind: 'group', entityId: 'g1' } } });
    state.emit({ data: { pageEvents: statusEvent(12, 'major_outage') } });
    vi.advanceTimersByTime(REFETCH_DEBOUNCE_MS + REFETCH_SPREAD_MS);
    expect(refetch).toHaveBeenCalledTimes(1);
    // The refetch answers with a snapshot taken before seq 11.
    snapshot.value = { summary: summary(), liveCursor: 10 };
    await nextTick();
    expect(live.value!.ungroupedComponents[0]!.status).toBe('major_outage');
    vi.advanceTimersByTime(REFETCH_DEBOUNCE_MS + REFETCH_SPREAD_MS);
    expect(refetch).toHaveBeenCalledTimes(2);
    scope.stop();
  });

  it('applies events newer than a refetched snapshot on top of it, so no patch is lost', async () => {
    const { client, state } = fakeClient();
    const snapshot = ref<{ summary: StatusPageSummary; liveCursor: number } | undefined>({ summary: summary(), liveCursor: 10 });
    const scope = effectScope();
    const live = scope.run(() => useLiveSummary(client, snapshot, () => {}))!;
    await nextTick();
    state.emit({ data: { pageEvents: statusEvent(11, 'major_outage') } });
    state.emit({ data: { pageEvents: statusEvent(12, 'operational') } });
    state.emit({ data: { pageEvents: statusEvent(13, 'major_outage') } });
    // A snapshot taken at seq 12 arrives late: seq 13 must be applied again on top of it.
    const stale = summary();
    stale.ungroupedComponents[0]!.status = 'operational';
    snapshot.value = { summary: stale, liveCursor: 12 };
    await nextTick();
    expect(live.value!.ungroupedComponents[0]!.status).toBe('major_outage');
    scope.stop();
  });
});
