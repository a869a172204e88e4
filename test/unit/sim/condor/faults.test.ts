import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { KILLED_EXIT } from '../../../../src/sim/condor/run.ts';
import { truncate } from '../../../../src/sim/condor/faults.ts';
import { cleanup, newState, run, submitFile, tempDir } from './harness.ts';

const T0 = 1_700_000_000;
const JDL = 'executable = /pilot.sh\n+MATCH_APF_QUEUE = "Q1"\nqueue 3\n';

afterAll(cleanup);

const configOf = (state: string): Record<string, unknown> => JSON.parse(readFileSync(join(state, 'config.json'), 'utf8')) as Record<string, unknown>;

async function withJobs(config: Record<string, unknown>): Promise<string> {
  const state = newState(config);
  await run(state, 'condor_submit', [submitFile(tempDir(), JDL)], { now: T0 });
  return state;
}

describe('sim/condor/faults', () => {
  it('hang: never answers until killed (aborted here); times: 1 clears it for the next run', async () => {
    const state = await withJobs({ faults: { condor_q: { mode: 'hang', times: 1 } } });
    const ac = new AbortController();
    let settled = false;
    const p = run(state, 'condor_q', ['-xml'], { now: T0, signal: ac.signal }).then((r) => {
      settled = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    ac.abort();
    expect(await p).toEqual({ code: KILLED_EXIT, stdout: '', stderr: '' });
    expect(configOf(state)).not.toHaveProperty('faults');
    const next = await run(state, 'condor_q', ['-xml'], { now: T0 });
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('<classads>');
  });

  it('exit: the configured status and stderr, nothing on stdout, no action taken', async () => {
    const state = await withJobs({ faults: { condor_rm: { mode: 'exit', exitCode: 2, stderr: 'condor_rm: schedd overloaded' } } });
    expect(await run(state, 'condor_rm', ['1'], { now: T0 })).toEqual({ code: 2, stdout: '', stderr: 'condor_rm: schedd overloaded\n' });
    expect(await run(state, 'condor_rm', ['1'], { now: T0 })).toMatchObject({ code: 2 }); // no times: stays
    const q = await run(state, 'condor_q', ['-af', 'ProcId'], { now: T0 });
    expect(q.stdout).toBe('0\n1\n2\n');
  });

  it('garbled: exit 0 with output that is neither XML nor JSON', async () => {
    const state = await withJobs({ faults: { condor_q: { mode: 'garbled' } } });
    for (const fmt of ['-xml', '-json']) {
      const r = await run(state, 'condor_q', [fmt], { now: T0 });
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
      expect(r.stdout.startsWith('<?xml')).toBe(false);
      expect(XMLValidator.validate(r.stdout)).not.toBe(true);
      expect(() => JSON.parse(r.stdout) as unknown).toThrow();
    }
  });

  it('truncated: exit 0 with the real output cut in the middle of an ad', async () => {
    const state = await withJobs({ faults: { condor_q: { mode: 'truncated', times: 2 } } });
    const cutXml = await run(state, 'condor_q', ['-xml'], { now: T0 });
    const cutJson = await run(state, 'condor_q', ['-json'], { now: T0 });
    const full = await run(state, 'condor_q', ['-xml'], { now: T0 });
    const fullJson = await run(state, 'condor_q', ['-json'], { now: T0 });
    expect(cutXml.code).toBe(0);
    expect(full.stdout.startsWith(cutXml.stdout)).toBe(true);
    expect(cutXml.stdout).toContain('<c>\n');
    expect(cutXml.stdout).not.toContain('</c>');
    expect(XMLValidator.validate(cutXml.stdout)).not.toBe(true);
    expect(new XMLParser().parse(full.stdout)).toHaveProperty('classads');
    expect(cutJson.code).toBe(0);
    expect(fullJson.stdout.startsWith(cutJson.stdout)).toBe(true);
    expect(cutJson.stdout.length).toBeLessThan(fullJson.stdout.indexOf('\n}'));
    expect(() => JSON.parse(cutJson.stdout) as unknown).toThrow();
    // an output without ads is cut in the middle
    expect(truncate('<?xml version="1.0"?>\n<classads>\n</classads>\n')).toBe('<?xml version="1.0"?>\n');
  });

  it('slow: answers correctly after the delay', async () => {
    const state = await withJobs({ faults: { condor_history: { mode: 'slow', delayMs: 300 } } });
    const t = performance.now();
    const r = await run(state, 'condor_history', ['-json'], { now: T0 });
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
    expect(r).toEqual({ code: 0, stdout: '[\n]\n', stderr: '' });
  });

  it('times: N is consumed exactly once per invocation, also in parallel', async () => {
    const state = await withJobs({ faults: { condor_q: { mode: 'exit', times: 3 } }, idleSeconds: 5 });
    const results = await Promise.all([...Array(6).keys()].map(() => run(state, 'condor_q', ['-json'], { now: T0 })));
    expect(results.filter((r) => r.code === 1)).toHaveLength(3);
    expect(results.filter((r) => r.code === 0)).toHaveLength(3);
    expect(configOf(state)).not.toHaveProperty('faults');
  });

  it('faults on one tool leave the others alone', async () => {
    const state = await withJobs({ faults: { condor_submit: { mode: 'exit' } } });
    expect((await run(state, 'condor_q', ['-af', 'ProcId'], { now: T0 })).stdout).toBe('');
    expect((await run(state, 'condor_history', ['-json'], { now: T0 })).code).toBe(0);
  });
});
