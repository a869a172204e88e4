import { describe, expect, it } from 'vitest';
import { LayeredEntries } from '../../../src/config/layered.ts';
import { rng } from '../../helpers/rng.ts';

/** What the loader built before the layers: a copy of `base`, then `own` set over it. */
function flat<V>(base: ReadonlyMap<string, V>, own: ReadonlyMap<string, V>): Map<string, V> {
  const out = new Map(base);
  for (const [k, v] of own) out.set(k, v);
  return out;
}

describe('LayeredEntries', () => {
  it('reads like the flat copy: order, size, get, has, keys, values, forEach (300 random layer pairs)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
      const pick = (n: number): Map<string, string> => {
        const m = new Map<string, string>();
        for (let i = 0; i < n; i++) {
          const k = keys[Math.floor(r() * keys.length)] as string;
          m.set(k, `${k}@${seed}.${i}`);
        }
        return m;
      };
      const base = pick(Math.floor(r() * 10));
      const own = pick(Math.floor(r() * 6));
      const layered = new LayeredEntries(base, own);
      const expected = flat(base, own);
      expect([...layered], `seed ${seed}`).toEqual([...expected]);
      expect([...layered.entries()]).toEqual([...expected.entries()]);
      expect([...layered.keys()]).toEqual([...expected.keys()]);
      expect([...layered.values()]).toEqual([...expected.values()]);
      expect(layered.size).toBe(expected.size);
      for (const k of [...keys, 'absent']) {
        expect(layered.get(k)).toBe(expected.get(k));
        expect(layered.has(k)).toBe(expected.has(k));
      }
      const seen: string[] = [];
      const self = {};
      layered.forEach(function (this: unknown, v, k, m) {
        expect(this).toBe(self);
        expect(m).toBe(layered);
        seen.push(`${k}=${v}`);
      }, self);
      expect(seen).toEqual([...expected].map(([k, v]) => `${k}=${v}`));
    }
  });

  it('copies neither layer and lets a Map be made from it', () => {
    const base = new Map([
      ['a', 1],
      ['b', 2],
    ]);
    const own = new Map([
      ['b', 20],
      ['c', 3],
    ]);
    const layered = new LayeredEntries(base, own);
    expect(layered.base).toBe(base);
    expect(layered.own).toBe(own);
    expect(new Map(layered)).toEqual(new Map([['a', 1], ['b', 20], ['c', 3]]));
    expect(Object.prototype.toString.call(layered)).toBe('[object LayeredEntries]');
  });
});
