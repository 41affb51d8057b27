import { createHash } from 'node:crypto';
import type { SpComponent, SpIncident, SpMaintenance, SpPage, SpStatus } from '../read/statuspage.js';
import { componentStatusLook, impactLook, incidentStatusLabel, indicatorLook, maintenanceStatusLabel, type Tone } from '../../web/src/status.js';

/**
 * The static status page: one self-contained HTML file drawn from the Statuspage documents one
 * audience already read (`summary.json` and `incidents.json`, server/http/statuspage-api.ts), so
 * it holds nothing the API would not give that audience. Pure: the same input gives the same
 * bytes, which lets the writer skip unchanged files. No external request of any kind: the CSS and
 * the one small script are inline and pinned by hash in the page's own Content-Security-Policy
 * (`default-src 'none'`), so the page works from file:// and from any static server, and a
 * browser would refuse anything else even if some text slipped through unescaped.
 */

export interface SnapshotSummary {
  page: SpPage;
  components: SpComponent[];
  incidents: SpIncident[];
  scheduled_maintenances: SpMaintenance[];
  status: SpStatus;
}

export interface StaticPageInput {
  summary: SnapshotSummary;
  /** The latest incidents of any state (`incidents.json`); the unresolved ones are in `summary`. */
  history: SpIncident[];
  /** The page's accent colour (branding), used only when it is a plain CSS hex colour. */
  accentColor?: string | null;
  /** Set for a deployment's page: its name, shown under the page's name. */
  deploymentName?: string | null;
  /** How many past incidents to list (default 20). */
  historySize?: number;
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text for an element's content or a quoted attribute value. */
export function escapeHtml(value: string | null | undefined): string {
  return (value ?? '').replace(/[&<>"']/g, (c) => escapes[c]!);
}

const hexColor = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/;

function zoneOrUtc(timeZone: string): string {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return timeZone;
  } catch {
    return 'UTC';
  }
}

/** `<time>` with the ISO instant, shown in the page's time zone (UTC in the tooltip). */
function timeTag(iso: string, timeZone: string, extra = ''): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return escapeHtml(iso);
  const text = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(date);
  return `<time datetime="${escapeHtml(date.toISOString())}" title="${escapeHtml(date.toISOString())}"${extra}>${escapeHtml(text)}</time>`;
}

function dayOf(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'full' }).format(new Date(iso));
}

const badge = (label: string, tone: Tone) => `<span class="badge tone-${tone}"><span class="dot" aria-hidden="true"></span>${escapeHtml(label)}</span>`;

/** The time the audience's own data last changed: nothing it cannot see moves it. */
export function lastUpdatedOf(input: Pick<StaticPageInput, 'summary' | 'history'>): string {
  const times = [
    input.summary.page.updated_at,
    ...input.history.map((i) => i.updated_at),
    ...input.summary.incidents.map((i) => i.updated_at),
    ...input.summary.scheduled_maintenances.map((m) => m.updated_at),
  ];
  return times.reduce((max, t) => (t > max ? t : max), input.summary.page.updated_at);
}

function renderComponents(components: SpComponent[]): string {
  const row = (c: SpComponent) => {
    const look = componentStatusLook(c.status);
    return `<li class="component-row"><span class="component-name">${escapeHtml(c.name)}</span>${badge(look.label, look.tone)}</li>`;
  };
  const children = components.filter((c) => !c.group);
  const groups = components.filter((c) => c.group);
  const grouped = new Set(groups.flatMap((g) => g.components ?? []));
  const ungrouped = children.filter((c) => !grouped.has(c.id));
  const parts: string[] = [];
  if (ungrouped.length) parts.push(`<ul class="card component-list">${ungrouped.map(row).join('')}</ul>`);
  for (const group of groups) {
    const members = children.filter((c) => (group.components ?? []).includes(c.id));
    const look = componentStatusLook(group.status);
    // Open when something in it needs attention, as on the live page; no script needed to toggle.
    parts.push(
      `<details class="card component-group"${group.status === 'operational' ? '' : ' open'}><summary><span class="group-name">${escapeHtml(group.name)}</span>` +
        `<span class="muted count">${members.length} ${members.length === 1 ? 'component' : 'components'}</span>${badge(look.label, look.tone)}</summary>` +
        `<ul class="component-list">${members.map(row).join('')}</ul></details>`,
    );
  }
  if (!parts.length) parts.push('<p class="muted">No components to show.</p>');
  return `<section aria-labelledby="components-heading"><h2 id="components-heading">Components</h2>${parts.join('')}</section>`;
}

function renderUpdates(updates: SpIncident['incident_updates'], timeZone: string, label: (status: string) => string): string {
  if (!updates.length) return '';
  return `<ol class="updates">${updates
    .map(
      (u) =>
        `<li><p class="update-head"><strong>${escapeHtml(label(u.status))}</strong> · ${timeTag(u.display_at, timeZone)}</p>` +
        (u.body ? `<p class="update-body">${escapeHtml(u.body)}</p>` : '') +
        (u.affected_components?.length
          ? `<p class="muted affected">${u.affected_components
              .map((a) => `${escapeHtml(a.name)}: ${escapeHtml(componentStatusLook(a.old_status).label)} → ${escapeHtml(componentStatusLook(a.new_status).label)}`)
              .join('; ')}</p>`
          : '') +
        '</li>',
    )
    .join('')}</ol>`;
}

