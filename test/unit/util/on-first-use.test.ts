import { describe, expect, it } from 'vitest';
import { onFirstUse } from '../../../src/util/on-first-use.ts';

describe('util/on-first-use', () => {
  it('loads nothing until called, then once, handing every caller the same promise', async () => {
    let calls = 0;
    const load = onFirstUse(() => Promise.resolve(++calls));
    expect(calls).toBe(0);
    const [a, b] = [load(), load()];
    expect(a).toBe(b);
    expect(await a).toBe(1);
    expect(await load()).toBe(1);
    expect(calls).toBe(1);
  });

  it('returns a synchronous value as it is, built once; a throwing load runs again next time', () => {
    let calls = 0;
    const built = onFirstUse(() => ({ n: ++calls }));
    expect(calls).toBe(0);
    const first = built();
    expect(built()).toBe(first);
    expect(first).toEqual({ n: 1 });
    let tries = 0;
    const flaky = onFirstUse(() => {
      if (++tries === 1) throw new Error('not yet');
      return tries;
    });
    expect(() => flaky()).toThrow('not yet');
    expect(flaky()).toBe(2);
    expect(flaky()).toBe(2);
  });
});
