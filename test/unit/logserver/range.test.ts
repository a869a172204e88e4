import { describe, expect, it } from 'vitest';
import { parseRange, type RangeResult } from '../../../src/logserver/range.ts';

const full: RangeResult = { kind: 'full' };
const unsat: RangeResult = { kind: 'unsatisfiable' };
const part = (start: number, end: number): RangeResult => ({ kind: 'partial', start, end });

describe('logserver/range', () => {
  it.each<[string | undefined, number, RangeResult]>([
    [undefined, 100, full],
    ['bytes=0-9', 100, part(0, 9)],
    ['bytes=10-', 100, part(10, 99)],
    ['bytes=-10', 100, part(90, 99)],
    ['bytes=-1000', 100, part(0, 99)],
    ['bytes=90-1000', 100, part(90, 99)],
    ['bytes=99-99', 100, part(99, 99)],
    ['BYTES = 5 - 6', 100, part(5, 6)],
    ['bytes=100-', 100, unsat],
    ['bytes=100-200', 100, unsat],
    ['bytes=-0', 100, unsat],
    ['bytes=0-', 0, unsat],
    ['bytes=-5', 0, unsat],
    ['bytes=9-1', 100, full],
    ['bytes=0-1,5-6', 100, full],
    ['items=0-1', 100, full],
    ['bytes=-', 100, full],
    ['bytes=a-b', 100, full],
  ])('%s on %i bytes', (header, size, want) => {
    expect(parseRange(header, size)).toEqual(want);
  });
});
