import { describe, expect, it } from 'vitest';
import { fmtAge, fmtCount, fmtTime, instanceHref, queryString, queueHref } from '../../../../src/web/views/format.ts';

describe('web/views/format', () => {
  it('formats ages in a readable unit', () => {
    expect([fmtAge(850), fmtAge(42_000), fmtAge(7 * 60_000), fmtAge(3.5 * 3_600_000), fmtAge(3 * 86_400_000), fmtAge(null), fmtAge(-5)]).toEqual([
      '850 ms',
      '42 s',
      '7 min',
      '3.5 h',
      '3 d',
      '—',
      '0 ms',
    ]);
  });

  it('formats counts and UTC times', () => {
    expect([fmtCount(0), fmtCount(null), fmtCount(12)]).toEqual(['0', '—', '12']);
    expect(fmtTime(Date.UTC(2026, 10, 25, 21, 20, 45))).toBe('2026-11-25 21:20:45 UTC');
  });

  it('encodes names as one path segment and builds query strings', () => {
    expect(queueHref('we/ird:q "<b>x</b>"')).toBe('/queues/we%2Fird%3Aq%20%22%3Cb%3Ex%3C%2Fb%3E%22');
    expect(instanceHref('a b')).toBe('/instances/a%20b');
    expect(queryString({ sort: 'pending', dir: 'desc', q: '' })).toBe('?sort=pending&dir=desc');
    expect(queryString({ q: 'a&b' })).toBe('?q=a%26b');
    expect(queryString({})).toBe('');
  });
});
