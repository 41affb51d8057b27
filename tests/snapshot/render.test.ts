import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SpComponent, SpIncident } from '../../server/read/statuspage.js';
import { lastUpdatedOf, renderStaticPage, type SnapshotSummary } from '../../server/snapshot/render-page.js';

/** The static page as a pure function: escaping, its own CSP, nothing external, stable bytes. */

const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)> & 'quoted' </style></textarea>`;
const at = '2026-12-01T10:00:00.000Z';

function component(id: string, name: string, extra: Partial<SpComponent> = {}): SpComponent {
  return {
    id, name, status: 'operational', created_at: at, updated_at: at, position: 1, description: null, showcase: true, start_date: null,
    group_id: null, page_id: 'p', group: false, only_show_if_degraded: false, ...extra,
  };
}

function incident(id: string, name: string, status: string, updatedAt = at): SpIncident {
  return {
    id, name, status, impact: 'major', created_at: at, updated_at: updatedAt, monitoring_at: null, resolved_at: status === 'resolved' ? updatedAt : null,
    started_at: at, shortlink: `https://status.example.test/incidents/${id}`, page_id: 'p', components: [component('c1', hostile)],
    incident_updates: [{ id: `${id}-u`, status, body: `${hostile}\nsecond line`, incident_id: id, created_at: at, updated_at: at, display_at: at,
      affected_components: [{ code: 'c1', name: hostile, old_status: 'operational', new_status: 'partial_outage' }], deliver_notifications: true }],
  };
}

const summary: SnapshotSummary = {
  page: { id: 'p', name: hostile, url: 'https://status.example.test/"><script>', time_zone: 'Europe/Berlin', updated_at: at },
  components: [
    component('g1', `group ${hostile}`, { group: true, status: 'partial_outage', components: ['c1'] }),
    component('c1', hostile, { group_id: 'g1', status: 'partial_outage' }),
    component('c2', 'Loose component', { status: 'degraded_performance' }),
  ],
  incidents: [incident('i1', `active ${hostile}`, 'identified')],
  scheduled_maintenances: [],
  status: { indicator: 'major', description: 'Partial System Outage' },
};
const history = [incident('i1', `active ${hostile}`, 'identified'), incident('i0', 'Old one', 'resolved', '2026-12-02T08:30:00.000Z')];

describe('renderStaticPage', () => {
  const html = renderStaticPage({ summary, history, accentColor: 'red;}body{display:none', deploymentName: hostile });

  it('escapes every piece of text it is given', () => {
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('</textarea>');
    expect(html).not.toContain('"><script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('&#39;quoted&#39;');
    // Only a plain hex colour is used from branding.
    expect(html).not.toContain('display:none');
    // Exactly one script element: the page's own.
    expect(html.match(/<script/g)).toHaveLength(1);
  });

  it('pins its only style and script by hash and allows nothing else', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!;
    expect(csp).toContain("default-src 'none'");
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect(csp).toContain(`script-src ${hash(script)}`);
    // Nothing is loaded from anywhere: no src, no stylesheet link, no url() in the CSS.
    expect(html).not.toMatch(/<[^>]*\ssrc=/);
    expect(html).not.toMatch(/<link/);
    expect(style).not.toContain('url(');
    // No style attributes (the CSP would block them).
    expect(html).not.toMatch(/<[^>]*\sstyle=/);
  });

  it('says it is a snapshot and when its data last changed, in the page time zone and as ISO', () => {
    expect(lastUpdatedOf({ summary, history })).toBe('2026-12-02T08:30:00.000Z');
    expect(html).toContain('Last updated <time datetime="2026-12-02T08:30:00.000Z"');
    expect(html).toContain('2 Dec 2026, 09:30 CET');
    expect(html).toContain('(2026-12-02T08:30:00.000Z)');
    expect(html).toContain('static snapshot');
  });

  it('shows the status, the components grouped as on the live page, active and past incidents', () => {
    expect(html).toContain('Partial system outage');
    expect(html).toContain('Loose component');
    expect(html).toContain('Degraded performance');
    expect(html).toMatch(/<details class="card component-group" open>/);
    expect(html).toContain('Active incidents');
    expect(html).toContain('Past incidents');
    expect(html).toContain('Old one');
    expect(html.indexOf('Active incidents')).toBeLessThan(html.indexOf('Components'));
  });

  it('is the same bytes for the same input', () => {
    expect(renderStaticPage({ summary, history, accentColor: 'red;}body{display:none', deploymentName: hostile })).toBe(html);
  });
});
