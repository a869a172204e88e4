import { mkdtemp, readdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isApfError } from '../../../../../src/errors.ts';
import { buildSubmitFile, queueMonitorUrl, writeSubmitFile } from '../../../../../src/plugins/batch-submit/condor/submit-file.ts';
import { okOptions, recordingLogger, submitContext, type TestSetup } from '../context.ts';
import { CONDOR_LOCAL } from '../../../../../src/plugins/batch-submit/condor-local.ts';

const SETUP: TestSetup = {
  queue: 'Q1',
  section: { executable: '/bin/wrapper.sh', 'batchsubmit.condorlocal.condor_attributes': '+a = 1', 'batchsubmit.condorlocal.condor_attributes.+a': '2' },
  monitorsections: ['dummy', 'nourl', 'apfmon', 'apfmon2'],
  monitors: { dummy: '   ', nourl: undefined, apfmon: 'http://mon1/api', apfmon2: 'http://mon2/api' },
};

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function ctxFor(setup: TestSetup): ReturnType<typeof submitContext> {
  return submitContext(setup, recordingLogger().logger);
}

describe('plugins/batch-submit/condor/submit-file', () => {
  it('takes APFMON from the first monitor section that has a URL', () => {
    const ctx = ctxFor(SETUP);
    expect(queueMonitorUrl(ctx.queue, ctx.config.monitors)).toBe('http://mon1/api');
    const none = ctxFor({ ...SETUP, monitorsections: ['dummy', 'missing'] });
    expect(queueMonitorUrl(none.queue, none.config.monitors)).toBeUndefined();
  });

  it('puts the flavour tail after the base lines, the user lines after apf\'s tags, the map entries last, then queue n', () => {
    const ctx = ctxFor(SETUP);
    const file = buildSubmitFile({ headLines: ['universe = vanilla'], tailLines: ['executable = Q1-vm'] }, okOptions(CONDOR_LOCAL, ctx.queue.raw), ctx, { n: 7, cycleId: 'Q1:0:x', now: new Date('2024-05-05T00:00:00Z') });
    expect(file.lines[0]).toBe('universe = vanilla');
    expect(file.lines.slice(-7)).toEqual(['transfer_executable = True', 'executable = Q1-vm', '+APF_FACTORY = "apf-lancs"', '+APF_CYCLE = "Q1:0:x"', '+a = 1', '+a = 2', 'queue 7']);
    expect(file.lines).toContain('environment = "PANDA_JSID=apf-lancs GTAG=http://apf.example.org:25880/2024-05-05/Q1/$(Cluster).$(Process).out APFCID=$(Cluster).$(Process) APFFID=apf-lancs APFMON=http://mon1/api FACTORYQUEUE=Q1 FACTORYUSER=apf"');
    expect(file.text.endsWith('queue 7\n')).toBe(true);
  });

  it('refuses a queue without executable', () => {
    const ctx = ctxFor({ ...SETUP, section: {} });
    let err: unknown;
    try {
      buildSubmitFile({ headLines: [] }, okOptions(CONDOR_LOCAL, ctx.queue.raw), ctx, { n: 1, cycleId: 'c', now: new Date() });
    } catch (e) {
      err = e;
    }
    expect(isApfError(err, 'APF_ERR_CONFIG_INVALID')).toBe(true);
  });

  it('creates the directory and replaces submit.jdl atomically, leaving no temporary file', async () => {
    const base = await mkdtemp(join(tmpdir(), 'apf-jdl-'));
    dirs.push(base);
    const ctx = ctxFor({ ...SETUP, factory: { baseLogDir: base } });
    const options = okOptions(CONDOR_LOCAL, ctx.queue.raw);
    const first = buildSubmitFile({ headLines: [] }, options, ctx, { n: 1, cycleId: 'c1', now: new Date('2024-05-05T10:00:00Z') });
    await writeSubmitFile(first);
    expect(first.path).toBe(join(base, '2024-05-05', 'Q1', 'submit.jdl'));
    expect(await readFile(first.path, 'utf8')).toBe(first.text);
    const second = buildSubmitFile({ headLines: [] }, options, ctx, { n: 2, cycleId: 'c2', now: new Date('2024-05-05T11:00:00Z') });
    await writeSubmitFile(second);
    expect(await readFile(first.path, 'utf8')).toBe(second.text);
    expect(await readdir(join(base, '2024-05-05', 'Q1'))).toEqual(['submit.jdl']);
  });

  it('reports an unwritable log directory as APF_ERR_SUBMIT_FAILED', async () => {
    const base = await mkdtemp(join(tmpdir(), 'apf-jdl-'));
    dirs.push(base);
    const blocker = join(base, 'file');
    await writeFile(blocker, 'not a directory');
    await chmod(blocker, 0o444);
    const ctx = ctxFor({ ...SETUP, factory: { baseLogDir: blocker } });
    const file = buildSubmitFile({ headLines: [] }, okOptions(CONDOR_LOCAL, ctx.queue.raw), ctx, { n: 1, cycleId: 'c', now: new Date() });
    const err: unknown = await writeSubmitFile(file).catch((e: unknown) => e);
    expect(isApfError(err, 'APF_ERR_SUBMIT_FAILED')).toBe(true);
  });
});
