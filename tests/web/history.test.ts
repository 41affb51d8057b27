// @vitest-environment jsdom
import { flushPromises, mount } from '@vue/test-utils';
import { parse, print, validate, type DocumentNode } from 'graphql';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSSRApp, h, type Component } from 'vue';
import { createMemoryHistory, createRouter } from 'vue-router';
import { renderToString } from 'vue/server-renderer';
import { schema } from '../../schema/index.js';
import IncidentCard from '../../web/src/components/IncidentCard.vue';
import SubscribePanel from '../../web/src/components/SubscribePanel.vue';
import { HistoryCursorQuery, HistoryQuery, IncidentDetailQuery, type HistoryIncident, type PastMaintenance } from '../../web/src/graphql/history';
import { dayKey, formatDuration, groupByDay, incidentDuration, timeRange } from '../../web/src/history';
import { routes } from '../../web/src/router';

// The live subscription is tested in live.test.ts; here only that a view wires it to its cursor.
const live = vi.hoisted(() => ({ cursors: [] as (number | undefined)[] }));
vi.mock('../../web/src/composables/useLiveRefresh', async () => {
  const { watch } = await import('vue');
  return {
    useLiveRefresh: (_client: unknown, cursor: { value: number | undefined }) => {
      watch(() => cursor.value, (value) => live.cursors.push(value), { immediate: true });
    },
  };
});

function errorsOf(document: unknown): string[] {
  return validate(schema, parse(print(document as DocumentNode))).map((e) => e.message);
}

describe('history documents match the schema', () => {
  it.each([
    ['History', HistoryQuery],
    ['HistoryCursor', HistoryCursorQuery],
    ['IncidentDetail', IncidentDetailQuery],
  ])('%s is a valid operation', (_name, document) => {
    expect(errorsOf(document)).toEqual([]);
  });
});

const incident = (id: string, startedAt: string, resolvedAt: string | null, extra: Partial<HistoryIncident> = {}): HistoryIncident => ({
  id,
  title: `Incident ${id}`,
  status: 'resolved',
  impact: 'major',
  startedAt,
  resolvedAt,
  updates: [
    { id: `${id}-u2`, status: 'resolved', message: `Fixed ${id}`, createdAt: resolvedAt ?? startedAt },
    { id: `${id}-u1`, status: 'investigating', message: `Looking at ${id}`, createdAt: startedAt },
  ],
  ...extra,
});

describe('grouping by the viewer-local day', () => {
  // 03:00 UTC on 4 March is still 3 March (22:00) in New York.
  const items = [
    incident('a', '2025-03-04T03:00:00Z', '2025-03-04T03:30:00Z'),
    incident('b', '2025-03-04T14:00:00Z', '2025-03-04T15:00:00Z'),
    incident('c', '2025-03-01T10:00:00Z', '2025-03-01T10:05:00Z'),
  ];

  it('puts incidents on the day they started in the viewer zone, newest day first', () => {
    const ny = groupByDay(items, { timeZone: 'America/New_York', locale: 'en-GB' });
    expect(ny.map((d) => [d.key, d.items.map((i) => i.id)])).toEqual([
      ['2025-03-04', ['b']],
      ['2025-03-03', ['a']],
      ['2025-03-01', ['c']],
    ]);
    expect(ny[0]!.label).toMatch(/^Tuesday,? 4 March 2025$/);

    const utc = groupByDay(items, { timeZone: 'UTC' });
    expect(utc.map((d) => [d.key, d.items.map((i) => i.id)])).toEqual([
      ['2025-03-04', ['b', 'a']],
      ['2025-03-01', ['c']],
    ]);
  });

  it('orders newest first even when given out of order, and is empty for no incidents', () => {
    const shuffled = groupByDay([items[2]!, items[0]!, items[1]!], { timeZone: 'UTC' });
    expect(shuffled.flatMap((d) => d.items.map((i) => i.id))).toEqual(['b', 'a', 'c']);
    expect(groupByDay([])).toEqual([]);
  });

  it('keys days as YYYY-MM-DD in the given zone', () => {
    expect(dayKey('2025-12-31T23:30:00Z', 'Asia/Tokyo')).toBe('2026-01-01');
    expect(dayKey('2025-12-31T23:30:00Z', 'UTC')).toBe('2025-12-31');
  });
});

