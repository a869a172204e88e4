import { readdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REGISTRY, findPlugin, pluginIds } from '../../../src/plugins/registry.ts';
import type { PluginFamily } from '../../../src/plugins/define.ts';

const FOLDERS: Record<PluginFamily, string> = {
  sched: 'sched',
  wmsstatus: 'wms-status',
  batchstatus: 'batch-status',
  batchsubmit: 'batch-submit',
};

/** Files of a family folder that are not plugins (registries, contracts, shared helpers). */
const NOT_PLUGINS = new Set(['index.ts', 'all.ts', 'types.ts', 'compose.ts', 'pyformat.ts']);

/** Folders of shared code that hold no plugin. */
const HELPER_DIRS = new Set(['batch-submit/condor']);

function kebab(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

describe('plugins/registry', () => {
  for (const [family, folder] of Object.entries(FOLDERS) as [PluginFamily, string][]) {
    it(`${family}: every plugin file is registered and every registered plugin has its file`, () => {
      const dir = new URL(`../../../src/plugins/${folder}/`, import.meta.url);
      const names = readdirSync(dir).filter((n) => !NOT_PLUGINS.has(n));
      // a plugin is <kebab-id>.ts or a folder <kebab-id>/index.ts; shared helper folders are listed
      const found = names
        .filter((n) => (n.endsWith('.ts') ? true : statSync(new URL(n, dir)).isDirectory() && !HELPER_DIRS.has(`${folder}/${n}`)))
        .map((n) => n.replace(/\.ts$/, ''));
      const expected = new Set(REGISTRY[family].map((p) => kebab(p.id)));
      expect(new Set(found)).toEqual(expected);
    });

    it(`${family}: ids are unique case-insensitively and found in any case`, () => {
      const ids = pluginIds(family);
      expect(new Set(ids.map((i) => i.toLowerCase())).size).toBe(ids.length);
      for (const id of ids) {
        expect(findPlugin(family, id.toUpperCase())?.id).toBe(id);
        expect(findPlugin(family, ` ${id.toLowerCase()} `)?.id).toBe(id);
      }
      expect(findPlugin(family, 'NoSuchPlugin')).toBeUndefined();
    });
  }
});
