/** The effective sections of a configuration as plain JSON (`apf check-config --print`, `/api/v1/config`). */
import type { ApfConfig } from './types.ts';

/** The file families of a configuration. */
export const CONFIG_FAMILIES = ['factory', 'queues', 'auth', 'monitor', 'mappings'] as const;
/** One file family. */
export type ConfigFamily = (typeof CONFIG_FAMILIES)[number];

/** `{section: {key: value}}` — the same view as Python's `dict(cp.items(section))`. */
export function effectiveJson(config: ApfConfig, families: readonly ConfigFamily[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const f of families) {
    for (const s of config.effective[f]) {
      const entries: Record<string, string> = {};
      for (const [k, e] of s.entries) entries[k] = e.value;
      out[s.name] = entries;
    }
  }
  return out;
}
