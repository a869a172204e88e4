import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_SCHED_PLUGINS } from '../../../../src/plugins/sched/all.ts';

/** kebab-case of a plugin id (MaxPerCycle → max-per-cycle, SimpleNQueue → simple-n-queue). */
function kebab(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

const EXPECTED_IDS = [
  'Ready', 'Scale', 'MaxPerCycle', 'MinPerCycle', 'MaxPending', 'MinPending', 'MaxToRun', 'MaxPerFactory',
  'KeepNRunning', 'Fixed', 'Null', 'StatusTest', 'StatusOffline', 'Throttle', 'WeightedActivated',
  'Fillactivated', 'Activated', 'SimpleNQueue', 'NQueue', 'Simple', 'Trivial',
];

describe('plugins/sched/all', () => {
  it('lists every plugin of the brief exactly once', () => {
    expect(ALL_SCHED_PLUGINS.map((p) => p.id).sort()).toEqual([...EXPECTED_IDS].sort());
  });

  it('ids are unique case-insensitively and every definition is a sched plugin', () => {
    const lower = ALL_SCHED_PLUGINS.map((p) => p.id.toLowerCase());
    expect(new Set(lower).size).toBe(lower.length);
    for (const p of ALL_SCHED_PLUGINS) expect(p.family).toBe('sched');
  });

  it('every definition lives in the file named kebab(id).ts, which exports that very definition', async () => {
    for (const def of ALL_SCHED_PLUGINS) {
      const file = new URL(`../../../../src/plugins/sched/${kebab(def.id)}.ts`, import.meta.url);
      expect(existsSync(file), `${def.id} → ${kebab(def.id)}.ts`).toBe(true);
      const mod = (await import(file.href)) as Record<string, unknown>;
      expect(Object.values(mod), `${kebab(def.id)}.ts exports ${def.id}`).toContain(def);
    }
  });

  it('every declared option has a doc line and a parser', () => {
    for (const def of ALL_SCHED_PLUGINS) {
      for (const [name, spec] of Object.entries(def.options)) {
        expect(spec.doc.length, `${def.id}.${name}`).toBeGreaterThan(0);
        expect(typeof spec.parse).toBe('function');
      }
    }
  });
});
