import { describe, expect, it } from 'vitest';
import { CONDOR_PARENT, condorKeyChain, type CondorLevel } from '../../../../../src/plugins/batch-submit/condor/keys.ts';
import { CONDOR_LOCAL } from '../../../../../src/plugins/batch-submit/condor-local.ts';
import { CONDOR_OSGCE } from '../../../../../src/plugins/batch-submit/condor-osgce.ts';
import { entries, okOptions } from '../context.ts';

const OSGCE_BASE = { 'batchsubmit.condorosgce.gridresource': 'ce01.example.org' };

describe('plugins/batch-submit/condor/keys', () => {
  it('gives APF\'s renaming chains (apf-behaviour §2.2)', () => {
    const chains: Record<string, readonly string[]> = {
      condorosgce: ['condorosgce', 'condorce', 'condorgrid', 'condorbase'],
      condorcream: ['condorcream', 'condorce', 'condorgrid', 'condorbase'],
      condornordugrid: ['condornordugrid', 'condorce', 'condorgrid', 'condorbase'],
      condorgt2: ['condorgt2', 'condorgram', 'condorce', 'condorgrid', 'condorbase'],
      condorgt5: ['condorgt5', 'condorgram', 'condorce', 'condorgrid', 'condorbase'],
      condorlsf: ['condorlsf', 'condorgrid', 'condorbase'],
      condorpbs: ['condorpbs', 'condorgrid', 'condorbase'],
      condorlocal: ['condorlocal', 'condorbase'],
      condorec2: ['condorec2', 'condorbase'],
      condorssh: ['condorssh', 'condorbase'],
      condorbase: ['condorbase'],
    };
    for (const [level, chain] of Object.entries(chains)) expect(condorKeyChain(level as CondorLevel), level).toEqual(chain);
    // every level reaches the root
    for (const level of Object.keys(CONDOR_PARENT) as CondorLevel[]) expect(condorKeyChain(level).at(-1)).toBe('condorbase');
  });

  it('lets the most specific level win (environ under osgce > ce > grid > base)', () => {
    const levels = ['condorbase', 'condorgrid', 'condorce', 'condorosgce'];
    for (let top = 0; top < levels.length; top++) {
      const kv: Record<string, string> = { ...OSGCE_BASE };
      for (let i = 0; i <= top; i++) kv[`batchsubmit.${levels[i]}.environ`] = `FROM=${levels[i]}`;
      expect(okOptions(CONDOR_OSGCE, entries(kv)).environ).toBe(`FROM=${levels[top]}`);
    }
    // order of writing does not matter, only the level
    const reversed = entries({ ...OSGCE_BASE, 'batchsubmit.condorosgce.environ': 'A=osgce', 'batchsubmit.condorbase.environ': 'A=base' });
    expect(okOptions(CONDOR_OSGCE, reversed).environ).toBe('A=osgce');
  });

  it('ignores keys of other branches of the tree', () => {
    const kv = entries({ ...OSGCE_BASE, 'batchsubmit.condorlocal.environ': 'LOCAL=1', 'batchsubmit.condorcream.peaceful': 'False' });
    const o = okOptions(CONDOR_OSGCE, kv);
    expect(o.environ).toBeUndefined();
    expect(o.peaceful).toBe(true);
    expect(okOptions(CONDOR_LOCAL, kv).environ).toBe('LOCAL=1');
    expect(okOptions(CONDOR_LOCAL, entries({ 'batchsubmit.condorce.environ': 'CE=1' })).environ).toBeUndefined();
  });

  it('merges condor_attributes.<attr> over the levels, the specific value replacing the generic one', () => {
    const kv = entries({
      ...OSGCE_BASE,
      'batchsubmit.condorbase.condor_attributes.+xcount': '1',
      'batchsubmit.condorbase.condor_attributes.+maxMemory': '2000',
      'batchsubmit.condorosgce.condor_attributes.+xcount': '8',
      'batchsubmit.condorce.condor_attributes.+remote_queue': '"short"',
    });
    const map = okOptions(CONDOR_OSGCE, kv).condor_attributes_map;
    expect(Object.fromEntries(map)).toEqual({ '+xcount': '8', '+maxMemory': '2000', '+remote_queue': '"short"' });
    expect(map).toHaveLength(3);
  });
});
