import { describe, expect, it } from 'vitest';
import { nQueuePlugin } from '../../../../src/plugins/sched/n-queue.ts';
import { simpleNQueuePlugin } from '../../../../src/plugins/sched/simple-n-queue.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/simple-n-queue', () => {
  it('keeps nqueue pilots pending, ignoring activated, running and its input', () => {
    const q = build(simpleNQueuePlugin, { 'sched.simplenqueue.nqueue': '20' });
    expect(q(99, input({ activated: 0, batch: { pending: 6, running: 500 } }))).toEqual({
      n: 14,
      msg: 'SimpleNQueue:in=99,nqueue=20,pending=6,maxpilotspercycle=None,ret=14',
    });
    expect(q(0, input({ batch: { pending: 25, running: 0 } })).n).toBe(0);
  });

  it('caps at maxpilotspercycle', () => {
    const q = build(simpleNQueuePlugin, { 'sched.simplenqueue.nqueue': '20', 'sched.simplenqueue.maxpilotspercycle': '5' });
    expect(q(0, input({ batch: { pending: 6, running: 0 } }))).toEqual({
      n: 5,
      msg: 'SimpleNQueue:in=0,nqueue=20,pending=6,maxpilotspercycle=5,ret=5',
    });
  });

  it('returns the default when the status is invalid', () => {
    const q = build(simpleNQueuePlugin, { 'sched.simplenqueue.nqueue': '20', 'sched.simplenqueue.default': '1' });
    expect(q(3, input({ activated: null }))).toEqual({ n: 1, msg: 'SimpleNQueue:comment=invalid status,in=3,ret=1' });
    expect(q(3, input({ batch: null }))).toEqual({ n: 1, msg: 'SimpleNQueue:comment=invalid status,in=3,ret=1' });
  });

  it('refuses a configuration without nqueue (APF failed every cycle)', () => {
    expect(() => build(simpleNQueuePlugin)).toThrow(/sched\.simplenqueue\.nqueue: missing mandatory key/);
  });

  it('NQueue is the same algorithm under its own name and keys', () => {
    expect(nQueuePlugin.id).toBe('NQueue');
    const q = build(nQueuePlugin, { 'sched.nqueue.nqueue': '20', 'sched.nqueue.maxpilotspercycle': '5' });
    expect(q(0, input({ batch: { pending: 6, running: 0 } }))).toEqual({
      n: 5,
      msg: 'NQueue:in=0,nqueue=20,pending=6,maxpilotspercycle=5,ret=5',
    });
    expect(q(0, input({ batch: null }))).toEqual({ n: 0, msg: 'NQueue:comment=invalid status,in=0,ret=0' });
  });
});
