import { describe, expect, it } from 'vitest';
import { isApfError, type ApfError } from '../../../../src/errors.ts';
import type { SchedStep } from '../../../../src/plugins/define.ts';
import { bindingStep, runChain, type ChainLink } from '../../../../src/plugins/sched/compose.ts';
import { keepNRunningPlugin } from '../../../../src/plugins/sched/keep-n-running.ts';
import { maxPendingPlugin } from '../../../../src/plugins/sched/max-pending.ts';
import { maxPerCyclePlugin } from '../../../../src/plugins/sched/max-per-cycle.ts';
import { maxToRunPlugin } from '../../../../src/plugins/sched/max-to-run.ts';
import { minPendingPlugin } from '../../../../src/plugins/sched/min-pending.ts';
import { minPerCyclePlugin } from '../../../../src/plugins/sched/min-per-cycle.ts';
import { pyFloat } from '../../../../src/plugins/sched/pyformat.ts';
import { readyPlugin } from '../../../../src/plugins/sched/ready.ts';
import { scalePlugin } from '../../../../src/plugins/sched/scale.ts';
import { statusOfflinePlugin } from '../../../../src/plugins/sched/status-offline.ts';
import { statusTestPlugin } from '../../../../src/plugins/sched/status-test.ts';
import type { OptionSpecs } from '../../../../src/config/options.ts';
import type { SchedPluginDef } from '../../../../src/plugins/define.ts';
import { build, input, randInt, rng } from './helpers.ts';

function link<S extends OptionSpecs>(def: SchedPluginDef<S>, keys: Record<string, string> = {}): ChainLink {
  return { id: def.id, fn: build(def, keys) };
}

/** A plugin that returns a constant (and records what it was given). */
function constant(id: string, n: number, msg: string | null = `${id}:ret=${n}`, seen: number[] = []): ChainLink {
  return {
    id,
    fn: (inN) => {
      seen.push(inN);
      return { n, msg };
    },
  };
}

