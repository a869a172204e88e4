/**
 * What the PanDA simulator answers, as data: the statistics dicts the real server would build
 * from its job tables (formats.md §1.2, §1.4) and the CRIC-like queue dump (§1.6).
 */
import type { PyValue } from './encode.ts';
import { queueStateAt, type PandaScenario } from './scenario.ts';

/** States the real server zero-fills for every site present in the statistics. */
const ZERO_FILLED = ['assigned', 'activated', 'running'] as const;

/**
 * `{site: {status: n}}` as `active_job_stats_by_site` / `getJobStatisticsPerSite` give it: only
 * sites with jobs appear; each gets `assigned`, `activated`, `running` (zero-filled), then every
 * other non-zero state. `asDecimal` wraps counts as `decimal.Decimal` (the `decimal` fault).
 */
export function perSiteStats(scenario: PandaScenario, t: number, asDecimal = false): Record<string, Record<string, PyValue>> {
  const out: Record<string, Record<string, PyValue>> = {};
  const wrap = (n: number): PyValue => (asDecimal ? { pyDecimal: String(n) } : n);
  for (const [name, q] of scenario.queues) {
    const { counts } = queueStateAt(q, t);
    if (counts.size === 0) continue;
    const site: Record<string, PyValue> = {};
    for (const s of ZERO_FILLED) site[s] = wrap(counts.get(s) ?? 0);
    for (const [s, n] of counts) if (!(s in site)) site[s] = wrap(n);
    out[name] = site;
  }
  return out;
}

/** Splits `n` over `k` labels; the first labels take the remainder, so the parts add up to `n`. */
export function splitCount(n: number, k: number): number[] {
  const base = Math.floor(n / k);
  return Array.from({ length: k }, (_, i) => base + (i < n % k ? 1 : 0));
}

/**
 * `{site: {prodSourceLabel: {status: n}}}` as `getJobStatisticsWithLabel` gives it: every count
 * spread over the queue's labels (summing the labels gives the per-site counts back); zero counts
 * and empty labels omitted. `sites` filters like the call's `site=` parameter.
 */
export function perLabelStats(
  scenario: PandaScenario,
  t: number,
  sites: ReadonlySet<string> | undefined,
  asDecimal = false,
): Record<string, Record<string, Record<string, PyValue>>> {
  const out: Record<string, Record<string, Record<string, PyValue>>> = {};
  for (const [name, q] of scenario.queues) {
    if (sites !== undefined && !sites.has(name)) continue;
    const { counts } = queueStateAt(q, t);
    if (counts.size === 0) continue;
    const labels: Record<string, Record<string, PyValue>> = {};
    for (const [s, n] of counts) {
      splitCount(n, q.labels.length).forEach((part, i) => {
        if (part === 0) return;
        const label = q.labels[i] as string;
        labels[label] ??= {};
        labels[label][s] = asDecimal ? { pyDecimal: String(part) } : part;
      });
    }
    out[name] = labels;
  }
  return out;
}

/** A CRIC `pandaqueue/query/?json`-like dict keyed by queue (a small subset of the real fields). */
export function cricDump(scenario: PandaScenario, t: number): Record<string, Record<string, string | number | null>> {
  const out: Record<string, Record<string, string | number | null>> = {};
  for (const [name, q] of scenario.queues) {
    out[name] = {
      name,
      nickname: name,
      panda_resource: name,
      siteid: name,
      status: queueStateAt(q, t).status,
      state: 'ACTIVE',
      site_state: 'ACTIVE',
      pilot_manager: 'APF',
      resource_type: 'GRID',
      type: 'production',
      vo_name: 'atlas',
      corecount: 8,
    };
  }
  return out;
}
