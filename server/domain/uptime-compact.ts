import type { ComponentStatus } from './vocabulary.js';

/**
 * Daily uptime in a compact form for pages that draw many components' bars: about 0.6 KB per
 * component for 90 days instead of about 2.9 KB as a list of objects. Shared by the schema
 * (`Component.uptimeCompact`) and the web app, so the alphabet lives in one place.
 */
export interface UptimeCompact {
  /** The first UTC day, `YYYY-MM-DD`; entry `i` is that day plus `i` days (the last one is today). */
  from: string;
  /** Per day, uptime in hundredths of a percent (0–10000), floored; null where nothing was measured. */
  basisPoints: (number | null)[];
  /** Per day, one character for the worst status held: see `worstStatusCodes`; `-` before the component existed. */
  worst: string;
}

export const worstStatusCodes: Record<ComponentStatus, string> = {
  operational: 'o',
  degraded_performance: 'd',
  partial_outage: 'p',
  major_outage: 'M',
  under_maintenance: 'm',
};
const statusOfCode = new Map<string, ComponentStatus>(Object.entries(worstStatusCodes).map(([status, code]) => [code, status as ComponentStatus]));

/** The status a `worst` character stands for; null for `-` (or anything unknown). */
export function statusOfWorstCode(code: string | undefined): ComponentStatus | null {
  return (code && statusOfCode.get(code)) || null;
}

export interface UptimeDayValue {
  date: string;
  uptimePercent: number | null;
  worstStatus: ComponentStatus | null;
}

/** Hundredths of a percent, floored (99.995 % is not 100 %); percents carry at most 4 decimals. */
export function toBasisPoints(percent: number): number {
  return Math.floor(Math.round(percent * 10_000) / 100);
}

/** Consecutive days, oldest first. */
export function encodeUptime(days: readonly UptimeDayValue[]): UptimeCompact {
  return {
    from: days[0]?.date ?? '',
    basisPoints: days.map((d) => (d.uptimePercent === null ? null : toBasisPoints(d.uptimePercent))),
    worst: days.map((d) => (d.worstStatus ? worstStatusCodes[d.worstStatus] : '-')).join(''),
  };
}

export function decodeUptime(compact: UptimeCompact): UptimeDayValue[] {
  const start = Date.parse(`${compact.from}T00:00:00Z`);
  return compact.basisPoints.map((bp, i) => ({
    date: new Date(start + i * 86_400_000).toISOString().slice(0, 10),
    uptimePercent: bp === null ? null : bp / 100,
    worstStatus: statusOfWorstCode(compact.worst[i]),
  }));
}

/** The compact days with the last one's worst status replaced (a live change today). */
export function withLastWorst(compact: UptimeCompact, status: ComponentStatus): UptimeCompact {
  if (!compact.worst.length) return compact;
  return { ...compact, worst: compact.worst.slice(0, -1) + worstStatusCodes[status] };
}

/** The last day, `YYYY-MM-DD`, or null with no days. */
export function lastUptimeDay(compact: UptimeCompact): string | null {
  if (!compact.basisPoints.length) return null;
  return new Date(Date.parse(`${compact.from}T00:00:00Z`) + (compact.basisPoints.length - 1) * 86_400_000).toISOString().slice(0, 10);
}
