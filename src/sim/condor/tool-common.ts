/**
 * Pieces shared by the simulated condor_* tools (HTCondor simulator, NOT HTCondor): HTCondor's
 * option matching (`-attr` for `-attributes`, one or two dashes), job-id arguments, the queries
 * they become, and the human-readable table cells.
 */
import { parseExpr, type ExprNode } from './classad-expr.ts';

/** What a tool produced (the dispatcher writes it, after any injected fault). */
export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A usage problem: the tool prints `message` (and usage) on stderr and exits 1. */
export class ToolUsageError extends Error {
  override name = 'ToolUsageError';
}

/**
 * HTCondor's `is_dash_arg_prefix`: `arg` is `-name`/`--name` or a prefix of it at least `min`
 * characters long.
 */
export function isOpt(arg: string, name: string, min: number): boolean {
  if (!arg.startsWith('-') || arg === '-') return false;
  const bare = arg.replace(/^--?/, '');
  return bare.length >= min && name.startsWith(bare);
}

/** The value after option `args[i]`; throws {@link ToolUsageError} naming the option when missing. */
export function optValue(args: readonly string[], i: number, tool: string): string {
  const v = args[i + 1];
  if (v === undefined) throw new ToolUsageError(`${tool}: ${args[i]} requires another argument`);
  return v;
}

/** A positional job selector: `C`, `C.P`, or an owner name. */
export type JobSelector = { readonly cluster: number; readonly proc?: number } | { readonly owner: string };

/** Parses a positional argument; undefined for text that is neither an id nor a user name. */
export function parseSelector(arg: string): JobSelector | undefined {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(arg);
  if (m !== null) return m[2] === undefined ? { cluster: Number(m[1]) } : { cluster: Number(m[1]), proc: Number(m[2]) };
  if (/^[A-Za-z_][A-Za-z0-9_.@-]*$/.test(arg)) return { owner: arg };
  return undefined;
}

/** The constraint a list of selectors stands for (condor_q/condor_history OR them together). */
export function selectorConstraint(selectors: readonly JobSelector[]): string | undefined {
  if (selectors.length === 0) return undefined;
  return selectors
    .map((s) =>
      'owner' in s
        ? `Owner == "${s.owner}"`
        : s.proc === undefined
          ? `ClusterId == ${s.cluster}`
          : `(ClusterId == ${s.cluster} && ProcId == ${s.proc})`,
    )
    .join(' || ');
}

/** Parses a constraint, or returns undefined when it does not parse (callers print the tool's error). */
export function tryParse(text: string): ExprNode | undefined {
  try {
    return parseExpr(text);
  } catch {
    return undefined;
  }
}

/** `MM/DD HH:MM` in UTC, the SUBMITTED column. */
export function shortDate(epoch: number): string {
  const d = new Date(epoch * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

/** `D+HH:MM:SS`, the RUN_TIME column. */
export function runTime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${Math.floor(s / 86400)}+${p(Math.floor((s % 86400) / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}

/** One-letter job status codes of the ST column. */
export const STATUS_LETTER: Readonly<Record<number, string>> = { 0: 'U', 1: 'I', 2: 'R', 3: 'X', 4: 'C', 5: 'H', 6: '>', 7: 'S' };

/** A sinful string for a schedd, as the tools print it in connection errors. */
export function sinful(host: string): string {
  return `<127.0.0.1:9618?addrs=127.0.0.1-9618&alias=${host}&noUDP&sock=schedd_sim>`;
}
