/**
 * Running external commands (condor_*, sbatch, voms-proxy-*) with a deadline.
 *
 * Every command runs in its own process group (`detached`), so that when its deadline passes or
 * the caller aborts, the whole group — the command and anything it forked — is killed: SIGTERM,
 * then SIGKILL after a short grace. A hung `condor_submit` therefore never blocks anything else.
 *
 * execa is loaded on the first command, not with this module: every batch plugin imports this
 * file through the static plugin registry, and an instance whose queues run no command (or runs
 * none yet) should not carry execa's dependency tree (about 10 MiB of RSS; docs/decisions.md).
 */
import { ApfError } from '../errors.ts';
import { onFirstUse } from './on-first-use.ts';

/** execa's module, imported once on first use. */
const loadExeca = onFirstUse(() => import('execa'));

/** Loads the command runner now rather than on the first command (before a privilege drop). */
export async function loadCommandRunner(): Promise<void> {
  await loadExeca();
}

/** Options for {@link runCommand}. */
export interface RunCommandOptions {
  /** Deadline in milliseconds; the process group is killed when it passes. Required: no call is unbounded. */
  timeoutMs: number;
  /** Cancels the command (and kills its process group) when aborted. */
  signal?: AbortSignal;
  /** Text written to the command's stdin (stdin is closed otherwise). */
  input?: string;
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables (merged over `process.env`). */
  env?: Readonly<Record<string, string>>;
  /** Largest stdout/stderr accepted, in bytes. @defaultValue 512 MiB */
  maxBuffer?: number;
  /** Time between SIGTERM and SIGKILL when killing. @defaultValue 2000 ms */
  killGraceMs?: number;
}

/** What a finished command produced. */
export interface CommandResult {
  /** The command and its arguments, for messages. */
  readonly command: string;
  readonly stdout: string;
  readonly stderr: string;
  /** Exit status; `null` when it was ended by a signal. */
  readonly exitCode: number | null;
  /** Wall time in milliseconds. */
  readonly durationMs: number;
}

/**
 * Runs `file args…` without a shell. Resolves with the result whatever the exit status (callers
 * decide what a non-zero status means); rejects with `APF_ERR_COMMAND_TIMEOUT` when the deadline
 * passed, `APF_ERR_ABORTED` when `signal` aborted, and `APF_ERR_COMMAND_FAILED` when the command
 * could not be started at all (e.g. not found).
 */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: RunCommandOptions,
): Promise<CommandResult> {
  const command = [file, ...args].join(' ');
  const { execa } = await loadExeca();
  const started = performance.now();
  if (options.signal?.aborted) throw new ApfError('APF_ERR_ABORTED', `${file}: cancelled before start`);
  const child = execa(file, args, {
    detached: true,
    reject: false,
    stripFinalNewline: false,
    encoding: 'utf8',
    maxBuffer: options.maxBuffer ?? 512 * 1024 * 1024,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: options.env === undefined ? process.env : { ...process.env, ...options.env },
  });
  let why: 'timeout' | 'abort' | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const killGroup = (reason: 'timeout' | 'abort'): void => {
    if (why !== undefined) return;
    why = reason;
    signalGroup(child.pid, 'SIGTERM');
    graceTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), options.killGraceMs ?? 2000);
    graceTimer.unref();
  };
  const deadline = setTimeout(() => killGroup('timeout'), options.timeoutMs);
  const onAbort = (): void => killGroup('abort');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await child;
    const durationMs = Math.round(performance.now() - started);
    if (why === 'timeout') {
      throw new ApfError('APF_ERR_COMMAND_TIMEOUT', `${file} did not finish within ${options.timeoutMs} ms and was killed`, {
        details: { command, timeoutMs: options.timeoutMs, durationMs },
      });
    }
    if (why === 'abort') throw new ApfError('APF_ERR_ABORTED', `${file}: cancelled`, { details: { command } });
    if (result.failed && result.exitCode === undefined && result.signal === undefined) {
      const errno = (result.cause as NodeJS.ErrnoException | undefined)?.code;
      const why =
        errno === 'ENOENT' ? 'command not found (is it on PATH?)' : errno === 'EACCES' ? 'permission denied' : (errno ?? 'spawn failed');
      throw new ApfError('APF_ERR_COMMAND_FAILED', `${file}: ${why}`, { cause: result.cause, details: { command } });
    }
    return {
      command,
      stdout: typeof result.stdout === 'string' ? result.stdout : '',
      stderr: typeof result.stderr === 'string' ? result.stderr : '',
      exitCode: result.exitCode ?? null,
      durationMs,
    };
  } finally {
    clearTimeout(deadline);
    if (graceTimer !== undefined && why === undefined) clearTimeout(graceTimer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Sends `sig` to the process group led by `pid`, ignoring a group that is already gone. */
function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group has already exited.
  }
}

/**
 * Splits a command-line fragment such as `-name schedd01 -pool "cm.example.org:9618"` into
 * arguments the way a POSIX shell would for plain words and single/double quotes (no expansion).
 * Used for APF's verbatim `queryargs` / `submitargs` keys.
 */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote !== null) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote !== null) throw new ApfError('APF_ERR_CONFIG_INVALID', `unterminated ${quote} quote in "${text}"`);
  if (inWord) out.push(cur);
  return out;
}
