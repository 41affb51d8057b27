export interface FormattedTime {
  /** For `<time datetime>`: the value as given. */
  iso: string;
  /** In the viewer's time zone (or `timeZone`), e.g. "4 Mar 2025, 00:06 EST". */
  text: string;
  /** The same moment in UTC, for a `title`: "2025-03-04 05:06 UTC". */
  utc: string;
}

export interface FormatTimeOptions {
  /** IANA zone; defaults to the viewer's. */
  timeZone?: string;
  /** BCP 47 locale; defaults to the viewer's. */
  locale?: string;
}

/** A server `DateTime` shown in the viewer's time zone, with its UTC form for a tooltip. */
export function formatTime(value: string | Date, options: FormatTimeOptions = {}): FormattedTime {
  const date = value instanceof Date ? value : new Date(value);
  const iso = value instanceof Date ? value.toISOString() : value;
  if (Number.isNaN(date.getTime())) return { iso, text: String(value), utc: '' };
  const text = new Intl.DateTimeFormat(options.locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
    timeZone: options.timeZone,
  }).format(date);
  const utc = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return { iso, text, utc };
}

// ── <input type="datetime-local"> ─────────────────────────────────────────────

/** Pads to two digits. */
const two = (n: number) => String(n).padStart(2, '0');

/**
 * A server `DateTime` as the value of an `<input type="datetime-local">`, in the viewer's time
 * zone (`YYYY-MM-DDTHH:mm`); empty for nothing or an unreadable value.
 */
export function isoToLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}T${two(date.getHours())}:${two(date.getMinutes())}`;
}

/**
 * A `datetime-local` value (wall-clock time in the viewer's zone) as ISO-8601 UTC; null when empty
 * or not a time.
 */
export function localInputToIso(value: string | null | undefined): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec((value ?? '').trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(y, mo - 1, d, h, mi, Number.isNaN(s) ? 0 : s);
  // Reject rolled-over values such as 2025-02-30.
  if (Number.isNaN(date.getTime()) || date.getMonth() !== mo - 1 || date.getDate() !== d) return null;
  return date.toISOString();
}
