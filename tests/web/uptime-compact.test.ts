import { describe, expect, it } from 'vitest';
import { decodeUptime, encodeUptime, lastUptimeDay, toBasisPoints, withLastWorst } from '../../server/domain/uptime-compact';

describe('compact uptime days', () => {
  const days = [
    { date: '2025-02-27', uptimePercent: null, worstStatus: null },
    { date: '2025-02-28', uptimePercent: 99.95, worstStatus: 'degraded_performance' as const },
    { date: '2025-03-01', uptimePercent: null, worstStatus: 'under_maintenance' as const },
    { date: '2025-03-02', uptimePercent: 12.3456, worstStatus: 'major_outage' as const },
    { date: '2025-03-03', uptimePercent: 100, worstStatus: 'partial_outage' as const },
    { date: '2025-03-04', uptimePercent: 100, worstStatus: 'operational' as const },
  ];

  it('round-trips dates, worst statuses and percents to a hundredth, across a month end', () => {
    const compact = encodeUptime(days);
    expect(compact).toEqual({ from: '2025-02-27', basisPoints: [null, 9995, null, 1234, 10000, 10000], worst: '-dmMpo' });
    expect(decodeUptime(compact)).toEqual(days.map((d) => ({ ...d, uptimePercent: d.uptimePercent === null ? null : Math.floor(d.uptimePercent * 100) / 100 })));
    expect(lastUptimeDay(compact)).toBe('2025-03-04');
  });

  it('floors, so an almost perfect day never reads as 100 %', () => {
    expect(toBasisPoints(99.9999)).toBe(9999);
    expect(toBasisPoints(99.95)).toBe(9995);
    expect(toBasisPoints(0.0099)).toBe(0);
  });

  it('replaces only today\'s worst status', () => {
    expect(withLastWorst(encodeUptime(days), 'major_outage').worst).toBe('-dmMpM');
    expect(withLastWorst(encodeUptime([]), 'major_outage').worst).toBe('');
  });
});