const affectedLine = (components: SpComponent[]) =>
  components.length ? `<p class="muted affected">Affects ${components.map((c) => escapeHtml(c.name)).join(', ')}</p>` : '';

function renderIncident(incident: SpIncident, timeZone: string, headingLevel: 3 | 4): string {
  const impact = impactLook(incident.impact);
  return (
    `<article class="card incident tone-${impact.tone}"><h${headingLevel} class="incident-title">${escapeHtml(incident.name)}</h${headingLevel}>` +
    `<p class="incident-meta">${badge(impact.label, impact.tone)} <span>${escapeHtml(incidentStatusLabel(incident.status))}</span> · started ${timeTag(incident.started_at, timeZone)}` +
    (incident.resolved_at ? ` · resolved ${timeTag(incident.resolved_at, timeZone)}` : '') +
    `</p>${affectedLine(incident.components)}${renderUpdates(incident.incident_updates, timeZone, incidentStatusLabel)}</article>`
  );
}

function renderMaintenance(m: SpMaintenance, timeZone: string): string {
  return (
    `<article class="card incident tone-maintenance"><h3 class="incident-title">${escapeHtml(m.name)}</h3>` +
    `<p class="incident-meta">${badge(maintenanceStatusLabel(m.status), 'maintenance')} ${timeTag(m.scheduled_for, timeZone)} – ${timeTag(m.scheduled_until, timeZone)}</p>` +
    `${affectedLine(m.components)}${renderUpdates(m.incident_updates, timeZone, maintenanceStatusLabel)}</article>`
  );
}

function renderHistory(history: SpIncident[], active: Set<string>, timeZone: string, size: number): string {
  const past = history.filter((i) => !active.has(i.id) && (i.status === 'resolved' || i.status === 'postmortem')).slice(0, size);
  if (!past.length) return '<section aria-labelledby="history-heading"><h2 id="history-heading">Past incidents</h2><p class="muted">No incidents reported.</p></section>';
  const days: { day: string; items: SpIncident[] }[] = [];
  for (const incident of past) {
    const day = dayOf(incident.started_at, timeZone);
    const last = days.at(-1);
    if (last?.day === day) last.items.push(incident);
    else days.push({ day, items: [incident] });
  }
  return `<section aria-labelledby="history-heading"><h2 id="history-heading">Past incidents</h2>${days
    .map((d) => `<h3 class="day">${escapeHtml(d.day)}</h3>${d.items.map((i) => `<details class="history-item"><summary>${escapeHtml(i.name)}</summary>${renderIncident(i, timeZone, 4)}</details>`).join('')}`)
    .join('')}</section>`;
}

// Adds "(3 hours ago)" beside the last-updated time, in the reader's browser and at reading time:
// a file written on a quiet day says how old it is only when it is read. Optional: without
// script the absolute time is there.
const script = `(function(){var t=document.getElementById('last-updated');if(!t)return;var s=(Date.now()-Date.parse(t.getAttribute('datetime')))/1000;if(!(s>=0))return;var u=[[86400,'day'],[3600,'hour'],[60,'minute']];var n='just now';for(var i=0;i<u.length;i++){var k=Math.floor(s/u[i][0]);if(k>=1){n=k+' '+u[i][1]+(k===1?'':'s')+' ago';break;}}var a=document.getElementById('last-updated-ago');if(a)a.textContent='('+n+')';})();`;

