/**
 * `apf sim condor`: the HTCondor simulator (NOT HTCondor). Creates or updates a simulator state
 * directory, optionally writes `condor_submit`/`condor_q`/`condor_history`/`condor_rm`
 * executables that run the simulator, and prints the state summary; `exec <tool>` runs one
 * simulated tool (what those executables call).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliCommand } from '../command.ts';
import { parse, UsageError } from '../common.ts';
import { loadConfig, parseFaultSpec, summarize, updateState, writeWrappers } from '../../sim/condor/admin.ts';
import type { CondorTool, Fault, SimConfigFile } from '../../sim/condor/config.ts';
import { isCondorTool, runCondorTool } from '../../sim/condor/run.ts';

const USAGE = `apf sim condor --state DIR [--bin BINDIR] [--idle-seconds N] [--run-seconds N] [--max-running N]
                [--fail-fraction F] [--hold-fraction F] [--short-fraction F] [--short-seconds N]
                [--advance SECONDS] [--fault TOOL=MODE[:TIMES]]... [--clear-faults]
       apf sim condor --state DIR exec condor_submit|condor_q|condor_history|condor_rm [ARGS...]

HTCondor simulator (not HTCondor): a schedd simulated in the state directory DIR.
  --bin BINDIR      write the executables condor_submit, condor_q, condor_history, condor_rm into
                    BINDIR; put it first on PATH to use the simulator in place of HTCondor
  --idle-seconds    seconds a job stays idle before it runs (default 30)
  --run-seconds     seconds a job runs before it completes (default 300)
  --max-running     slot limit (jobs beyond it stay idle)
  --fail-/--hold-/--short-fraction   share of jobs that fail, are held, finish after --short-seconds
  --advance S       move the simulated clock S seconds forward
  --fault T=M[:N]   make tool T misbehave (M: hang, exit, garbled, truncated, slow) for N runs
                    (every run when N is absent); --clear-faults removes all faults
  exec TOOL ARGS    run one simulated tool (stdout, stderr and exit status as the real tool)
More keys (schedds, removeSeconds, proxyCheck, ...) in DIR/config.json: see docs/simulators.md.`;

const OPTIONS = {
  state: { type: 'string' },
  bin: { type: 'string' },
  'idle-seconds': { type: 'string' },
  'run-seconds': { type: 'string' },
  'max-running': { type: 'string' },
  'fail-fraction': { type: 'string' },
  'hold-fraction': { type: 'string' },
  'short-fraction': { type: 'string' },
  'short-seconds': { type: 'string' },
  advance: { type: 'string' },
  fault: { type: 'string', multiple: true },
  'clear-faults': { type: 'boolean' },
} as const;

function number(name: string, text: string | undefined, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new UsageError(`--${name}: "${text}" is not ${integer ? 'an integer' : 'a number'}`);
  }
  return v;
}

/** The CLI entry that is running this module (src/cli/main.ts from sources, dist/cli/main.js when built). */
export function cliEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(self.endsWith('.ts') ? '../main.ts' : '../main.js', import.meta.url));
}

/** `apf sim condor`. */
export const simCondorCommand: CliCommand = {
  name: 'sim condor',
  summary: 'HTCondor simulator (not HTCondor): condor_submit/q/history/rm over a state directory',
  usage: USAGE,
  async run(args, io) {
    const execAt = args.indexOf('exec');
    const own = execAt < 0 ? args : args.slice(0, execAt);
    const { values } = parse(own, OPTIONS);
    if (values.state === undefined) throw new UsageError('--state DIR is required');
    const stateDir = resolve(io.cwd, values.state);

    if (execAt >= 0) {
      const tool = args[execAt + 1];
      if (tool === undefined || !isCondorTool(tool)) {
        throw new UsageError(`exec: expected one of condor_submit, condor_q, condor_history, condor_rm, got "${tool ?? ''}"`);
      }
      if (own.length !== 2) throw new UsageError('exec takes only --state before it');
      return runCondorTool(tool, args.slice(execAt + 2), {
        stateDir,
        stdout: io.stdout,
        stderr: io.stderr,
        stdin: process.stdin,
        env: io.env,
        cwd: io.cwd,
        signal: io.signal,
      });
    }

    const set: Omit<SimConfigFile, 'faults'> = {};
    const assign = <K extends keyof typeof set>(key: K, v: (typeof set)[K] | undefined): void => {
      if (v !== undefined) set[key] = v;
    };
    assign('idleSeconds', number('idle-seconds', values['idle-seconds']));
    assign('runSeconds', number('run-seconds', values['run-seconds']));
    assign('maxRunning', number('max-running', values['max-running'], true));
    assign('failFraction', number('fail-fraction', values['fail-fraction']));
    assign('holdFraction', number('hold-fraction', values['hold-fraction']));
    assign('shortFraction', number('short-fraction', values['short-fraction']));
    assign('shortSeconds', number('short-seconds', values['short-seconds']));
    const faults: Partial<Record<CondorTool, Fault>> = {};
    for (const spec of values.fault ?? []) {
      const [tool, fault] = parseFaultSpec(spec);
      faults[tool] = fault;
    }
    const advance = number('advance', values.advance);
    await updateState(stateDir, {
      set,
      faults,
      clearFaults: values['clear-faults'] === true,
      ...(advance === undefined ? {} : { advanceSeconds: advance }),
    });
    const config = loadConfig(stateDir);
    io.stdout.write(
      await summarize({
        stateDir,
        config,
        now: Math.floor(Date.now() / 1000 + config.clockOffsetSeconds),
        env: io.env,
        cwd: io.cwd,
        readStdin: () => Promise.resolve(''),
        signal: io.signal,
        lockTimeoutMs: 30_000,
      }),
    );
    if (values.bin !== undefined) {
      const binDir = resolve(io.cwd, values.bin);
      const written = writeWrappers(binDir, stateDir, process.execPath, cliEntry());
      io.stdout.write(`wrote ${written.join(', ')}\nexport PATH=${binDir}:$PATH\n`);
    }
    return 0;
  },
};
