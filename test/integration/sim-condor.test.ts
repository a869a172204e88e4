/**
 * The HTCondor simulator as separate processes: 20 condor_submit processes at once into one state
 * (the lock), readers racing writers, and — once src/cli/main.ts registers `sim condor` — the
 * executables written by `apf sim condor --bin`, used through PATH exactly as the factory uses
 * HTCondor, including a hanging condor_q killed by its deadline.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApfError } from '../../src/errors.ts';
import { runCommand } from '../../src/util/exec.ts';

const RUN_TS = new URL('../../src/sim/condor/run.ts', import.meta.url).pathname;
const MAIN_TS = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const JDL = (queue: string, n: number): string =>
  `executable = /usr/libexec/wrapper.sh\nuniverse = grid\ngrid_resource = condor ce01.example.org ce01.example.org:9619\n+MATCH_APF_QUEUE = "${queue}"\nqueue ${n}\n`;

let dir: string;
let driver: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sim-condor-it-'));
  // A minimal process entry around runCondorTool, independent of the CLI table.
  driver = join(dir, 'driver.mjs');
  writeFileSync(
    driver,
    `import { runCondorTool } from ${JSON.stringify(pathToFileURL(RUN_TS).href)};\n` +
      'const [tool, stateDir, ...args] = process.argv.slice(2);\n' +
      'process.exitCode = await runCondorTool(tool, args, { stateDir, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function newState(name: string, config: object): string {
  const state = join(dir, name);
  mkdirSync(state, { recursive: true });
  writeFileSync(join(state, 'config.json'), JSON.stringify(config));
  return state;
}

const tool = (name: string, state: string, args: readonly string[]) =>
  runCommand(process.execPath, [driver, name, state, ...args], { timeoutMs: 60_000, env: { USER: 'apf' } });

describe('sim/condor (processes)', () => {
  it('20 parallel condor_submit processes: every job is queued, cluster ids are unique', async () => {
    const state = newState('parallel', { idleSeconds: 3600 });
    const files = [...Array(20).keys()].map((i) => {
      const f = join(dir, `p${i}.jdl`);
      writeFileSync(f, JDL(`Q${i}`, (i % 3) + 1));
      return f;
    });
    // readers race the writers: each must see a whole, parseable queue
    const readers = [...Array(5).keys()].map(() => tool('condor_q', state, ['-json', '-attributes', 'ClusterId']));
    const results = await Promise.all(files.map((f) => tool('condor_submit', state, ['-terse', f])));
    for (const r of results) expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    const ranges = results.map((r) => /^(\d+)\.0 - \1\.(\d+)\n$/.exec(r.stdout));
    expect(ranges.every((m) => m !== null)).toBe(true);
    const clusters = ranges.map((m) => Number(m?.[1]));
    expect(new Set(clusters).size).toBe(20);
    expect([...clusters].sort((a, b) => a - b)).toEqual([...Array(20).keys()].map((i) => i + 1));

    for (const r of await Promise.all(readers)) {
      expect(r.exitCode).toBe(0);
      if (r.stdout !== '') expect(Array.isArray(JSON.parse(r.stdout))).toBe(true);
    }
    const q = await tool('condor_q', state, ['-af', 'MATCH_APF_QUEUE', 'ClusterId', 'ProcId']);
    const lines = q.stdout.trim().split('\n');
    const expected = [...Array(20).keys()].reduce((n, i) => n + (i % 3) + 1, 0);
    expect(lines).toHaveLength(expected);
    // each queue's jobs are in exactly one cluster, with procs 0..n-1
    for (let i = 0; i < 20; i++) {
      const mine = lines.filter((l) => l.startsWith(`Q${i} `)).map((l) => l.split(' '));
      expect(new Set(mine.map((m) => m[1])).size).toBe(1);
      expect(mine.map((m) => Number(m[2]))).toEqual([...Array((i % 3) + 1).keys()]);
    }
  }, 120_000);

  it('parallel condor_rm and condor_q on one state keep it consistent', async () => {
    const state = newState('rm', { idleSeconds: 3600 });
    const f = join(dir, 'rm.jdl');
    writeFileSync(f, JDL('R', 10));
    await tool('condor_submit', state, [f]);
    const rms = await Promise.all([...Array(10).keys()].map((p) => tool('condor_rm', state, [`1.${p}`])));
    expect(rms.map((r) => r.stdout).sort()).toEqual([...Array(10).keys()].map((p) => `Job 1.${p} marked for removal\n`).sort());
    expect((await tool('condor_q', state, ['-af', 'ProcId'])).stdout).toBe('');
    const h = await tool('condor_history', state, ['-af', 'ProcId', 'JobStatus']);
    expect(h.stdout.trim().split('\n').sort()).toEqual([...Array(10).keys()].map((p) => `${p} 3`).sort());
  }, 60_000);
});

/** True when the CLI entry exists and registers `sim condor` (it is written by another task). */
async function cliHasSimCondor(): Promise<boolean> {
  try {
    const main = (await import(pathToFileURL(MAIN_TS).href)) as { findCommand?: (argv: readonly string[]) => unknown };
    return typeof main.findCommand === 'function' && main.findCommand(['sim', 'condor']) !== undefined;
  } catch {
    return false;
  }
}

