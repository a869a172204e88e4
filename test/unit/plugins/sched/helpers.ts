/** Shared test helpers for the sched plugin tests: building plugins from INI text and inputs. */
import { parseOptions, type OptionSpecs } from '../../../../src/config/options.ts';
import type { ResolvedEntry } from '../../../../src/config/types.ts';
import type { SchedFn, SchedInput, SchedPluginDef } from '../../../../src/plugins/define.ts';
import type { RecentPilots } from '../../../../src/core/info.ts';
export { rng } from '../../../helpers/rng.ts';

/**
 * Builds a plugin the way the config loader does: full INI keys (`sched.ready.offset`) with
 * their text values, parsed by the plugin's own option table under `sched.<id lowercase>.`.
 * Throws when the table reports a problem, so a wrong key name or bad parse fails the test.
 */
export function build<S extends OptionSpecs>(def: SchedPluginDef<S>, keys: Record<string, string> = {}): SchedFn {
  const entries = new Map<string, ResolvedEntry>(
    Object.entries(keys).map(([k, v], i) => [k, { file: 'queues.conf', line: i + 1, raw: v, value: v }]),
  );
  const prefix = `sched.${def.id.toLowerCase()}.`;
  for (const k of entries.keys()) {
    if (!k.startsWith(prefix) || !Object.hasOwn(def.options, k.slice(prefix.length))) {
      throw new Error(`${k} is not a key of ${def.id}`);
    }
  }
  const parsed = parseOptions(def.options, (k) => entries.get(k), { section: 'Q', prefix }, entries);
  if (parsed.problems.length > 0) throw new Error(parsed.problems.map((p) => `${p.key}: ${p.message}`).join('; '));
  return def.create(parsed.values);
}

/** Compact description of what the plugins see; `null` = APF's None. */
export interface InputSpec {
  /** WMS ready (PanDA activated); null = no WMS info. */
  activated?: number | null;
  /** Site status; null = no site info. */
  site?: string | null;
  /** null = no batch info (then batchTotal is null too unless given). */
  batch?: { pending: number; running: number; recent?: RecentPilots } | null;
  batchTotal?: { pending: number; running: number } | null;
  maxPerFactory?: number;
}

/** A SchedInput with everything available unless said otherwise. */
export function input(spec: InputSpec = {}): SchedInput {
  const activated = spec.activated === undefined ? 0 : spec.activated;
  const b = spec.batch === undefined ? { pending: 0, running: 0 } : spec.batch;
  const batch = b === null ? null : { pending: b.pending, running: b.running, done: 0, failed: 0, ...(b.recent ? { recent: b.recent } : {}) };
  const batchTotal =
    spec.batchTotal !== undefined ? spec.batchTotal : b === null ? null : { pending: b.pending, running: b.running };
  return {
    queue: 'Q',
    wms: activated === null ? null : { ready: activated, notready: 0, running: 0, done: 0, failed: 0 },
    site: spec.site === undefined ? { status: 'online' } : spec.site === null ? null : { status: spec.site },
    batch,
    batchTotal,
    maxPerFactory: spec.maxPerFactory,
  };
}


/** A random integer in [lo, hi]. */
export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}
