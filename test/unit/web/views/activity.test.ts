import { describe, expect, it } from 'vitest';
import { activityBuckets, createdSince, recordsForWindow } from '../../../../src/web/views/activity.ts';

const NOW = 1_795_641_100_000;
const MIN = 60_000;

describe('web/views/activity', () => {
  it('counts pilots per 5-minute bucket over 2 h, oldest first', () => {
    const b = activityBuckets(
      [
        { at: NOW - 1, jobIds: ['a', 'b'] },
        { at: NOW - 4 * MIN, jobIds: ['c'] },
        { at: NOW - 6 * MIN, jobIds: ['d', 'e', 'f'] },
        { at: NOW - 120 * MIN, jobIds: ['g'] },
        { at: NOW - 121 * MIN, jobIds: ['too old'] },
        { at: NOW, jobIds: ['not yet'] },
      ],
      NOW,
    );
    expect(b).toHaveLength(24);
    expect(b[23]).toBe(3);
    expect(b[22]).toBe(3);
    expect(b[0]).toBe(1);
    expect(b.reduce((s, v) => s + v, 0)).toBe(7);
  });

  it('counts pilots created since a time', () => {
    expect(createdSince([{ at: 10, jobIds: ['a'] }, { at: 20, jobIds: ['b', 'c'] }], 20)).toBe(2);
    expect(createdSince([], 0)).toBe(0);
  });

  it('reads enough records to cover a window, within what is kept', () => {
    expect(recordsForWindow(360, 3_600_000, 500)).toBe(25);
    expect(recordsForWindow(3, 7_200_000, 500)).toBe(500);
    expect(recordsForWindow(0, 60_000, 500)).toBe(125);
  });
});