describe('durations', () => {
  it.each([
    [0, 'less than a minute'],
    [59_000, 'less than a minute'],
    [60_000, '1 minute'],
    [45 * 60_000, '45 minutes'],
    [60 * 60_000, '1 hour'],
    [125 * 60_000, '2 hours 5 minutes'],
    [(24 * 60 + 59) * 60_000, '1 day'],
    [(3 * 24 * 60 + 4 * 60) * 60_000, '3 days 4 hours'],
    [-5_000, 'less than a minute'],
  ])('%d ms reads "%s"', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('says how long a resolved incident lasted, and an open one has lasted so far', () => {
    expect(incidentDuration({ startedAt: '2025-03-04T05:00:00Z', resolvedAt: '2025-03-04T05:45:00Z' })).toBe('Lasted 45 minutes');
    expect(incidentDuration({ startedAt: '2025-03-04T05:00:00Z', resolvedAt: null }, new Date('2025-03-04T07:00:00Z'))).toBe('Ongoing for 2 hours');
  });

  it('shows the end as a clock time on the same local day, in full on another', () => {
    const same = timeRange('2025-03-04T05:00:00Z', '2025-03-04T05:45:00Z', { timeZone: 'UTC', locale: 'en-GB' });
    expect([same.start.text, same.end?.text, same.start.utc]).toEqual(['05:00', '05:45', '2025-03-04 05:00 UTC']);
    const across = timeRange('2025-03-04T23:00:00Z', '2025-03-05T01:00:00Z', { timeZone: 'UTC', locale: 'en-GB' });
    expect(across.end?.text).toContain('5 Mar 2025');
    expect(timeRange('2025-03-04T23:00:00Z', null).end).toBeNull();
  });
});

const text = (html: string) => html.replace(/<!--.*?-->/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
const testRouter = () => createRouter({ history: createMemoryHistory(), routes });

async function renderSsr(component: Component, props: Record<string, unknown>) {
  const app = createSSRApp({ render: () => h(component, props) });
  app.use(testRouter());
  return renderToString(app);
}

describe('IncidentCard', () => {
  it('links the title to the incident page and says impact, status, duration and the last update in words', async () => {
    const html = await renderSsr(IncidentCard, { incident: incident('i1', '2025-03-04T05:00:00Z', '2025-03-04T05:45:00Z') });
    expect(html).toMatch(/<a href="\/incidents\/i1"[^>]*>Incident i1<\/a>/);
    const out = text(html);
    expect(out).toContain('Major impact');
    expect(out).toContain('Resolved');
    expect(out).toContain('Lasted 45 minutes');
    expect(out).toContain('Fixed i1');
    expect(out).not.toContain('Looking at i1');
    expect(html).toMatch(/<svg[^>]*aria-hidden="true"/);
    expect(html).toContain('title="2025-03-04 05:00 UTC"');
  });
});

describe('SubscribePanel', () => {
  it('offers the feed, embed and badge snippets for this origin, labelled, and no fake notification form', async () => {
    const html = await renderSsr(SubscribePanel, { origin: 'https://status.example.com', pageName: 'Acme <Co>' });
    expect(html).toContain('href="https://status.example.com/history.atom"');
    expect(html).toContain('&lt;script src=&quot;https://status.example.com/embed.js&quot; async&gt;&lt;/script&gt;');
    // The alt text is escaped inside the snippet too.
    expect(html).toContain('&lt;img src=&quot;https://status.example.com/badge.svg&quot; alt=&quot;Acme &amp;lt;Co&gt; status&quot;&gt;');
    // Notifications are asked for with the status page's Subscribe dialog; this panel points there.
    expect(text(html)).toContain('use Subscribe to updates at the top of the status page');
    expect(text(html)).not.toContain('coming soon');
    expect(html).not.toContain('<form');
    for (const [, id] of html.matchAll(/<label for="([^"]+)"/g)) expect(html).toContain(`id="${id}"`);
    expect([...html.matchAll(/<label for=/g)]).toHaveLength(3);
  });
});

// ---- Views, against a stubbed /graphql ----

type Handler = (variables: Record<string, unknown>) => unknown;
let handlers: Record<string, Handler>;
let requests: { operationName: string; variables: Record<string, unknown>; headers: Record<string, string> }[];

beforeEach(() => {
  live.cursors.length = 0;
  requests = [];
  handlers = {};
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      // urql sends queries as GET (`?query=&operationName=&variables=`) while the URL is short enough.
      const params = new URL(url, 'http://localhost').searchParams;
      const body = (
        init.body ? JSON.parse(String(init.body)) : { operationName: params.get('operationName'), variables: JSON.parse(params.get('variables') ?? '{}') }
      ) as { operationName: string; variables: Record<string, unknown> };
      requests.push({ ...body, headers: init.headers as Record<string, string> });
      const handler = handlers[body.operationName];
      const answer = handler ? handler(body.variables ?? {}) : { errors: [{ message: 'unexpected' }] };
      return new Response(JSON.stringify(answer), { status: 200, headers: { 'content-type': 'application/json' } });
    }),
  );
});
afterEach(() => vi.unstubAllGlobals());

