import { describe, expect, it } from 'vitest';
import { ALL_BATCH_SUBMIT_PLUGINS } from '../../../../src/plugins/batch-submit/all.ts';

describe('plugins/batch-submit/all', () => {
  it('lists the condor plugins once each, with key chains starting at their own id', () => {
    expect(ALL_BATCH_SUBMIT_PLUGINS.map((p) => p.id).sort()).toEqual(['CondorCE', 'CondorLocal', 'CondorOSGCE']);
    for (const p of ALL_BATCH_SUBMIT_PLUGINS) {
      expect(p.family).toBe('batchsubmit');
      expect(p.keyChain[0]).toBe(p.id.toLowerCase());
      expect(p.keyChain.at(-1)).toBe('condorbase');
    }
  });
});
