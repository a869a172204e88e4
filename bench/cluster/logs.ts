/**
 * What the benchmarked instances logged (APF_LOG_LEVEL=warn, one pino JSON record a line): a
 * summary for the console, and the cycle jobs the survivors found stalled after a kill.
 */
import { readFileSync } from 'node:fs';
import { queueOfScheduler } from '../../src/coordination/dispatch.ts';

/**
 * The queues whose cycle job a dead instance held: the survivors' stalled-job checks log each job
 * they move back to wait (`repeat:<scheduler id>:<slot>`, slots up to the kill).
 */
export function stalledQueues(logs: readonly string[], killAt: number): Set<string> {
  const out = new Set<string>();
  for (const file of logs) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes('stalled cycle job')) continue;
      const m = /"jobId":"repeat:([^"]+):(\d+)"/.exec(line);
      if (m !== null && Number(m[2]) <= killAt) out.add(queueOfScheduler(m[1] as string));
    }
  }
  return out;
}

/** The messages an instance logged (at warn and above: APF_LOG_LEVEL=warn), counted. */
export function summarizeLog(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 'none';
  }
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let msg = line.slice(0, 100);
    try {
      msg = String((JSON.parse(line) as { msg?: unknown }).msg);
    } catch {
      // not a pino line (the CLI's own messages)
    }
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  return counts.size === 0 ? 'nothing' : [...counts].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([m, n]) => `${n}× ${m}`).join('; ');
}
