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
});
