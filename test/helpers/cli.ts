/** Runs the real `apf` CLI (src/cli/main.ts on this Node) as a child process, as an operator would. */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

/** Absolute path of the CLI entry. */
export const APF_ENTRY = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** What a CLI run produced. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `apf …args` with a deadline; never rejects for a non-zero exit. */
export async function runApf(
  args: readonly string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  const r = await execa(process.execPath, [APF_ENTRY, ...args], {
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    env: { APF_LOG_LEVEL: 'warn', ...opts.env },
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    stdin: 'ignore',
  });
  if (r.timedOut) throw new Error(`apf ${args.join(' ')} timed out\n${String(r.stderr)}`);
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
