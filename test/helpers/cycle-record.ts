import type { CycleRecord } from '../../src/coordination/records.ts';

/**
 * A CycleRecord for tests: by default a committed cycle of queue `Q`, slot 0, token 1, run by
 * instance `i1` that ended at 2000 after 10 ms and submitted `jobIds` (none: outcome `nothing`).
 * Every field can be overridden; `cycleId`, `owner`, `startedAt`, `n`, `submit` and `outcome`
 * follow the overridden queue/slot/token, instance, `at` and `jobIds` unless given themselves.
 */
export function cycleRecord(over: Partial<CycleRecord> = {}): CycleRecord {
  const queue = over.queue ?? 'Q';
  const slot = over.slot ?? 0;
  const token = over.token ?? 1;
  const instance = over.instance ?? 'i1';
  const at = over.at ?? 2000;
  const jobIds = over.jobIds ?? [];
  return {
    queue,
    slot,
    token,
    cycleId: `${queue}:${slot}:${token}`,
    instance,
    owner: `${instance}:1:1`,
    startedAt: at - 10,
    at,
    durationMs: 10,
    lagMs: 0,
    outcome: jobIds.length > 0 ? 'submitted' : 'nothing',
    n: jobIds.length,
    submit: jobIds.length,
    msg: '',
    steps: [],
    blocked: null,
    inputs: { ready: null, pending: null, running: null, siteStatus: null },
    jobIds,
    removed: [],
    error: null,
    configHash: 'h',
    ...over,
  };
}
