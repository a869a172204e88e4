/**
 * APF's class tree of the condor submit plugins, as data. Each APF submit class renamed every key
 * `batchsubmit.<its name>.*` of a cloned config to `batchsubmit.<its parent's name>.*` before
 * calling its parent (apf-behaviour §2.2), so a key may be written under any level of the chain
 * and the most specific one wins. The loader (`overlayKeyChain` in src/config/plugin-options.ts)
 * replays that renaming from a plugin's {@link condorKeyChain}.
 *
 * Tree (apf-behaviour §4.3):
 * ```
 * condorbase ← condorlocal, condorec2, condorssh, condorgrid
 * condorgrid ← condorlsf, condorpbs, condorce
 * condorce   ← condorosgce, condorcream, condornordugrid, condorgram
 * condorgram ← condorgt2, condorgt5
 * ```
 * A new flavour plugs in by adding nothing here (every APF level is listed) and using
 * `condorKeyChain('<its level>')` as its plugin's `keyChain`.
 */

/** Every level of APF's condor submit class tree (INI spelling, lower case). */
export type CondorLevel =
  | 'condorbase'
  | 'condorlocal'
  | 'condorec2'
  | 'condorssh'
  | 'condorgrid'
  | 'condorlsf'
  | 'condorpbs'
  | 'condorce'
  | 'condorosgce'
  | 'condorcream'
  | 'condornordugrid'
  | 'condorgram'
  | 'condorgt2'
  | 'condorgt5';

/** Parent of each level (`condorbase` is the root). */
export const CONDOR_PARENT: Readonly<Record<CondorLevel, CondorLevel | null>> = Object.freeze({
  condorbase: null,
  condorlocal: 'condorbase',
  condorec2: 'condorbase',
  condorssh: 'condorbase',
  condorgrid: 'condorbase',
  condorlsf: 'condorgrid',
  condorpbs: 'condorgrid',
  condorce: 'condorgrid',
  condorosgce: 'condorce',
  condorcream: 'condorce',
  condornordugrid: 'condorce',
  condorgram: 'condorce',
  condorgt2: 'condorgram',
  condorgt5: 'condorgram',
});

/**
 * The key-inheritance chain of `level`, most specific first, e.g.
 * `condorKeyChain('condorosgce')` → `['condorosgce', 'condorce', 'condorgrid', 'condorbase']`.
 * This is the `keyChain` of the plugin definition.
 */
export function condorKeyChain(level: CondorLevel): readonly string[] {
  const chain: CondorLevel[] = [];
  for (let l: CondorLevel | null = level; l !== null; l = CONDOR_PARENT[l]) chain.push(l);
  return Object.freeze(chain);
}
