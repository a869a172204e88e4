/**
 * Entry point of the simulated condor_* tools (HTCondor simulator, NOT HTCondor):
 * {@link runCondorTool} runs one tool against a state directory with the real tool's stdout,
 * stderr and exit status, after applying any fault injected in config.json. The executables
 * written by `apf sim condor --bin` end up here through `apf sim condor exec <tool>`.
 */
import { readConfigFile, withDefaults, CONDOR_TOOLS, type CondorTool } from './config.ts';
import { isApfError } from '../../errors.ts';
import { delay, exitResult, GARBLED_OUTPUT, hang, takeFault, truncate } from './faults.ts';
import type { ToolContext } from './schedd.ts';
import type { ToolResult } from './tool-common.ts';
import { condorHistory } from './tool-history.ts';
import { condorQ } from './tool-q.ts';
import { condorRm } from './tool-rm.ts';
import { condorSubmit } from './tool-submit.ts';

/** Options of {@link runCondorTool}. */
export interface RunCondorToolOptions {
  /** The simulator's state directory (config.json, schedds/). */
  readonly stateDir: string;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Standard input (`condor_submit -`): a string or a stream such as `process.stdin`. @defaultValue empty */
  readonly stdin?: string | AsyncIterable<string | Uint8Array>;
  /** Wall clock in epoch ms (config `clockOffsetSeconds` is added). @defaultValue Date.now */
  readonly now?: () => number;
  /** Environment (`$ENV()`, `USER`, `X509_USER_PROXY`). @defaultValue process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Working directory (relative submit files and paths). @defaultValue process.cwd() */
  readonly cwd?: string;
  /** Ends a `hang` fault or a lock wait (the process would be killed instead). */
  readonly signal?: AbortSignal;
  /** Longest wait for a schedd's lock. @defaultValue 30000 */
  readonly lockTimeoutMs?: number;
}

/** Exit status of a tool ended by SIGTERM while hanging (128 + 15), as a shell reports it. */
export const KILLED_EXIT = 143;

const TOOLS: Readonly<Record<CondorTool, (args: readonly string[], ctx: ToolContext) => Promise<ToolResult>>> = {
  condor_submit: condorSubmit,
  condor_q: condorQ,
  condor_history: condorHistory,
  condor_rm: condorRm,
};

/** True for the names of the simulated tools. */
export function isCondorTool(name: string): name is CondorTool {
  return (CONDOR_TOOLS as readonly string[]).includes(name);
}

async function readAll(stdin: RunCondorToolOptions['stdin']): Promise<string> {
  if (stdin === undefined) return '';
  if (typeof stdin === 'string') return stdin;
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Runs one simulated tool; resolves to its exit status. Simulator problems (invalid config.json,
 * corrupt state) are reported on stderr with exit status 1, like a tool that cannot work.
 */
export async function runCondorTool(tool: CondorTool, args: readonly string[], options: RunCondorToolOptions): Promise<number> {
  const { stdout, stderr } = options;
  try {
    const config = withDefaults(readConfigFile(options.stateDir));
    const fault = await takeFault(options.stateDir, tool, config.faults[tool], options.signal);
    if (fault?.mode === 'hang') {
      await hang(options.signal);
      return KILLED_EXIT;
    }
    if (fault?.mode === 'exit') {
      const r = exitResult(tool, fault);
      stderr.write(r.stderr);
      return r.code;
    }
    if (fault?.mode === 'slow') await delay(fault.delayMs ?? 5000, options.signal);
    const wall = (options.now ?? Date.now)();
    const ctx: ToolContext = {
      stateDir: options.stateDir,
      config,
      now: Math.floor(wall / 1000 + config.clockOffsetSeconds),
      env: options.env ?? process.env,
      cwd: options.cwd ?? process.cwd(),
      readStdin: () => readAll(options.stdin),
      signal: options.signal,
      lockTimeoutMs: options.lockTimeoutMs ?? 30_000,
    };
    const result = await TOOLS[tool](args, ctx);
    if (fault?.mode === 'garbled') {
      stdout.write(GARBLED_OUTPUT);
      return 0;
    }
    if (fault?.mode === 'truncated') {
      stdout.write(truncate(result.stdout));
      return 0;
    }
    if (result.stdout !== '') stdout.write(result.stdout);
    if (result.stderr !== '') stderr.write(result.stderr);
    return result.code;
  } catch (err) {
    if (isApfError(err, 'APF_ERR_SIM') || isApfError(err, 'APF_ERR_ABORTED')) {
      stderr.write(`${tool}: apf HTCondor simulator: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
