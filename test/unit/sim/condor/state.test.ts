import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { isApfError } from '../../../../src/errors.ts';
import { readConfigFile, validateConfig, withDefaults } from '../../../../src/sim/condor/config.ts';
import { withLock, writeFileAtomic } from '../../../../src/sim/condor/lock.ts';
import { cleanup, newState, run, tempDir } from './harness.ts';

afterAll(cleanup);

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isApfError(err, 'APF_ERR_SIM')) return err.message;
    throw err;
  }
  throw new Error('no error');
}

describe('sim/condor/config', () => {
  it('applies defaults to an empty config', () => {
    expect(withDefaults(validateConfig({}))).toMatchObject({
      idleSeconds: 30,
      runSeconds: 300,
      failFraction: 0,
      holdFraction: 0,
      shortFraction: 0,
      shortSeconds: 5,
      maxRunning: undefined,
      removeSeconds: 0,
      firstClusterId: 1,
      proxyCheck: 'exists',
      credMinTimeLeft: 120,
      faults: {},
    });
  });

  it('names every bad field', () => {
    expect(problem(() => validateConfig({ idleSeconds: -1 }))).toMatch(/^config\.json: idleSeconds: /);
    expect(problem(() => validateConfig({ failFraction: 1.5 }))).toMatch(/failFraction/);
    expect(problem(() => validateConfig({ maxRunning: 2.5 }))).toMatch(/maxRunning/);
    expect(problem(() => validateConfig({ faults: { condor_q: { mode: 'explode' } } }))).toMatch(/^config\.json: faults\.condor_q\.mode: /);
    expect(problem(() => validateConfig({ faults: { condor_qq: { mode: 'hang' } } }))).toMatch(/faults.*condor_qq/);
    expect(problem(() => validateConfig({ idelSeconds: 3 }))).toMatch(/idelSeconds/);
    expect(problem(() => validateConfig({ failFraction: 0.6, holdFraction: 0.5 }))).toMatch(/failFraction: failFraction \+ holdFraction \+ shortFraction is 1\.1/);
    const both = problem(() => validateConfig({ idleSeconds: 'x', runSeconds: -3 }));
    expect(both).toMatch(/idleSeconds/);
    expect(both).toMatch(/runSeconds/);
  });

  it('refuses a config.json that is not JSON, and the tools report it', async () => {
    const state = newState();
    writeFileSync(join(state, 'config.json'), '{ nope');
    expect(problem(() => readConfigFile(state))).toMatch(/config\.json: not valid JSON/);
    const r = await run(state, 'condor_q', [], { now: 1_700_000_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^condor_q: apf HTCondor simulator: .*config\.json: not valid JSON/);
  });
});

describe('sim/condor/lock', () => {
  it('writes files atomically (no temporary file left)', () => {
    const d = tempDir();
    writeFileAtomic(join(d, 'f.json'), '{"a":1}');
    writeFileAtomic(join(d, 'f.json'), '{"a":2}');
    expect(readFileSync(join(d, 'f.json'), 'utf8')).toBe('{"a":2}');
    expect(readdirSync(d)).toEqual(['f.json']);
  });

  it('serialises holders: critical sections never overlap', async () => {
    const lock = join(tempDir(), 'lock');
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(
      [...Array(8).keys()].map((i) =>
        withLock(lock, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await sleep(5);
          order.push(i);
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock left by a dead process or an old one', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'dead'), `999999999\n${hostname()}\n${Date.now()}\n`);
    expect(await withLock(join(d, 'dead'), () => 'got it', { timeoutMs: 1000 })).toBe('got it');
    writeFileSync(join(d, 'old'), `${process.pid}\n${hostname()}\n${Date.now() - 10_000}\n`);
    expect(await withLock(join(d, 'old'), () => 'got it too', { timeoutMs: 1000, staleMs: 5000 })).toBe('got it too');
  });

  it('a lock file it cannot read is taken over only once it is old', async () => {
    const d = tempDir();
    const lock = join(d, 'odd');
    writeFileSync(lock, 'garbage');
    await expect(withLock(lock, () => 1, { timeoutMs: 150, staleMs: 60_000 })).rejects.toMatchObject({ code: 'APF_ERR_SIM' });
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    expect(await withLock(lock, () => 2, { timeoutMs: 1000, staleMs: 60_000 })).toBe(2);
  });

  it('gives up after the bounded wait while a live holder keeps it', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'held'), `${process.pid}\n${hostname()}\n${Date.now()}\n`);
    const t = performance.now();
    await expect(withLock(join(d, 'held'), () => 1, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'APF_ERR_SIM' });
    expect(performance.now() - t).toBeGreaterThanOrEqual(190);
  });

  it('a locked schedd makes the tools fail like an unreachable schedd', async () => {
    const state = newState();
    await run(state, 'condor_q', [], { now: 1_700_000_000 }); // creates schedds/local
    writeFileSync(join(state, 'schedds', 'local', 'lock'), `${process.pid}\n${hostname()}\n${Date.now()}\n`);
    const { runCondorTool } = await import('../../../../src/sim/condor/run.ts');
    let err = '';
    const code = await runCondorTool('condor_q', ['-xml'], {
      stateDir: state,
      stdout: { write: () => true },
      stderr: { write: (t: string) => (err += t) },
      env: { USER: 'apf' },
      lockTimeoutMs: 100,
    });
    expect(code).toBe(1);
    expect(err).toMatch(/^\n-- Failed to fetch ads from: /);
  });
});
