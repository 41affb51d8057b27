import { describe, expect, it } from 'vitest';
import { formatTime } from '../../web/src/time.js';

describe('formatTime', () => {
  it('shows the time in the given zone, with the UTC time for a title', () => {
    const t = formatTime('2025-03-04T05:06:07Z', { timeZone: 'America/New_York', locale: 'en-GB' });
    expect(t.iso).toBe('2025-03-04T05:06:07Z');
    expect(t.text).toContain('4 Mar 2025');
    expect(t.text).toContain('00:06');
    expect(t.utc).toBe('2025-03-04 05:06 UTC');
  });

  it('moves the date across midnight for zones east of UTC', () => {
    const t = formatTime(new Date('2025-03-04T23:30:00Z'), { timeZone: 'Asia/Tokyo', locale: 'en-GB' });
    expect(t.text).toContain('5 Mar 2025');
    expect(t.text).toContain('08:30');
    expect(t.utc).toBe('2025-03-04 23:30 UTC');
  });

  it('passes an unparseable value through instead of showing "Invalid Date"', () => {
    expect(formatTime('soon')).toEqual({ iso: 'soon', text: 'soon', utc: '' });
  });
});
