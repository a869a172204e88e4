/** Helpers shared by CLI commands: argument parsing, config loading with problem output. */
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { formatProblem, type ApfConfig } from '../config/types.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { UsageError, type CliIo } from './command.ts';

export { UsageError } from './command.ts';

/** `node:util` parseArgs that turns its errors into {@link UsageError}. */
export function parse<T extends ParseArgsConfig['options']>(
  args: readonly string[],
  options: T,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ options: T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args: [...args], options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Option declaration of `--config DIR`, shared by every command that reads the config. */
export const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const;

/**
 * Loads the configuration, printing every problem to stderr. Returns undefined (the caller
 * exits 1) when any problem is an error.
 */
export async function loadOrReport(dir: string | undefined, io: CliIo, quietWarnings = false): Promise<ApfConfig | undefined> {
  const resolved = dir ?? io.env['APF_CONFIG_DIR'];
  const result = await loadConfig({ ...(resolved === undefined ? {} : { dir: resolve(io.cwd, resolved) }), signal: io.signal });
  for (const p of result.problems) {
    if (p.severity === 'error' || !quietWarnings) io.stderr.write(`${formatProblem(p)}\n`);
  }
  if (result.config === undefined) {
    const n = result.problems.filter((p) => p.severity === 'error').length;
    io.stderr.write(`configuration invalid: ${n} error(s); nothing was run\n`);
  }
  return result.config;
}

/** The logger of a command: JSON lines on stderr at `$APF_LOG_LEVEL` (default warn for tools). */
export function commandLogger(io: CliIo, defaultLevel = 'warn'): Logger {
  return createLogger({ level: io.env['APF_LOG_LEVEL'] ?? defaultLevel });
}

/** Picks queues by name (`--queue`, repeatable) or all enabled ones. */
export function selectQueues(config: ApfConfig, names: readonly string[] | undefined, all = false) {
  const queues = [...config.queues.values()];
  if (names === undefined || names.length === 0) return queues.filter((q) => q.enabled || all);
  const out = [];
  for (const n of names) {
    const q = config.queues.get(n);
    if (q === undefined) throw new UsageError(`no queue named "${n}" (known: ${queues.map((x) => x.name).join(', ')})`);
    out.push(q);
  }
  return out;
}