const baseCss = `:root{color-scheme:light dark;--bg:#f6f7f9;--surface:#fff;--fg:#1b1f24;--muted:#57606a;--border:#d4d9de;--link:#0a58ca;--ok:#1a7f37;--maintenance:#0969da;--minor:#9a6700;--major:#bc4c00;--critical:#cf222e;--unknown:#6e7781;--radius:10px}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--surface:#161b22;--fg:#e6edf3;--muted:#9da7b3;--border:#30363d;--link:#6cb6ff;--ok:#3fb950;--maintenance:#58a6ff;--minor:#d29922;--major:#f0883e;--critical:#ff7b72;--unknown:#8b949e}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:52rem;margin:0 auto;padding:1.5rem 1rem 3rem}a{color:var(--link)}h1{margin:0;font-size:1.75rem}h2{font-size:1.2rem;margin:2rem 0 .75rem}
header{border-top:6px solid var(--accent);padding-top:1rem}.subtitle{margin:.25rem 0 0}.muted{color:var(--muted)}
.snapshot-note{margin:1rem 0;padding:.75rem 1rem;border:1px dashed var(--border);border-radius:var(--radius);background:var(--surface)}
.snapshot-note p{margin:.25rem 0}.last-updated{font-weight:600}
.card{background:var(--surface);border:1px solid var(--border);border-radius:var(--radius);margin:0 0 .75rem}
.banner{display:flex;align-items:center;gap:.75rem;padding:1rem 1.25rem;border-left:6px solid var(--tone);font-size:1.2rem;font-weight:600}
.tone-ok{--tone:var(--ok)}.tone-maintenance{--tone:var(--maintenance)}.tone-minor{--tone:var(--minor)}.tone-major{--tone:var(--major)}.tone-critical{--tone:var(--critical)}.tone-unknown{--tone:var(--unknown)}
.badge{display:inline-flex;align-items:center;gap:.375rem;color:var(--tone);font-weight:600;white-space:nowrap}.dot{width:.7em;height:.7em;border-radius:50%;background:var(--tone)}
.banner .dot{width:1em;height:1em}
.component-list{list-style:none;margin:0;padding:0}.component-row{display:flex;justify-content:space-between;gap:1rem;padding:.6rem 1rem;border-top:1px solid var(--border)}
.card.component-list>.component-row:first-child{border-top:0}
.component-group summary{display:flex;align-items:center;gap:.75rem;padding:.75rem 1rem;cursor:pointer;font-weight:600}.component-group .count{font-weight:400;font-size:.9rem}
.component-group summary .badge{margin-left:auto}
.incident{padding:1rem 1.25rem;border-left:6px solid var(--tone)}.incident-title{margin:0 0 .25rem;font-size:1.1rem}.incident-meta{margin:0 0 .5rem}
.updates{list-style:none;margin:.5rem 0 0;padding:0}.updates li{border-top:1px solid var(--border);padding:.5rem 0}.update-head,.update-body,.affected{margin:.25rem 0}
.update-body{white-space:pre-wrap;overflow-wrap:anywhere}.affected{font-size:.9rem}
.day{font-size:1rem;margin:1.25rem 0 .5rem}.history-item>summary{cursor:pointer;margin:.25rem 0 .5rem}
footer{margin-top:2.5rem;font-size:.9rem}`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The whole document. */
export function renderStaticPage(input: StaticPageInput): string {
  const { summary } = input;
  const timeZone = zoneOrUtc(summary.page.time_zone);
  const accent = input.accentColor && hexColor.test(input.accentColor) ? input.accentColor : '#2563eb';
  const css = `${baseCss}\n:root{--accent:${accent}}`;
  const csp = `default-src 'none'; style-src ${sha256(css)}; script-src ${sha256(script)}; img-src 'none'; base-uri 'none'; form-action 'none'`;
  const pageName = summary.page.name;
  const title = input.deploymentName ? `${input.deploymentName} · ${pageName} status` : `${pageName} status`;
  const lastUpdated = lastUpdatedOf(input);
  const banner = indicatorLook(summary.status.indicator, summary.status.description);

  const activeIncidents = summary.incidents.filter((i) => i.status !== 'resolved' && i.status !== 'postmortem');
  const inProgress = summary.scheduled_maintenances.filter((m) => m.status === 'in_progress' || m.status === 'verifying');
  const upcoming = summary.scheduled_maintenances.filter((m) => m.status === 'scheduled');

  const sections: string[] = [];
  sections.push(`<div class="card banner tone-${banner.tone}" role="status"><span class="dot" aria-hidden="true"></span><span id="overall-status">${escapeHtml(banner.label)}</span></div>`);
  if (activeIncidents.length)
    sections.push(`<section aria-labelledby="active-heading"><h2 id="active-heading">Active incidents</h2>${activeIncidents.map((i) => renderIncident(i, timeZone, 3)).join('')}</section>`);
  if (inProgress.length)
    sections.push(`<section aria-labelledby="maintenance-heading"><h2 id="maintenance-heading">Maintenance in progress</h2>${inProgress.map((m) => renderMaintenance(m, timeZone)).join('')}</section>`);
  sections.push(renderComponents(summary.components));
  if (upcoming.length)
    sections.push(`<section aria-labelledby="upcoming-heading"><h2 id="upcoming-heading">Upcoming maintenance</h2>${upcoming.map((m) => renderMaintenance(m, timeZone)).join('')}</section>`);
  sections.push(renderHistory(input.history, new Set(activeIncidents.map((i) => i.id)), timeZone, input.historySize ?? 20));

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="statushub snapshot">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(pageName)}</h1>
${input.deploymentName ? `<p class="subtitle">Deployment <strong>${escapeHtml(input.deploymentName)}</strong></p>` : ''}
</header>
<div class="snapshot-note">
<p class="last-updated">Last updated ${timeTag(lastUpdated, timeZone, ' id="last-updated"')} <span class="muted">(${escapeHtml(new Date(lastUpdated).toISOString())})</span> <span id="last-updated-ago" class="muted"></span></p>
<p class="muted">This is a static snapshot of the status page, rewritten after every public change while the status hub runs. The live page, at <a href="${escapeHtml(summary.page.url)}" rel="noopener">${escapeHtml(summary.page.url)}</a>, may be newer.</p>
</div>
${sections.join('\n')}
<footer class="muted"><p>Snapshot by statushub. Times in ${escapeHtml(timeZone)}.</p></footer>
</main>
<script>${script}</script>
</body>
</html>
`;
}
