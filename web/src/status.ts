import {
  componentStatuses,
  impacts,
  maintenanceDescription,
  type ComponentStatus,
  type Impact,
} from '../../server/domain/vocabulary';

export type { ComponentStatus, Impact };

/** Colour family of a status; always shown together with an icon shape and a text label. */
export type Tone = 'ok' | 'maintenance' | 'minor' | 'major' | 'critical' | 'unknown';
/** Every status has its own shape, so the page reads without colour. */
export type IconName = 'check' | 'wrench' | 'minus' | 'alert' | 'cross' | 'unknown';

export interface StatusLook {
  label: string;
  icon: IconName;
  tone: Tone;
}

/** Component statuses in the words of the Statuspage vocabulary. */
export const componentStatusLooks: Record<ComponentStatus, StatusLook> = {
  operational: { label: 'Operational', icon: 'check', tone: 'ok' },
  degraded_performance: { label: 'Degraded performance', icon: 'minus', tone: 'minor' },
  partial_outage: { label: 'Partial outage', icon: 'alert', tone: 'major' },
  major_outage: { label: 'Major outage', icon: 'cross', tone: 'critical' },
  under_maintenance: { label: 'Under maintenance', icon: 'wrench', tone: 'maintenance' },
};

/** The page indicator (Statuspage's `none` … `critical`). */
export const indicatorLooks: Record<Impact, StatusLook> = {
  none: { label: 'All systems operational', icon: 'check', tone: 'ok' },
  minor: { label: 'Minor service outage', icon: 'minus', tone: 'minor' },
  major: { label: 'Partial system outage', icon: 'alert', tone: 'major' },
  critical: { label: 'Major service outage', icon: 'cross', tone: 'critical' },
};

const maintenanceLook: StatusLook = componentStatusLooks.under_maintenance;

/** `some_new_value` → "Some new value", for a value a newer server sends before the web app knows it. */
export function humanize(value: string): string {
  const words = value.replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : 'Unknown';
}

export function isComponentStatus(value: string): value is ComponentStatus {
  return (componentStatuses as readonly string[]).includes(value);
}

export function isImpact(value: string): value is Impact {
  return (impacts as readonly string[]).includes(value);
}

export function componentStatusLook(status: string): StatusLook {
  return isComponentStatus(status) ? componentStatusLooks[status] : { label: humanize(status), icon: 'unknown', tone: 'unknown' };
}

/**
 * How the page banner looks. The server reports maintenance as indicator `none` with its own
 * description, so the wrench is picked from the description.
 */
export function indicatorLook(indicator: string, description?: string): StatusLook {
  if (indicator === 'none' && description === maintenanceDescription) return { ...maintenanceLook, label: description };
  return isImpact(indicator) ? indicatorLooks[indicator] : { label: humanize(indicator), icon: 'unknown', tone: 'unknown' };
}

/** A group starts expanded when something in it needs attention. */
export function startsExpanded(status: string): boolean {
  return status !== 'operational';
}

/** Incident and update statuses (`investigating` → "Investigating"). */
export function incidentStatusLabel(status: string): string {
  return humanize(status);
}

/** Maintenance statuses (`in_progress` → "In progress"). */
export function maintenanceStatusLabel(status: string): string {
  return humanize(status);
}

/** An incident's impact, in words and a tone. */
export function impactLook(impact: string): StatusLook {
  const tone: Tone = impact === 'minor' || impact === 'major' || impact === 'critical' ? impact : 'unknown';
  const icon: IconName = isImpact(impact) ? indicatorLooks[impact].icon : 'unknown';
  return { label: impact === 'none' ? 'No impact' : `${humanize(impact)} impact`, icon, tone };
}

/**
 * "99.95% uptime" — rounded down to two decimals, so a bad day never reads as 100%; "no data"
 * when nothing was measured.
 */
export function formatUptime(percent: number | null | undefined): string {
  if (percent === null || percent === undefined || !Number.isFinite(percent)) return 'no data';
  const floored = Math.floor(percent * 100) / 100;
  return `${floored}% uptime`;
}

/** Colour of one day's uptime bar (always together with its label). */
export function uptimeTone(percent: number | null, worstStatus: string | null): Tone {
  if (percent === null) return worstStatus === 'under_maintenance' ? 'maintenance' : 'unknown';
  if (percent >= 99.95) return worstStatus === 'degraded_performance' ? 'minor' : 'ok';
  if (percent >= 99) return 'minor';
  if (percent >= 95) return 'major';
  return 'critical';
}