async function mountAt(path: string, view: Component, props: Record<string, unknown>) {
  const router = testRouter();
  await router.push(path);
  await router.isReady();
  const wrapper = mount(view, { props, global: { plugins: [router] }, attachTo: document.body });
  for (let i = 0; i < 5; i++) await flushPromises();
  return { wrapper, router };
}

const detail = (extra: Record<string, unknown> = {}) => ({
  data: {
    page: { name: 'Acme' },
    incident: {
      ...incident('i1', '2025-03-04T05:00:00Z', '2025-03-04T06:00:00Z'),
      status: 'postmortem',
      nextUpdateDueAt: null,
      affectedComponents: [{ status: 'partial_outage', component: { id: 'c1', name: 'API', status: 'operational' } }],
      postmortem: { body: '## Root cause\n\nA <script>alert(1)</script> bad **deploy**.', publishedAt: '2025-03-05T10:00:00Z' },
      ...extra,
    },
    liveCursor: 42,
  },
});

describe('IncidentPage', () => {
  it('shows the incident, its components, timeline and sanitised postmortem, live from its cursor', async () => {
    handlers.IncidentDetail = () => detail();
    const IncidentPage = (await import('../../web/src/views/IncidentPage.vue')).default;
    const { wrapper } = await mountAt('/incidents/i1', IncidentPage, { id: 'i1' });
    await vi.waitFor(() => expect(wrapper.find('.markdown strong').exists()).toBe(true));

    expect(requests[0]!.variables).toEqual({ id: 'i1' });
    expect(requests[0]!.headers['x-statushub-audience']).toBe('public');
    expect(wrapper.find('h1').text()).toBe('Incident i1');
    const out = wrapper.text();
    expect(out).toContain('Postmortem');
    expect(out).toContain('Major impact');
    expect(out).toContain('Lasted 1 hour');
    expect(wrapper.find('.incident-affected-list').text()).toMatch(/API\s*Partial outage\s*\(now operational\)/);
    expect(wrapper.findAll('.incident-update').map((u) => u.find('.incident-update-message').text())).toEqual(['Fixed i1', 'Looking at i1']);
    expect(wrapper.find('.markdown h2').text()).toBe('Root cause');
    expect(wrapper.find('.markdown script').exists()).toBe(false);
    expect(wrapper.find('a[href="/"]').exists()).toBe(true);
    expect(wrapper.find('a[href="/history"]').exists()).toBe(true);
    expect(document.title).toBe('Incident i1 · Acme status');
    expect(live.cursors).toContain(42);
    wrapper.unmount();
  });

  it('says an unknown or hidden incident does not exist or is not public', async () => {
    handlers.IncidentDetail = () => ({ data: null, errors: [{ message: 'Incident not found', extensions: { code: 'incident/not_found' } }] });
    const IncidentPage = (await import('../../web/src/views/IncidentPage.vue')).default;
    const { wrapper } = await mountAt('/incidents/nope', IncidentPage, { id: 'nope' });
    expect(wrapper.find('[role="alert"]').text()).toBe('This incident does not exist or is not public.');
    expect(wrapper.find('h1').text()).toBe('Incident not found');
    expect(wrapper.find('.markdown').exists()).toBe(false);
    wrapper.unmount();
  });

  it('reads as the deployment audience when linked from a deployment page', async () => {
    handlers.IncidentDetail = () => detail({ postmortem: null });
    const IncidentPage = (await import('../../web/src/views/IncidentPage.vue')).default;
    const { wrapper } = await mountAt('/incidents/i1?deployment=eu', IncidentPage, { id: 'i1' });
    expect(requests[0]!.headers['x-statushub-audience']).toBe('deployment:eu');
    expect(wrapper.find('a[href="/d/eu"]').exists()).toBe(true);
    wrapper.unmount();
  });
});

/** A History answer; `maintenances` only when asked for, as the server leaves an excluded field out. */
const historyPage = (nodes: HistoryIncident[], hasNextPage: boolean, endCursor: string | null, maintenances?: PastMaintenance[]) => ({
  data: {
    page: { name: 'Acme' },
    incidents: { edges: nodes.map((node) => ({ cursor: `c-${node.id}`, node })), pageInfo: { hasNextPage, endCursor } },
    ...(maintenances ? { maintenances } : {}),
    liveCursor: 7,
  },
});

