/**
 * Reading what `condor_submit` printed (formats.md §2.6): the job ids of the pilots it queued, and
 * the `ERROR:` lines of a failure. Never guesses: output without a recognisable id gives no ids.
 */
import { ApfError } from '../../../errors.ts';

/** Largest proc count accepted from one summary/terse line (a garbled number must not allocate millions of ids). */
export const MAX_PROCS_PER_CLUSTER = 100_000;

const VERBOSE = /^\*\* Proc (\d+)\.(\d+):\s*$/;
const SUMMARY = /(\d+) job\(s\) submitted to cluster (\d+)\./;
const TERSE = /^(\d+)\.(\d+) - (\d+)\.(\d+)$/;

/**
 * The job ids (`<cluster>.<proc>`) in `condor_submit` stdout, in the order printed, without
 * duplicates. Understands every form condor_submit prints:
 * - `-verbose` (and submit files read from stdin): `** Proc C.P:` per job;
 * - normal: `N job(s) submitted to cluster M.` per cluster → `M.0` … `M.(N-1)`;
 * - `-terse`: `M.first - M.last` per cluster.
 * Several clusters (several `queue` statements) give all their ids. Returns `[]` when nothing is
 * recognisable (e.g. `-dry-run` output or an empty stdout); throws `APF_ERR_BATCH_OUTPUT` on an
 * impossible range.
 */
export function parseSubmitOutput(stdout: string): string[] {
  const ids = new Set<string>();
  const addRange = (cluster: string, first: number, last: number, line: string): void => {
    if (last < first || last - first + 1 > MAX_PROCS_PER_CLUSTER) {
      throw new ApfError('APF_ERR_BATCH_OUTPUT', `condor_submit printed an impossible job range: ${line}`, { details: { line } });
    }
    for (let p = first; p <= last; p++) ids.add(`${cluster}.${p}`);
  };
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    const verbose = VERBOSE.exec(line);
    if (verbose !== null) {
      ids.add(`${verbose[1]}.${verbose[2]}`);
      continue;
    }
    const summary = SUMMARY.exec(line);
    if (summary !== null) {
      const count = Number(summary[1]);
      if (count > 0) addRange(summary[2] as string, 0, count - 1, line);
      continue;
    }
    const terse = TERSE.exec(line);
    if (terse !== null) {
      if (terse[1] !== terse[3]) {
        throw new ApfError('APF_ERR_BATCH_OUTPUT', `condor_submit printed a range across clusters: ${line}`, { details: { line } });
      }
      addRange(terse[1] as string, Number(terse[2]), Number(terse[4]), line);
    }
  }
  return [...ids];
}

/**
 * A one-line account of a condor_submit failure for the error message: its `ERROR:` lines (at most
 * `max`), or else its first non-empty stderr lines, joined with ` | `.
 */
export function submitErrorSummary(stderr: string, max = 3): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const errors = lines.filter((l) => l.startsWith('ERROR'));
  const chosen = (errors.length > 0 ? errors : lines).slice(0, max);
  return chosen.join(' | ');
}
