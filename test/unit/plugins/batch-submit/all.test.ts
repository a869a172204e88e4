import { describe, expect, it } from 'vitest';
import { ALL_BATCH_SUBMIT_PLUGINS } from '../../../../src/plugins/batch-submit/all.ts';

describe('plugins/batch-submit/all', () => {
  it('lists the condor plugins and Noop once each', () => {
    expect(ALL_BATCH_SUBMIT_PLUGINS.map((p) => p.id).sort()).toEqual(['CondorCE', 'CondorLocal', 'CondorOSGCE', 'Noop']);
    for (const p of ALL_BATCH_SUBMIT_PLUGINS) expect(p.family).toBe('batchsubmit');
  });

  it('gives every condor plugin a key chain from its own id down to condorbase', () => {
    const condor = ALL_BATCH_SUBMIT_PLUGINS.filter((p) => p.id.startsWith('Condor'));
    expect(condor).toHaveLength(3);
    for (const p of condor) {
      expect(p.keyChain[0]).toBe(p.id.toLowerCase());
      expect(p.keyChain.at(-1)).toBe('condorbase');
    }
  });

  it('gives Noop a key chain of its own only', () => {
    const noop = ALL_BATCH_SUBMIT_PLUGINS.find((p) => p.id === 'Noop');
    expect(noop?.keyChain).toEqual(['noop']);
  });
});
