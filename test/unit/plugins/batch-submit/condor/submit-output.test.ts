import { describe, expect, it } from 'vitest';
import { isApfError } from '../../../../../src/errors.ts';
import { parseSubmitOutput, submitErrorSummary } from '../../../../../src/plugins/batch-submit/condor/submit-output.ts';
import { fixtureCases, fixtureText } from './fixture-cases.ts';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('plugins/batch-submit/condor/submit-output', () => {
  it('reads the normal summary line (N job(s) submitted to cluster M.)', () => {
    expect(parseSubmitOutput(fixtureText('condor_submit.stdout.txt'))).toEqual(['4367890.0', '4367890.1', '4367890.2']);
  });

  it('reads -terse output', () => {
    expect(parseSubmitOutput(fixtureText('condor_submit_terse.stdout.txt'))).toEqual(['4367890.0', '4367890.1', '4367890.2']);
  });

  it('reads -verbose output (** Proc C.P: headers) without counting a job twice', () => {
    expect(parseSubmitOutput(fixtureText('condor_submit_verbose.stdout.txt'))).toEqual(['769012.0', '769012.1']);
    expect(parseSubmitOutput('** Proc 42.0:\nA = 1\n** Proc 42.1:\nA = 2\n')).toEqual(['42.0', '42.1']);
  });

  it('reads several clusters', () => {
    const out = 'Submitting job(s)..\n2 job(s) submitted to cluster 100.\nSubmitting job(s).\n1 job(s) submitted to cluster 101.\n';
    expect(parseSubmitOutput(out)).toEqual(['100.0', '100.1', '101.0']);
    expect(parseSubmitOutput('7.0 - 7.1\n8.0 - 8.0\n')).toEqual(['7.0', '7.1', '8.0']);
    expect(parseSubmitOutput('Submitting job(s)..\r\n2 job(s) submitted to cluster 9.\r\n')).toEqual(['9.0', '9.1']);
  });

  it('gives no ids for output without any (empty, dry-run, banner only)', () => {
    expect(parseSubmitOutput('')).toEqual([]);
    expect(parseSubmitOutput('Submitting job(s)')).toEqual([]);
    expect(parseSubmitOutput('Dry-Run job(s)...\n3 job(s) dry-run to cluster 1.\n')).toEqual([]);
    expect(parseSubmitOutput('0 job(s) submitted to cluster 5.\n')).toEqual([]);
  });

  it('refuses impossible ranges instead of guessing', () => {
    expect(isApfError(thrown(() => parseSubmitOutput('7.3 - 7.1')), 'APF_ERR_BATCH_OUTPUT')).toBe(true);
    expect(isApfError(thrown(() => parseSubmitOutput('7.0 - 8.1')), 'APF_ERR_BATCH_OUTPUT')).toBe(true);
    expect(isApfError(thrown(() => parseSubmitOutput('99999999 job(s) submitted to cluster 5.')), 'APF_ERR_BATCH_OUTPUT')).toBe(true);
  });

  it('summarises every error case of the fixture by its ERROR lines', () => {
    const cases = fixtureCases('condor_submit_errors.txt');
    expect(cases.length).toBeGreaterThanOrEqual(10);
    for (const c of cases) {
      const summary = submitErrorSummary(c.text);
      const errorLines = c.text.split('\n').filter((l) => l.startsWith('ERROR'));
      expect(errorLines.length, c.title).toBeGreaterThan(0);
      expect(summary, c.title).toBe(errorLines.slice(0, 3).join(' | '));
      expect(summary, c.title).not.toMatch(/AUTHENTICATE:|CEDAR:/);
    }
    const noQueue = cases.find((c) => c.title.startsWith('submit file has no queue'));
    expect(submitErrorSummary(noQueue?.text ?? '')).toContain(`doesn't contain any "queue" commands`);
  });

  it('falls back to the first stderr lines when there is no ERROR line', () => {
    expect(submitErrorSummary('\nsomething odd\nsecond\nthird\nfourth\n')).toBe('something odd | second | third');
    expect(submitErrorSummary('')).toBe('');
  });
});
