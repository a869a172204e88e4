import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONDOR_LOCAL, createCondorLocalSubmitter, localJdlLines } from '../../../../src/plugins/batch-submit/condor-local.ts';
import { buildSubmitFile } from '../../../../src/plugins/batch-submit/condor/submit-file.ts';
import { okOptions, recordingLogger, submitContext, WARN, type TestSetup } from './context.ts';

const FIXTURES = new URL('../../../fixtures/htcondor/', import.meta.url);

/** The [EXAMPLE_LOCAL_POOL] queue of apf-behaviour §2.9, with a base-level environ and no monitor. */
const SETUP: TestSetup = {
  queue: 'EXAMPLE_LOCAL_POOL',
  section: {
    wmsqueue: 'analysis',
    executable: '/usr/local/bin/glidein_start.sh',
    'batchsubmit.condorlocal.submitargs': '-remote schedd01.example.org',
    'batchsubmit.condorlocal.condor_attributes': 'request_memory = 2000, +AccountingGroup = "group_analysis.apf"',
    'batchsubmit.condorbase.environ': 'X509_CERT_DIR=/etc/grid-security/certificates',
  },
  factory: {
    factoryId: 'BNL-factory1',
    factoryAdminEmail: 'admin@example.org',
    factoryUser: undefined,
    baseLogDir: '/home/autopyfactory/factory/logs',
    baseLogDirUrl: 'http://factory.example.org:25880',
  },
};

describe('plugins/batch-submit/condor-local', () => {
  it('declares the Local key chain', () => {
    expect(CONDOR_LOCAL.id).toBe('CondorLocal');
    expect(CONDOR_LOCAL.keyChain).toEqual(['condorlocal', 'condorbase']);
  });

  it('writes the golden submit file line for line', () => {
    const { logger } = recordingLogger();
    const ctx = submitContext(SETUP, logger);
    const options = okOptions(CONDOR_LOCAL, ctx.queue.raw);
    expect(options.submitargs).toEqual(['-remote', 'schedd01.example.org']);
    const file = buildSubmitFile({ headLines: localJdlLines() }, options, ctx, { n: 5, cycleId: 'EXAMPLE_LOCAL_POOL:2:e41d', now: new Date('2024-02-29T00:00:00Z') });
    const expected = readFileSync(new URL('submit_condorlocal_expected.jdl', FIXTURES), 'utf8');
    expect(file.text).toBe(expected);
    expect(file.path).toBe('/home/autopyfactory/factory/logs/2024-02-29/EXAMPLE_LOCAL_POOL/submit.jdl');
  });

  it('does not apply a proxy (as APF 2.4.14) and says so', () => {
    const { logger, records } = recordingLogger();
    const ctx = submitContext({ ...SETUP, section: { ...SETUP.section, 'batchsubmit.condorlocal.proxy': 'atlas-production' }, auth: { 'atlas-production': '/tmp/p' } }, logger);
    const options = okOptions(CONDOR_LOCAL, ctx.queue.raw);
    expect(options.proxy).toEqual(['atlas-production']);
    createCondorLocalSubmitter(options, ctx);
    expect(records.some((r) => r.level === WARN && r.msg.includes('does not apply "proxy"'))).toBe(true);
    const file = buildSubmitFile({ headLines: localJdlLines() }, options, ctx, { n: 1, cycleId: 'c', now: new Date() });
    expect(file.lines.some((l) => l.startsWith('x509userproxy'))).toBe(false);
    expect(file.lines.some((l) => l.startsWith('universe = grid'))).toBe(false);
  });
});
