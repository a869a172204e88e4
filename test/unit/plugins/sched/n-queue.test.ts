import { describe, expect, it } from 'vitest';
import { nQueuePlugin } from '../../../../src/plugins/sched/n-queue.ts';
import { simpleNQueuePlugin } from '../../../../src/plugins/sched/simple-n-queue.ts';
import { build, input, randInt, rng } from './helpers.ts';

describe('plugins/sched/n-queue', () => {
  it('gives the numbers SimpleNQueue gives for the same settings', () => {
    const r = rng(7);
    for (let i = 0; i < 200; i++) {
      const nqueue = String(randInt(r, 0, 50));
      const cap = String(randInt(r, 0, 30));
      const a = build(nQueuePlugin, { 'sched.nqueue.nqueue': nqueue, 'sched.nqueue.maxpilotspercycle': cap });
      const b = build(simpleNQueuePlugin, { 'sched.simplenqueue.nqueue': nqueue, 'sched.simplenqueue.maxpilotspercycle': cap });
      const inp = input({ batch: { pending: randInt(r, 0, 80), running: randInt(r, 0, 80) } });
      const n = randInt(r, -10, 10);
      const ra = a(n, inp);
      const rb = b(n, inp);
      expect(ra.n).toBe(rb.n);
      expect(ra.msg).toBe(rb.msg?.replace(/^SimpleNQueue:/, 'NQueue:'));
    }
  });

  it('requires sched.nqueue.nqueue', () => {
    expect(() => build(nQueuePlugin, { 'sched.nqueue.default': '1' })).toThrow(/sched\.nqueue\.nqueue/);
  });
});