/** What `fn` threw (fails the test when it did not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('plugins/sched/compose', () => {
  it("reproduces the APF manual's worked example (86 → 43 → 43 → 43 → 43 → 15 → 15)", () => {
    const chain = [
      link(readyPlugin, { 'sched.ready.offset': '4' }),
      link(scalePlugin, { 'sched.scale.factor': '0.5' }),
      link(statusTestPlugin, { 'sched.statustest.pilots': '3' }),
      link(maxPerCyclePlugin, { 'sched.maxpercycle.maximum': '100' }),
      link(minPerCyclePlugin, { 'sched.minpercycle.minimum': '0' }),
      link(maxPendingPlugin, { 'sched.maxpending.maximum': '25' }),
      link(statusOfflinePlugin, { 'sched.statusoffline.pilots': '1' }),
    ];
    const r = runChain(chain, input({ activated: 100, site: 'online', batch: { pending: 10, running: 8 } }));
    expect(r.steps.map((s) => s.out)).toEqual([86, 43, 43, 43, 43, 15, 15]);
    expect(r.steps.map((s) => s.in)).toEqual([0, 86, 43, 43, 43, 43, 15]);
    expect(r.steps.map((s) => s.plugin)).toEqual([
      'Ready', 'Scale', 'StatusTest', 'MaxPerCycle', 'MinPerCycle', 'MaxPending', 'StatusOffline',
    ]);
    expect(r.n).toBe(15);
    expect(r.msg).toBe(
      [
        'Ready:in=0,activated=100,offset=4,pending=10,ret=86',
        'Scale:in=86,factor=0.5,ret=43',
        'StatusTest:comment=not test,in=43,ret=43',
        'MaxPerCycle:in=43,maxpercycle=100,ret=43',
        'MinPerCycle:in=43,minpercycle=0,ret=43',
        'MaxPending:in=43,pending=10,maxpending=25,ret=15',
        'StatusOffline:comment=not offline,in=15,ret=15',
      ].join(';'),
    );
    expect(bindingStep(r.steps)).toBe(5); // MaxPending bound the result
  });

  it('starts from 0, feeds each output to the next plugin and skips null/empty messages', () => {
    const seen: number[] = [];
    const r = runChain(
      [constant('A', 5, 'A:ret=5', seen), constant('B', 7, null, seen), constant('C', 9, '', seen), constant('D', 2, 'D:ret=2', seen)],
      input(),
    );
    expect(seen).toEqual([0, 5, 7, 9]);
    expect(r).toEqual({
      n: 2,
      msg: 'A:ret=5;D:ret=2',
      steps: [
        { plugin: 'A', in: 0, out: 5, msg: 'A:ret=5' },
        { plugin: 'B', in: 5, out: 7, msg: null },
        { plugin: 'C', in: 7, out: 9, msg: '' },
        { plugin: 'D', in: 9, out: 2, msg: 'D:ret=2' },
      ],
    });
  });

  it('an empty chain gives 0 and an empty message', () => {
    expect(runChain([], input())).toEqual({ n: 0, msg: '', steps: [] });
  });

  it('is order-dependent: MaxToRun before or after MinPerCycle', () => {
    const inp = input({ activated: 24, batch: { pending: 4, running: 14 } });
    const ready = link(readyPlugin);
    const maxToRun = link(maxToRunPlugin, { 'sched.maxtorun.maximum': '15' });
    const minPerCycle = link(minPerCyclePlugin, { 'sched.minpercycle.minimum': '0' });
    // Ready: 24 − 4 = 20. MaxToRun: min(20, 15 − 18) = −3.
    const capThenFloor = runChain([ready, maxToRun, minPerCycle], inp);
    const floorThenCap = runChain([ready, minPerCycle, maxToRun], inp);
    expect(capThenFloor.n).toBe(0); // the floor hides the overshoot
    expect(floorThenCap.n).toBe(-3); // a retire request reaches the submitter
    expect(floorThenCap.msg).toBe(
      'Ready:in=0,activated=24,offset=0,pending=4,ret=20;MinPerCycle:in=20,minpercycle=0,ret=20;' +
        'MaxToRun:in=20,maxtorun=15,pending=4,running=14,ret=-3',
    );
  });

  it('lets negative numbers flow through the chain unclamped', () => {
    const r = runChain(
      [
        link(keepNRunningPlugin, { 'sched.keepnrunning.keep_running': '5' }),
        link(scalePlugin, { 'sched.scale.factor': '0.5' }),
        link(maxPerCyclePlugin, { 'sched.maxpercycle.maximum': '10' }),
      ],
      input({ batch: { pending: 3, running: 9 } }),
    );
    expect(r.steps.map((s) => s.out)).toEqual([-7, -3, -3]);
    expect(r.n).toBe(-3);
    expect(r.msg).toBe(
      'KeepNRunning:in=0,keep=5,running=9,pending=3,retiring=0,ret=-7;Scale:in=-7,factor=0.5,ret=-3;' +
        'MaxPerCycle:in=-3,maxpercycle=10,ret=-3',
    );
    expect(bindingStep(r.steps)).toBe(1);
  });

  it('turns a throwing plugin into APF_ERR_SCHED with the plugin, the steps so far and the cause', () => {
    let caught: unknown;
    try {
      runChain([constant('A', 4), link(minPendingPlugin, { 'sched.minpending.minimum': '2' }), constant('Z', 1)], input({ batch: null }));
    } catch (err) {
      caught = err;
    }
    expect(isApfError(caught, 'APF_ERR_SCHED')).toBe(true);
    const e = caught as ApfError;
    expect(e.details['plugin']).toBe('MinPending');
    expect(e.details['steps']).toEqual([{ plugin: 'A', in: 0, out: 4, msg: 'A:ret=4' }]);
    expect(e.message).toContain('MinPending');
    expect(e.message).toContain('no batch info');
    expect(isApfError(e.cause, 'APF_ERR_SCHED')).toBe(true);
  });

  it('wraps a non-ApfError throw too, and refuses a non-integer result', () => {
    const boom: ChainLink = {
      id: 'Boom',
      fn: () => {
        throw new TypeError('bad');
      },
    };
    const e1 = thrown(() => runChain([boom], input()));
    expect(isApfError(e1, 'APF_ERR_SCHED')).toBe(true);
    expect((e1 as ApfError).details['plugin']).toBe('Boom');
    expect((e1 as ApfError).details['steps']).toEqual([]);
    expect((e1 as ApfError).message).toContain('bad');
    for (const bad of [NaN, 1.5, Infinity]) {
      const e2 = thrown(() => runChain([constant('A', 1), constant('Bad', bad)], input()));
      expect(isApfError(e2, 'APF_ERR_SCHED')).toBe(true);
      expect((e2 as ApfError).details['plugin']).toBe('Bad');
      expect((e2 as ApfError).details['steps']).toEqual([{ plugin: 'A', in: 0, out: 1, msg: 'A:ret=1' }]);
    }
  });

  it('bindingStep: the last step whose out differs from its in, or -1', () => {
    const s = (i: number, o: number): SchedStep => ({ plugin: 'P', in: i, out: o, msg: null });
    expect(bindingStep([])).toBe(-1);
    expect(bindingStep([s(0, 0), s(0, 0)])).toBe(-1);
    expect(bindingStep([s(0, 9), s(9, 9), s(9, 9)])).toBe(0);
    expect(bindingStep([s(0, 9), s(9, 4), s(4, 4)])).toBe(1);
    expect(bindingStep([s(0, 9), s(9, 4), s(4, 5)])).toBe(2);
  });

  it('property: Scale, MaxPerCycle, MinPerCycle and MaxPending obey their formulas for random inputs', () => {
    const r = rng(42);
    for (let i = 0; i < 500; i++) {
      const start = randInt(r, -200, 200);
      const factor = randInt(r, -8, 40) / 8; // exact binary fractions: −1 … 5 in steps of 1/8
      const max = randInt(r, -20, 150);
      const min = randInt(r, -20, 50);
      const maxPending = r() < 0.2 ? undefined : randInt(r, 0, 60);
      const allowNegative = r() < 0.5;
      const pending = r() < 0.25 ? 0 : randInt(r, 0, 80);

      const keys: Record<string, string> = { 'sched.maxpending.allow_negative': allowNegative ? 'True' : 'False' };
      if (maxPending !== undefined) keys['sched.maxpending.maximum'] = String(maxPending);
      const chain = [
        constant('Start', start),
        link(scalePlugin, { 'sched.scale.factor': String(factor) }),
        link(maxPerCyclePlugin, { 'sched.maxpercycle.maximum': String(max) }),
        link(minPerCyclePlugin, { 'sched.minpercycle.minimum': String(min) }),
        link(maxPendingPlugin, keys),
      ];
      const res = runChain(chain, input({ batch: { pending, running: randInt(r, 0, 100) } }));
      const [, scale, maxPc, minPc, maxP] = res.steps as [SchedStep, SchedStep, SchedStep, SchedStep, SchedStep];

      // Scale: "out = ceil(n × factor)": the smallest integer not below the product
      expect(Number.isInteger(scale.out)).toBe(true);
      expect(scale.out >= start * factor && scale.out - 1 < start * factor).toBe(true);
      expect(scale.msg).toBe(`Scale:in=${start},factor=${pyFloat(factor)},ret=${scale.out}`);
      // MaxPerCycle: "out = min(n, max)"
      expect(maxPc.out).toBe(scale.out < max ? scale.out : max);
      expect(maxPc.msg).toBe(`MaxPerCycle:in=${scale.out},maxpercycle=${max},ret=${maxPc.out}`);
      // MinPerCycle: "out = max(n, min)"
      expect(minPc.out).toBe(maxPc.out > min ? maxPc.out : min);
      expect(minPc.msg).toBe(`MinPerCycle:in=${maxPc.out},minpercycle=${min},ret=${minPc.out}`);
      // MaxPending: "P == 0 → n; P > 0 and max set → t = max − P, floored at 0 unless negatives allowed, out = min(n, t); unset → n"
      let want = minPc.out;
      if (pending > 0 && maxPending !== undefined) {
        let t = maxPending - pending;
        if (!allowNegative && t < 0) t = 0;
        want = minPc.out < t ? minPc.out : t;
      }
      expect(maxP.out).toBe(want);
      expect(maxP.msg).toBe(`MaxPending:in=${minPc.out},pending=${pending},maxpending=${maxPending ?? 'None'},ret=${want}`);
      expect(res.n).toBe(want);
    }
  });
});
