import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../../src/cli/command.ts';
import { UsageError } from '../../../../src/cli/common.ts';
import { cliEntry, simCondorCommand } from '../../../../src/cli/commands/sim-condor.ts';
import { cleanup, tempDir } from './harness.ts';

afterAll(cleanup);

function io(cwd: string): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: { USER: 'apf' },
    cwd,
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
  };
}

const config = (state: string): unknown => JSON.parse(readFileSync(join(state, 'config.json'), 'utf8'));

describe('cli/commands/sim-condor', () => {
  it('is named "sim condor" and labelled as a simulator', () => {
    expect(simCondorCommand.name).toBe('sim condor');
    expect(simCondorCommand.summary).toMatch(/simulator \(not HTCondor\)/);
    expect(simCondorCommand.usage).toMatch(/HTCondor simulator \(not HTCondor\)/);
  });

  it('creates the state and config from the options and prints the summary', async () => {
    const d = tempDir();
    const x = io(d);
    const code = await simCondorCommand.run(
      ['--state', 'st', '--idle-seconds', '5', '--run-seconds', '60', '--max-running', '10', '--fail-fraction', '0.1', '--fault', 'condor_q=hang:2', '--fault', 'condor_submit=exit'],
      x,
    );
    expect(code).toBe(0);
    expect(config(join(d, 'st'))).toEqual({
      idleSeconds: 5,
      runSeconds: 60,
      maxRunning: 10,
      failFraction: 0.1,
      faults: { condor_q: { mode: 'hang', times: 2 }, condor_submit: { mode: 'exit' } },
    });
    expect(x.out()).toContain(`apf HTCondor simulator (not HTCondor) — state ${join(d, 'st')}`);
    expect(x.out()).toContain('faults: condor_submit=exit, condor_q=hang (2 left)');
    // updates merge; --clear-faults and --advance
    await simCondorCommand.run(['--state', 'st', '--clear-faults', '--advance', '120', '--run-seconds', '30'], io(d));
    await simCondorCommand.run(['--state', 'st', '--advance', '30'], io(d));
    expect(config(join(d, 'st'))).toEqual({ idleSeconds: 5, runSeconds: 30, maxRunning: 10, failFraction: 0.1, clockOffsetSeconds: 150 });
  });

  it('--bin writes the four executables, mode 755, exec-ing this CLI on the state', async () => {
    const d = tempDir();
    const x = io(d);
    expect(await simCondorCommand.run(['--state', 'st', '--bin', 'bin'], x)).toBe(0);
    for (const tool of ['condor_submit', 'condor_q', 'condor_history', 'condor_rm']) {
      const path = join(d, 'bin', tool);
      expect(statSync(path).mode & 0o777).toBe(0o755);
      const text = readFileSync(path, 'utf8');
      expect(text.startsWith('#!/bin/sh\n')).toBe(true);
      expect(text).toContain('HTCondor simulator (NOT HTCondor)');
      expect(text).toContain(`exec '${process.execPath}' '${cliEntry()}' sim condor --state '${join(d, 'st')}' exec ${tool} "$@"\n`);
    }
    expect(cliEntry()).toMatch(/src\/cli\/main\.ts$/);
    expect(x.out()).toContain(`export PATH=${join(d, 'bin')}:$PATH\n`);
  });

  it('exec runs one tool with its output and status', async () => {
    const d = tempDir();
    await simCondorCommand.run(['--state', 'st'], io(d));
    const x = io(d);
    expect(await simCondorCommand.run(['--state', 'st', 'exec', 'condor_history', '-json'], x)).toBe(0);
    expect(x.out()).toBe('[\n]\n');
    const y = io(d);
    expect(await simCondorCommand.run(['--state', 'st', 'exec', 'condor_rm', '1.0'], y)).toBe(1);
    expect(y.err()).toBe('Job 1.0 not found\n');
  });

  it('usage errors', async () => {
    const d = tempDir();
    await expect(simCondorCommand.run([], io(d))).rejects.toBeInstanceOf(UsageError);
    await expect(simCondorCommand.run(['--state', 'st', 'exec', 'condor_status'], io(d))).rejects.toBeInstanceOf(UsageError);
    await expect(simCondorCommand.run(['--state', 'st', '--idle-seconds', 'soon'], io(d))).rejects.toBeInstanceOf(UsageError);
    await expect(simCondorCommand.run(['--state', 'st', '--fault', 'condor_q=explode'], io(d))).rejects.toMatchObject({ code: 'APF_ERR_USAGE' });
    await expect(simCondorCommand.run(['--state', 'st', '--fault', 'condor_qq=hang'], io(d))).rejects.toMatchObject({ code: 'APF_ERR_USAGE' });
    await expect(simCondorCommand.run(['--state', 'st', '--fail-fraction', '2'], io(d))).rejects.toMatchObject({ code: 'APF_ERR_SIM' });
  });
});
