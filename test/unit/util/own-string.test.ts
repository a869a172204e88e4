import { describe, expect, it } from 'vitest';
import { ownString } from '../../../src/util/own-string.ts';

describe('util/own-string', () => {
  it('returns the same characters for every kind of string, lone surrogates included', () => {
    const cases = [
      '',
      'short',
      'exactly13char',
      'BENCH_00001-ce.example.org',
      'naïve café — ünïcödé 日本語 text long enough',
      'emoji 🚀 pair and more text after it',
      `lone high \ud800 surrogate in a long string`,
      `lone low \udc00 surrogate in a long string`,
      'x'.repeat(100_000),
    ];
    for (const s of cases) expect(ownString(s)).toBe(s);
    // a slice of a larger string, the case it exists for
    const file = `[${'Q'.repeat(40)}]\n${'# comment\n'.repeat(1000)}`;
    const name = file.slice(1, 41);
    expect(ownString(name)).toBe(name);
  });
});
