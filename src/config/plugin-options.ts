/**
 * Slicing a queue section into the option tables of its plugins: `sched.<id>.<param>`,
 * `wmsstatus.<id>.<param>` / `batchstatus.<id>.<param>` (queue section first, then [Factory]),
 * and `batchsubmit.<level>.<param>` along APF's key-inheritance chain (most specific wins).
 */
import { parseOptions } from './options.ts';
import type { ConfigProblem, PluginChoice, ProblemSeverity, ResolvedEntry } from './types.ts';
import type { AnyPluginDef, PluginFamily } from '../plugins/define.ts';
import { findPlugin, pluginIds } from '../plugins/registry.ts';

/** Where the plugin name was written, for locating problems. */
export interface ChoiceSite {
  readonly section: string;
  /** The key naming the plugin (`schedplugin`, `batchsubmitplugin`…). */
  readonly key: string;
  readonly entry: ResolvedEntry | undefined;
  /** Severity of problems (warnings for disabled queues). */
  readonly severity: ProblemSeverity;
}

/**
 * Overlays APF's submit key chain: for `keyChain = [k0, …, kn]` (most specific first) every key
 * `batchsubmit.<ki>.<suffix>` is renamed to `batchsubmit.<k0>.<suffix>`, the generic ones first,
 * so a more specific key overwrites a more generic one — what APF's substring renaming does.
 */
export function overlayKeyChain(
  entries: ReadonlyMap<string, ResolvedEntry>,
  keyChain: readonly string[],
  family: PluginFamily = 'batchsubmit',
): Map<string, ResolvedEntry> {
  const out = new Map<string, ResolvedEntry>();
  const target = `${family}.${keyChain[0] ?? ''}.`;
  for (const level of [...keyChain].reverse()) {
    const pre = `${family}.${level}.`;
    for (const [k, e] of entries) {
      if (k.startsWith(pre)) out.set(target + k.slice(pre.length), e);
    }
  }
  return out;
}

/** Resolves one plugin name of a queue into its definition and typed options. */
export function resolvePluginChoice(
  family: PluginFamily,
  name: string,
  entries: ReadonlyMap<string, ResolvedEntry>,
  factoryEntries: ReadonlyMap<string, ResolvedEntry>,
  site: ChoiceSite,
): { choice: PluginChoice | undefined; def: AnyPluginDef | undefined; problems: ConfigProblem[] } {
  const def: AnyPluginDef | undefined = findPlugin(family, name);
  const at = site.entry === undefined ? {} : { file: site.entry.file, line: site.entry.line };
  if (def === undefined) {
    return {
      choice: undefined,
      def: undefined,
      problems: [
        {
          severity: site.severity,
          code: 'APF_ERR_PLUGIN_UNKNOWN',
          message: `unknown ${family} plugin "${name}"; known: ${pluginIds(family).join(', ')}`,
          section: site.section,
          key: site.key,
          ...at,
        },
      ],
    };
  }
  let slice: ReadonlyMap<string, ResolvedEntry>;
  let prefix: string;
  let lookup: (k: string) => ResolvedEntry | undefined;
  if (def.family === 'batchsubmit') {
    slice = overlayKeyChain(entries, def.keyChain);
    prefix = `batchsubmit.${def.keyChain[0] ?? def.id.toLowerCase()}.`;
    lookup = (k) => slice.get(k);
  } else {
    prefix = `${family}.${def.id.toLowerCase()}.`;
    slice = entries;
    lookup =
      family === 'sched' ? (k) => entries.get(k) : (k) => entries.get(k) ?? factoryEntries.get(k);
  }
  const parsed = parseOptions(def.options, lookup, { section: site.section, prefix, ...(site.entry === undefined ? {} : { location: site.entry }) }, slice);
  const problems: ConfigProblem[] = parsed.problems.map((p) => (p.severity === 'error' ? { ...p, severity: site.severity } : p));
  problems.push(...unknownKeyWarnings(def, slice, prefix, site.section));
  return { choice: Object.freeze({ id: def.id, options: Object.freeze(parsed.values) }), def, problems };
}

/** Keys under a plugin's prefix that it does not declare (likely typos). */
function unknownKeyWarnings(
  def: AnyPluginDef,
  slice: ReadonlyMap<string, ResolvedEntry>,
  prefix: string,
  section: string,
): ConfigProblem[] {
  const known = new Set(Object.keys(def.options));
  const maps = Object.entries(def.options)
    .filter(([, s]) => s.isMap === true)
    .map(([n, s]) => `${s.mapOf ?? n}.`);
  const out: ConfigProblem[] = [];
  for (const [k, e] of slice) {
    if (!k.startsWith(prefix)) continue;
    const suffix = k.slice(prefix.length);
    if (known.has(suffix) || maps.some((m) => suffix.startsWith(m))) continue;
    out.push({
      severity: 'warning',
      code: 'APF_ERR_CONFIG_INVALID',
      message: `${def.id} does not read this key (typo?); its keys: ${[...known].join(', ')}`,
      file: e.file,
      line: e.line,
      section,
      key: k,
    });
  }
  return out;
}

/** A JSON key that tells apart what `JSON.stringify` would merge (undefined, NaN, ±Infinity, −0). */
function exactJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === undefined) return '\u0000undefined';
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return `\u0000${Object.is(v, -0) ? '-0' : String(v)}`;
    return v;
  });
}

/**
 * Shares equal plugin choices, and equal sched chains, between the queues of one configuration.
 * A site with thousands of queues configures most of them alike (the plugins and options come
 * from `[DEFAULT]`), and every choice is a frozen value, so one object serves every queue that
 * has the same one; the runtime then also builds each distinct sched chain once
 * (src/core/queue-runtime.ts).
 */
export class ChoiceInterner {
  readonly #choices = new Map<string, PluginChoice>();
  readonly #chains = new Map<string, readonly PluginChoice[]>();
  readonly #keys = new WeakMap<PluginChoice, string>();

  /** The shared object equal to `c` (`c` itself the first time). */
  choice(c: PluginChoice): PluginChoice {
    const key = `${c.id}\u0000${exactJson(c.options)}`;
    let shared = this.#choices.get(key);
    if (shared === undefined) {
      this.#choices.set(key, (shared = c));
      this.#keys.set(c, key);
    }
    return shared;
  }

  /** The shared, frozen chain equal to `chain` (its elements interned). */
  chain(chain: readonly PluginChoice[]): readonly PluginChoice[] {
    const shared = chain.map((c) => this.choice(c));
    const key = shared.map((c) => this.#keys.get(c) ?? '').join('\u0001');
    let out = this.#chains.get(key);
    if (out === undefined) this.#chains.set(key, (out = Object.freeze(shared)));
    return out;
  }
}
