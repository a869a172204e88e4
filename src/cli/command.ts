/**
 * The CLI command contract. Each command lives in `src/cli/commands/<name>.ts` and exports one
 * {@link CliCommand}; `src/cli/main.ts` holds the static table. Commands write through
 * {@link CliIo} (so tests can capture output) and return the process exit status; only
 * `src/cli/main.ts` calls `process.exit`.
 */

/** Output streams and environment of one CLI invocation. */
export interface CliIo {
  /** Command output (tables, JSON). */
  readonly stdout: { write(text: string): unknown };
  /** Diagnostics and errors. */
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Aborted on SIGINT/SIGTERM for long-running commands (simulators, run-once). */
  readonly signal: AbortSignal;
}

/** One `apf <name>` command. */
export interface CliCommand {
  /** Word(s) after `apf`, e.g. `check-config`, `sim panda`. */
  readonly name: string;
  /** One line for `apf help`. */
  readonly summary: string;
  /** Usage text printed by `apf <name> --help` and on usage errors. */
  readonly usage: string;
  /** Runs the command with the arguments after its name; resolves to the exit status. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Thrown for usage errors; main prints the message and the command's usage, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
