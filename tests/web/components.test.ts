import { createSSRApp, h, type Component } from 'vue';
import { renderToString } from 'vue/server-renderer';
import { describe, expect, it } from 'vitest';
import ComponentGroup from '../../web/src/components/ComponentGroup.vue';
import StatusBanner from '../../web/src/components/StatusBanner.vue';
import SummaryView from '../../web/src/components/SummaryView.vue';
import type { GroupItem, SummaryFields } from '../../web/src/graphql/summary';
import { encodeUptime } from '../../server/domain/uptime-compact';

// Server-side rendering needs no DOM: enough to check what the markup says and how it is labelled.
const render = (component: Component, props: Record<string, unknown>) => renderToString(createSSRApp({ render: () => h(component, props) }));
const text = (html: string) => html.replace(/<!--.*?-->/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();

const group = (status: GroupItem['status'], components: GroupItem['components']): GroupItem => ({ id: 'g1', name: 'Delivery', status, components });

describe('StatusBanner', () => {
  it('says the status in words, with a decorative icon, in a live region', async () => {
    const html = await render(StatusBanner, { indicator: 'major', description: 'Partial System Outage' });
    expect(text(html)).toBe('Overall status: Partial System Outage');
    expect(html).toContain('role="status"');
    expect(html).toMatch(/<svg[^>]*aria-hidden="true"/);
    expect(html).toContain('tone-major');
  });
});

describe('ComponentGroup', () => {
  it('is collapsed while everything in it is operational, with the group status still shown', async () => {
    const html = await render(ComponentGroup, { group: group('operational', [{ id: 'c1', name: 'Push delivery', status: 'operational' }]) });
    expect(html).toContain('aria-expanded="false"');
    expect(html).toMatch(/class="component-group-panel"[^>]*hidden/);
    expect(text(html)).toContain('Delivery 1 component Operational');
  });

  it('opens when a component needs attention and labels each component status in words', async () => {
    const html = await render(ComponentGroup, {
      group: group('major_outage', [
        { id: 'c1', name: 'Push delivery', status: 'major_outage' },
        { id: 'c2', name: 'Webhooks', status: 'degraded_performance' },
      ]),
    });
    expect(html).toContain('aria-expanded="true"');
    const id = /aria-controls="([^"]+)"/.exec(html)?.[1];
    expect(html).toContain(`id="${id}"`);
    expect(text(html)).toContain('Push delivery Major outage');
    expect(text(html)).toContain('Webhooks Degraded performance');
  });
});

describe('SummaryView', () => {
  it('renders the banner, ungrouped components and groups', async () => {
    const summary: SummaryFields = {
      audience: 'public',
      page: { name: 'Acme' },
      status: { indicator: 'none', description: 'All Systems Operational' },
      groups: [group('operational', [{ id: 'c1', name: 'Push delivery', status: 'operational' }])],
      ungroupedComponents: [{ id: 'c2', name: 'Status API', status: 'under_maintenance' }],
    };
    const out = text(await render(SummaryView, { summary }));
    expect(out).toContain('All Systems Operational');
    expect(out).toContain('Status API Under maintenance');
    expect(out).toContain('Delivery 1 component Operational');
  });
});

describe('incidents, maintenance and uptime', () => {
  it('shows an incident timeline newest first with "next update by"', async () => {
    const IncidentList = (await import('../../web/src/components/IncidentList.vue')).default;
    const html = await render(IncidentList, {
      incidents: [
        {
          id: 'i1',
          title: 'Slow API',
          status: 'identified',
          impact: 'minor',
          startedAt: '2025-03-04T05:00:00Z',
          nextUpdateDueAt: '2025-03-04T06:00:00Z',
          updates: [
            { id: 'u2', status: 'identified', message: 'Found it', createdAt: '2025-03-04T05:30:00Z' },
            { id: 'u1', status: 'investigating', message: 'Looking', createdAt: '2025-03-04T05:00:00Z' },
          ],
          affectedComponents: [{ status: 'degraded_performance', component: { name: 'API' } }],
        },
      ],
    });
    const out = text(html);
    expect(out).toMatch(/Identified Found it .* Investigating Looking/);
    expect(out).toContain('Next update by');
    expect(out).toContain('Affects: API (degraded performance)');
    expect(html).toContain('title="2025-03-04 06:00 UTC"');
  });

  it('labels each uptime bar and the overall percentage in words', async () => {
    const UptimeBars = (await import('../../web/src/components/UptimeBars.vue')).default;
    const html = await render(UptimeBars, {
      name: 'API',
      percent: 99.956,
      uptime: encodeUptime([
        { date: '2025-03-03', uptimePercent: null, worstStatus: null },
        { date: '2025-03-04', uptimePercent: 99.9, worstStatus: 'partial_outage' },
      ]),
    });
    expect(text(html)).toBe('API 99.95% uptime');
    expect(html).toContain('aria-label="2025-03-03: no data"');
    expect(html).toContain('title="2025-03-04: 99.9% uptime"');
  });
});
