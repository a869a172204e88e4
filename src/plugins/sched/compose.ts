/**
 * The sched chain: APF's `_callscheds` fold. The queue starts from n = 0, hands each plugin the
 * previous plugin's output, and joins the non-empty messages with `;` (the string monitors parse).
 * Nothing is clamped: a negative result is a retire request.
 */
import { ApfError, describeError } from '../../errors.ts';
import type { SchedFn, SchedInput, SchedResult, SchedStep } from '../define.ts';

/** One configured plugin of a queue's chain. */
export interface ChainLink {
  /** The plugin id (recorded in every step). */
  readonly id: string;
  /** The configured plugin. */
  readonly fn: SchedFn;
}

/** What a whole chain produced. */
export interface ChainResult {
  /** The last plugin's output (0 for an empty chain). */
  readonly n: number;
  /** Non-empty messages joined with `;`, as APF sent them to the monitor. */
  readonly msg: string;
  /** Every step, in chain order. */
  readonly steps: readonly SchedStep[];
}

/**
 * APF's fold: n starts at 0, each output feeds the next, non-empty messages joined with ';'.
 * Throws ApfError `APF_ERR_SCHED` (details.steps = steps so far, details.plugin) if a plugin
 * throws — APF's cycle died there too — or returns something that is not an integer (a bug that
 * must never reach the submitter as a pilot count).
 */
export function runChain(chain: readonly ChainLink[], input: SchedInput): ChainResult {
  let n = 0;
  const steps: SchedStep[] = [];
  const msgs: string[] = [];
  for (const link of chain) {
    let r: SchedResult;
    try {
      r = link.fn(n, input);
    } catch (err) {
      throw new ApfError('APF_ERR_SCHED', `sched plugin ${link.id} failed (in=${n}): ${describeError(err)}`, {
        cause: err,
        details: { plugin: link.id, in: n, steps: Object.freeze([...steps]) },
      });
    }
    if (!Number.isSafeInteger(r.n)) {
      throw new ApfError('APF_ERR_SCHED', `sched plugin ${link.id} returned ${String(r.n)}, not an integer (in=${n})`, {
        details: { plugin: link.id, in: n, out: r.n, steps: Object.freeze([...steps]) },
      });
    }
    // -0 would print as 0 but compare oddly (Object.is); the chain only carries plain integers
    const out = r.n === 0 ? 0 : r.n;
    steps.push(Object.freeze({ plugin: link.id, in: n, out, msg: r.msg }));
    if (r.msg !== null && r.msg !== '') msgs.push(r.msg);
    n = out;
  }
  return { n, msg: msgs.join(';'), steps: Object.freeze(steps) };
}

/**
 * The index of the step that "bound" the result (the last step whose out differs from its in;
 * -1 when none) — the monitor highlights it.
 */
export function bindingStep(steps: readonly SchedStep[]): number {
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i];
    if (s !== undefined && s.out !== s.in) return i;
  }
  return -1;
}
