/** Text and JSON renderings of decisions and cycle outcomes for the CLI. */
import type { CycleOutcome } from '../core/execute.ts';

/** The documented `apf plan --json` record. */
export function decisionJson(o: CycleOutcome): Record<string, unknown> {
  const d = o.decision;
  return { queue: d.queue, n: d.n, submit: d.submit, msg: d.msg, steps: d.steps, blocked: d.blocked };
}

/** The `apf run-once --json` record: the decision plus what happened. */
export function outcomeJson(o: CycleOutcome): Record<string, unknown> {
  return {
    ...decisionJson(o),
    cycle: o.cycleId,
    outcome: o.outcome,
    jobIds: o.jobIds,
    removed: o.removed,
    error: o.error,
    errorCode: o.errorCode,
    durationMs: o.durationMs,
  };
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** A human table: one block per queue with the decision and the reason. */
export function renderOutcomes(outcomes: readonly CycleOutcome[], withOutcome: boolean): string {
  const width = Math.max(5, ...outcomes.map((o) => o.queue.length));
  const lines = [`${pad('QUEUE', width)}  ${'N'.padStart(5)}  ${'SUBMIT'.padStart(6)}${withOutcome ? '  OUTCOME' : ''}`];
  for (const o of outcomes) {
    const d = o.decision;
    const result = withOutcome ? `  ${o.outcome}${o.jobIds.length > 0 ? ` ${o.jobIds.length} job(s)` : ''}` : '';
    lines.push(`${pad(o.queue, width)}  ${String(d.n).padStart(5)}  ${String(d.submit).padStart(6)}${result}`);
    if (d.msg !== '') lines.push(`    why: ${d.msg}`);
    if (d.blocked !== null) lines.push(`    blocked: ${d.blocked}`);
    if (o.error !== null && o.error !== d.blocked) lines.push(`    error: ${o.error}`);
  }
  return `${lines.join('\n')}\n`;
}