const CLI_READY = await cliHasSimCondor();
if (!CLI_READY) {
  console.warn('sim-condor integration: src/cli/main.ts does not register `sim condor` yet; the PATH tests are skipped');
}

describe.skipIf(!CLI_READY)('apf sim condor (CLI, executables on PATH)', () => {
  let state: string;
  let bin: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    state = join(dir, 'cli-state');
    bin = join(dir, 'bin');
    const r = await runCommand(process.execPath, [MAIN_TS, 'sim', 'condor', '--state', state, '--bin', bin, '--idle-seconds', '5', '--run-seconds', '60'], {
      timeoutMs: 60_000,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`export PATH=${bin}:$PATH\n`);
    env = { PATH: `${bin}:${process.env['PATH'] ?? ''}`, USER: 'apf', HOSTNAME: 'apf01.example.org' };
  });

  const onPath = (name: string, args: readonly string[], timeoutMs = 60_000) => runCommand(name, args, { timeoutMs, env, cwd: dir });

  it('condor_submit, condor_q, condor_history and condor_rm work through PATH', async () => {
    const f = join(dir, 'cli.jdl');
    writeFileSync(f, `${JDL('CLI', 2)}`.replace('queue 2', '+FACTORY_JOBID = "$ENV(HOSTNAME)#$(Cluster).$(Process)"\nqueue 2'));
    const sub = await onPath('condor_submit', [f]);
    expect(sub).toMatchObject({ exitCode: 0, stdout: 'Submitting job(s)..\n2 job(s) submitted to cluster 1.\n', stderr: '' });
    const q = await onPath('condor_q', ['-xml', '-attributes', 'ClusterId,ProcId,JobStatus,FACTORY_JOBID']);
    expect(q.exitCode).toBe(0);
    expect(q.stdout).toContain('<a n="FACTORY_JOBID"><s>apf01.example.org#1.1</s></a>');
    // fast-forward the simulated clock instead of sleeping
    await runCommand(process.execPath, [MAIN_TS, 'sim', 'condor', '--state', state, '--advance', '100'], { timeoutMs: 60_000 });
    const h = await onPath('condor_history', ['-json', '-attributes', 'ProcId,JobStatus,ExitCode']);
    expect(JSON.parse(h.stdout)).toEqual([
      { ExitCode: 0, JobStatus: 4, ProcId: 1 },
      { ExitCode: 0, JobStatus: 4, ProcId: 0 },
    ]);
    const rm = await onPath('condor_rm', ['1']);
    expect(rm).toMatchObject({ exitCode: 0, stdout: '', stderr: 'condor_rm:0:There are no jobs in the queue\n' });
  }, 120_000);

  it('a hanging condor_q is killed by the caller deadline; the fault clears after its runs', async () => {
    await runCommand(process.execPath, [MAIN_TS, 'sim', 'condor', '--state', state, '--fault', 'condor_q=hang:1'], { timeoutMs: 60_000 });
    let err: unknown;
    try {
      await onPath('condor_q', ['-xml'], 3000);
    } catch (e) {
      err = e;
    }
    expect(isApfError(err, 'APF_ERR_COMMAND_TIMEOUT')).toBe(true);
    const next = await onPath('condor_q', ['-xml']);
    expect(next.exitCode).toBe(0);
    expect(next.stdout.startsWith('<?xml version="1.0"?>\n')).toBe(true);
  }, 120_000);
});
