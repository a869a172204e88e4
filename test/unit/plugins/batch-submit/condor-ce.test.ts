import { describe, expect, it } from 'vitest';
import { CONDOR_CE, createCondorCeSubmitter } from '../../../../src/plugins/batch-submit/condor-ce.ts';
import { ceHeadLines } from '../../../../src/plugins/batch-submit/condor/levels.ts';
import { buildSubmitFile } from '../../../../src/plugins/batch-submit/condor/submit-file.ts';
import { okOptions, recordingLogger, submitContext, WARN, type TestSetup } from './context.ts';

const SETUP: TestSetup = {
  queue: 'ARC-ce01',
  section: {
    executable: '/usr/libexec/wrapper.sh',
    'batchsubmit.condorce.proxyfile': '/var/lib/apf/proxy',
    'batchsubmit.condorce.condor_attributes.grid_resource': 'arc https://ce01.example.org:443/arex',
  },
};

describe('plugins/batch-submit/condor-ce', () => {
  it('declares the CE key chain', () => {
    expect(CONDOR_CE.keyChain).toEqual(['condorce', 'condorgrid', 'condorbase']);
  });

  it('writes +Nonessential and the grid lines, and the grid_resource given by condor_attributes', () => {
    const { logger, records } = recordingLogger();
    const ctx = submitContext(SETUP, logger);
    const options = okOptions(CONDOR_CE, ctx.queue.raw);
    createCondorCeSubmitter(options, ctx);
    expect(records.filter((r) => r.level === WARN)).toEqual([]);
    const file = buildSubmitFile({ headLines: ceHeadLines('CondorCE', options, ctx) }, options, ctx, { n: 2, cycleId: 'c1', now: new Date('2024-01-01T12:00:00Z') });
    expect(file.lines.slice(0, 3)).toEqual(['+Nonessential = True', 'universe = grid', 'x509userproxy = /var/lib/apf/proxy']);
    expect(file.lines[3]).toBe('Dir = /var/log/apf/2024-01-01/ARC-ce01/');
    expect(file.lines.slice(-2)).toEqual(['grid_resource = arc https://ce01.example.org:443/arex', 'queue 2']);
  });

  it('warns when nothing gives a grid_resource', () => {
    const { logger, records } = recordingLogger();
    const section = { ...SETUP.section };
    delete section['batchsubmit.condorce.condor_attributes.grid_resource'];
    const ctx = submitContext({ ...SETUP, section }, logger);
    createCondorCeSubmitter(okOptions(CONDOR_CE, ctx.queue.raw), ctx);
    expect(records.some((r) => r.level === WARN && r.msg.includes('grid_resource'))).toBe(true);
  });
});