describe('HistoryPage', () => {
  it('groups past incidents by day and links to older pages; page 1 asks for past maintenance', async () => {
    const past: PastMaintenance = { id: 'm1', title: 'DB upgrade', status: 'completed', scheduledStart: '2025-02-01T00:00:00Z', scheduledEnd: '2025-02-01T02:00:00Z', startedAt: null, completedAt: '2025-02-01T01:10:00Z', components: [{ name: 'DB' }] };
    handlers.History = (v) =>
      historyPage(
        [incident('i2', '2025-03-04T14:00:00Z', '2025-03-04T15:00:00Z'), incident('i1', '2025-03-01T10:00:00Z', '2025-03-01T10:30:00Z')],
        true,
        'cursor-1',
        v.withMaintenance ? [past] : undefined,
      );
    const HistoryPage = (await import('../../web/src/views/HistoryPage.vue')).default;
    const { wrapper } = await mountAt('/history', HistoryPage, { page: 1 });
    expect(requests[0]).toMatchObject({ operationName: 'History', variables: { first: 20, after: null, withMaintenance: true } });
    expect(wrapper.findAll('.history-day').length).toBe(2);
    expect(wrapper.findAll('.history-day a').map((a) => a.attributes('href'))).toEqual(['/incidents/i2', '/incidents/i1']);
    expect(wrapper.find('a[rel="next"]').attributes('href')).toBe('/history?page=2');
    expect(wrapper.find('a[rel="prev"]').exists()).toBe(false);
    expect(wrapper.find('#past-maintenance-heading').exists()).toBe(true);
    expect(wrapper.text()).toContain('DB upgrade');
    expect(live.cursors).toContain(7);
    wrapper.unmount();
  });

  it('walks the cursors of the pages before a deep-linked page', async () => {
    handlers.HistoryCursor = (v) => ({ data: { incidents: { pageInfo: { hasNextPage: true, endCursor: v.after ? 'cursor-2' : 'cursor-1' } } } });
    handlers.History = () => historyPage([incident('i9', '2025-01-01T10:00:00Z', '2025-01-01T11:00:00Z')], false, null);
    const HistoryPage = (await import('../../web/src/views/HistoryPage.vue')).default;
    const { wrapper } = await mountAt('/history?page=3', HistoryPage, { page: 3 });
    expect(requests.map((r) => [r.operationName, r.variables.after ?? null])).toEqual([
      ['HistoryCursor', null],
      ['HistoryCursor', 'cursor-1'],
      ['History', 'cursor-2'],
    ]);
    expect(requests[2]!.variables.withMaintenance).toBe(false);
    expect(wrapper.find('h1').text()).toBe('Incident history, page 3');
    expect(wrapper.find('a[rel="prev"]').attributes('href')).toBe('/history?page=2');
    expect(wrapper.find('a[rel="next"]').exists()).toBe(false);
    expect(wrapper.find('#past-maintenance-heading').exists()).toBe(false);
    wrapper.unmount();
  });

  it('says "No past incidents" when there are none', async () => {
    handlers.History = () => historyPage([], false, null);
    const HistoryPage = (await import('../../web/src/views/HistoryPage.vue')).default;
    const { wrapper } = await mountAt('/history', HistoryPage, { page: 1 });
    expect(wrapper.text()).toContain('No past incidents.');
    expect(wrapper.find('nav.history-pages').exists()).toBe(false);
    wrapper.unmount();
  });

  it('opens the subscribe panel when reached through #subscribe', async () => {
    handlers.History = () => historyPage([], false, null);
    const scrolled = vi.fn();
    Element.prototype.scrollIntoView = scrolled;
    const HistoryPage = (await import('../../web/src/views/HistoryPage.vue')).default;
    const closed = await mountAt('/history', HistoryPage, { page: 1 });
    expect(closed.wrapper.find('details#subscribe').attributes('open')).toBeUndefined();
    closed.wrapper.unmount();
    const open = await mountAt('/history#subscribe', HistoryPage, { page: 1 });
    expect(open.wrapper.find('details#subscribe').attributes('open')).toBeDefined();
    expect(open.wrapper.find('details#subscribe summary').text()).toBe('Subscribe to updates');
    expect(scrolled).toHaveBeenCalledTimes(1);
    expect(document.activeElement?.textContent).toBe('Subscribe to updates');
    open.wrapper.unmount();
  });
});
