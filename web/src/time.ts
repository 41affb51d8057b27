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
