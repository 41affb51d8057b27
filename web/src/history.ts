import type { FormatTimeOptions, FormattedTime } from './time';
import { formatTime } from './time';

/** Pure helpers of the history and incident pages: day grouping, durations, time ranges. */

export interface DayGroup<T> {
  /** The viewer-local day, YYYY-MM-DD. */
  key: string;
  /** e.g. "Tuesday, 4 March 2025". */
  label: string;
  items: T[];
}

/** YYYY-MM-DD of the moment in `timeZone` (the viewer's by default). */
export function dayKey(iso: string, timeZone?: string): string {
  // en-CA formats dates as YYYY-MM-DD; the locale only picks the shape, not the zone.
  return new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone }).format(new Date(iso));
}

function dayLabel(iso: string, options: FormatTimeOptions): string {
  return new Intl.DateTimeFormat(options.locale, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', timeZone: options.timeZone }).format(
    new Date(iso),
  );
}

/**
 * Incidents grouped by the viewer-local day they started on, newest day first, each day's
 * incidents newest first.
 */
export function groupByDay<T extends { startedAt: string }>(items: readonly T[], options: FormatTimeOptions = {}): DayGroup<T>[] {
  const sorted = [...items].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
  const groups: DayGroup<T>[] = [];
  for (const item of sorted) {
    const key = dayKey(item.startedAt, options.timeZone);
    const last = groups[groups.length - 1];
    if (last?.key === key) last.items.push(item);
    else groups.push({ key, label: dayLabel(item.startedAt, options), items: [item] });
  }
  return groups;
}

/** "45 minutes", "2 hours 5 minutes", "3 days 4 hours", "less than a minute". */
export function formatDuration(milliseconds: number): string {
  const minutes = Math.floor(Math.max(0, milliseconds) / 60_000);
  if (minutes < 1) return 'less than a minute';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (days) return hours ? `${unit(days, 'day')} ${unit(hours, 'hour')}` : unit(days, 'day');
  if (hours) return mins ? `${unit(hours, 'hour')} ${unit(mins, 'minute')}` : unit(hours, 'hour');
  return unit(mins, 'minute');
}

/** How long an incident lasted ("Lasted 2 hours"), or has lasted so far when still open. */
export function incidentDuration(incident: { startedAt: string; resolvedAt: string | null }, now: Date = new Date()): string {
  const start = Date.parse(incident.startedAt);
  if (incident.resolvedAt) return `Lasted ${formatDuration(Date.parse(incident.resolvedAt) - start)}`;
  return `Ongoing for ${formatDuration(now.getTime() - start)}`;
}

/** A clock time ("05:30") in the viewer's zone, with the UTC moment for a tooltip. */
export function formatClock(iso: string, options: FormatTimeOptions = {}): FormattedTime {
  const full = formatTime(iso, options);
  if (!full.utc) return full;
  const text = new Intl.DateTimeFormat(options.locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: options.timeZone }).format(new Date(iso));
  return { ...full, text };
}

/**
 * The two ends of an incident's time range as shown under a day heading: the start as a clock
 * time, the end as a clock time on the same local day, else in full.
 */
export function timeRange(startedAt: string, resolvedAt: string | null, options: FormatTimeOptions = {}): { start: FormattedTime; end: FormattedTime | null } {
  const start = formatClock(startedAt, options);
  if (!resolvedAt) return { start, end: null };
  const sameDay = dayKey(startedAt, options.timeZone) === dayKey(resolvedAt, options.timeZone);
  return { start, end: sameDay ? formatClock(resolvedAt, options) : formatTime(resolvedAt, options) };
}
