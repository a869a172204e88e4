/**
 * The condor submit plugins against fake condor_submit / condor_rm scripts: real processes, real
 * deadlines, real files.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApfError, isApfError } from '../../src/errors.ts';
import type { BatchJob } from '../../src/core/info.ts';
import { CONDOR_LOCAL, createCondorLocalSubmitter } from '../../src/plugins/batch-submit/condor-local.ts';
import { CONDOR_OSGCE, createCondorOsgceSubmitter } from '../../src/plugins/batch-submit/condor-osgce.ts';
import { okOptions, recordingLogger, submitContext, type TestSetup } from '../unit/plugins/batch-submit/context.ts';

const FIXTURES = new URL('../fixtures/htcondor/', import.meta.url);
const fixturePath = (name: string): string => new URL(name, FIXTURES).pathname;

let dir = '';
let base = '';
/** Paths of the fake programs. */
const fake = { ok: '', verbose: '', fail: '', empty: '', hang: '', rm: '', rmBroken: '' };

/** Writes an executable POSIX shell script. */
async function script(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

/** Lines a fake program logged (`<name>.calls`: one line of arguments per run). */
async function calls(name: string): Promise<string[]> {
  const path = join(dir, `${name}.calls`);
  if (!existsSync(path)) return [];
  return (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
}

/** The condor_submit errors fixture's "schedd not reachable" stderr. */
const SCHEDD_DOWN = 'ERROR: Failed to connect to local queue manager\nAUTHENTICATE:1003:Failed to authenticate with any method\nAUTHENTICATE:1004:Failed to authenticate using FS\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apf-submit-it-'));
  base = join(dir, 'logs');
  const log = (name: string): string => `echo "$@" >> '${join(dir, `${name}.calls`)}'`;
  fake.ok = await script('condor_submit_ok', `${log('ok')}\nfor last; do :; done\ncp "$last" '${join(dir, 'seen.jdl')}'\ncat '${fixturePath('condor_submit.stdout.txt')}'`);
  fake.verbose = await script('condor_submit_verbose', `${log('verbose')}\ncat '${fixturePath('condor_submit_verbose.stdout.txt')}'`);
  await writeFile(join(dir, 'schedd-down.txt'), SCHEDD_DOWN);
  fake.fail = await script('condor_submit_fail', `${log('fail')}\nprintf 'Submitting job(s)'\ncat '${join(dir, 'schedd-down.txt')}' >&2\nexit 1`);
  fake.empty = await script('condor_submit_empty', `${log('empty')}\nexit 0`);
  fake.hang = await script('condor_submit_hang', `${log('hang')}\necho $$ > '${join(dir, 'hang.pid')}'\nsleep 1000 &\necho $! > '${join(dir, 'hang-child.pid')}'\nwait`);
  fake.rm = await script(
    'condor_rm',
    `${log('rm')}\nwhile [ $# -gt 0 ]; do\n  case "$1" in\n    -name|-pool) shift ;;\n    *.*) echo "Job $1 marked for removal" ;;\n  esac\n  shift\ndone`,
  );
  fake.rmBroken = await script('condor_rm_broken', `${log('rmBroken')}\necho '' >&2\necho "Couldn't find/remove all jobs in cluster 4367999" >&2\nexit 1`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The HTCondor-CE queue of the golden file, logging under the temporary directory. */
function osgceSetup(queue = 'CERN-ce503.cern.ch', extra: Record<string, string> = {}): TestSetup {
  return {
    queue,
    section: {
      executable: '/usr/libexec/wrapper.sh',
      'executable.arguments': '-s CERN -h CERN -p 25443 -w https://pandaserver.cern.ch',
      'batchsubmit.condorosgce.gridresource': 'ce503.cern.ch',
      'batchsubmit.condorosgce.proxy': 'atlas-production',
      'batchsubmit.condorosgce.condor_attributes': 'periodic_remove = (JobStatus == 2 && (CurrentTime - EnteredCurrentStatus) > 604800)',
      'batchsubmit.condorosgce.condor_attributes.+maxMemory': '16000',
      'batchsubmit.condorosgce.condor_attributes.+xcount': '8',
      'batchsubmit.condorosgce.condor_attributes.+voactivity': '"production"',
      'batchsubmit.condorosgce.condor_attributes.+remote_queue': '"share"',
      ...extra,
    },
    factory: { baseLogDir: base },
    monitorsections: ['apfmon-lancs'],
    monitors: { 'apfmon-lancs': 'http://apfmon.lancs.ac.uk/api' },
    auth: { 'atlas-production': '/var/lib/autopyfactory/proxy/x509-atlas-production' },
  };
}

function osgce(setup: TestSetup, condorSubmit: string, condorRm = fake.rm): ReturnType<typeof createCondorOsgceSubmitter> {
  const ctx = submitContext(setup, recordingLogger().logger);
  return createCondorOsgceSubmitter(okOptions(CONDOR_OSGCE, ctx.queue.raw), ctx, { condorSubmit, condorRm });
}

const REQ = { n: 3, cycleId: 'CERN-ce503.cern.ch:0:7f3a9c', instance: 'apf-node1', now: new Date('2023-11-14T23:59:59Z') };

/** True while `pid` runs (a zombie left to a non-reaping init counts as dead). */
async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return !/^State:\s*Z/m.test(status);
}

describe('batch-submit (condor plugins with fake HTCondor programs)', () => {
  it('writes the golden submit file, runs condor_submit on it and returns the job ids', async () => {
    const report = await osgce(osgceSetup(), fake.ok).submit(REQ, new AbortController().signal);
    expect(report.jobIds).toEqual(['4367890.0', '4367890.1', '4367890.2']);
    expect(report.submitFile).toBe(join(base, '2023-11-14', 'CERN-ce503.cern.ch', 'submit.jdl'));
    const golden = (await readFile(fixturePath('submit_condorosgce_expected.jdl'), 'utf8')).replace('Dir = /var/log/apf/', `Dir = ${base}/`);
    expect(await readFile(report.submitFile, 'utf8')).toBe(golden);
    // condor_submit got exactly the file (no submitargs configured) and read what we wrote
    expect((await calls('ok')).at(-1)).toBe(report.submitFile);
    expect(await readFile(join(dir, 'seen.jdl'), 'utf8')).toBe(golden);
  });

  it('passes submitargs before the file and reads -verbose output', async () => {
    const setup: TestSetup = {
      queue: 'EXAMPLE_LOCAL_POOL',
      section: { executable: '/usr/local/bin/glidein_start.sh', 'batchsubmit.condorlocal.submitargs': '-remote schedd01.example.org -verbose' },
      factory: { baseLogDir: base },
    };
    const ctx = submitContext(setup, recordingLogger().logger);
    const submitter = createCondorLocalSubmitter(okOptions(CONDOR_LOCAL, ctx.queue.raw), ctx, { condorSubmit: fake.verbose });
    const report = await submitter.submit({ n: 2, cycleId: 'c', now: new Date('2024-01-02T03:04:05Z') }, new AbortController().signal);
    expect(report.jobIds).toEqual(['769012.0', '769012.1']);
    expect((await calls('verbose')).at(-1)).toBe(`-remote schedd01.example.org -verbose ${join(base, '2024-01-02', 'EXAMPLE_LOCAL_POOL', 'submit.jdl')}`);
  });

  it('finds condor_submit on PATH through the plugin definition', async () => {
    const bin = join(dir, 'bin');
    await import('node:fs/promises').then((fs) => fs.mkdir(bin, { recursive: true }));
    await writeFile(join(bin, 'condor_submit'), `#!/bin/sh\necho "Submitting job(s)."\necho "1 job(s) submitted to cluster 555."\n`);
    await chmod(join(bin, 'condor_submit'), 0o755);
    const saved = process.env['PATH'];
    process.env['PATH'] = `${bin}:${saved ?? ''}`;
    try {
      const ctx = submitContext(osgceSetup(), recordingLogger().logger);
      const submitter = CONDOR_OSGCE.create(okOptions(CONDOR_OSGCE, ctx.queue.raw), ctx);
      expect((await submitter.submit({ ...REQ, n: 1 }, new AbortController().signal)).jobIds).toEqual(['555.0']);
    } finally {
      process.env['PATH'] = saved;
    }
  });

  it('fails with the ERROR lines of stderr when condor_submit exits 1', async () => {
    const err: unknown = await osgce(osgceSetup(), fake.fail)
      .submit(REQ, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(isApfError(err, 'APF_ERR_SUBMIT_FAILED')).toBe(true);
    const e = err as ApfError;
    expect(e.message).toBe('condor_submit exited 1: ERROR: Failed to connect to local queue manager');
    expect(e.details['exitCode']).toBe(1);
    expect(e.details['stderr']).toBe(SCHEDD_DOWN);
    expect(e.details['queue']).toBe('CERN-ce503.cern.ch');
  });

  it('fails (and does not hang) when condor_submit exits 0 without job ids', async () => {
    const err: unknown = await osgce(osgceSetup(), fake.empty)
      .submit(REQ, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(isApfError(err, 'APF_ERR_SUBMIT_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/submitted but no job ids in output/);
  });

  it('kills a hung condor_submit at the deadline while another queue submits normally', async () => {
    const hung = osgce(osgceSetup('HUNG-ce.example.org', { 'batchsubmit.condorbase.timeout': '1' }), fake.hang);
    const healthy = osgce(osgceSetup('OK-ce.example.org'), fake.ok);
    const t0 = Date.now();
    let healthyAt = 0;
    let hungAt = 0;
    const [h, ok] = await Promise.allSettled([
      hung.submit(REQ, new AbortController().signal).finally(() => (hungAt = Date.now() - t0)),
      healthy.submit(REQ, new AbortController().signal).finally(() => (healthyAt = Date.now() - t0)),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(ok.status === 'fulfilled' ? ok.value.jobIds : []).toHaveLength(3);
    expect(h.status).toBe('rejected');
    const reason: unknown = h.status === 'rejected' ? h.reason : undefined;
    expect(isApfError(reason, 'APF_ERR_COMMAND_TIMEOUT')).toBe(true);
    expect((reason as ApfError).details['queue']).toBe('HUNG-ce.example.org');
    expect(healthyAt).toBeLessThan(hungAt);
    expect(hungAt).toBeGreaterThanOrEqual(1000);
    expect(hungAt).toBeLessThan(10_000);
    // the whole process group is gone, including the sleeping child
    const pid = Number(await readFile(join(dir, 'hang.pid'), 'utf8'));
    const child = Number(await readFile(join(dir, 'hang-child.pid'), 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
    expect(await alive(pid)).toBe(false);
    expect(await alive(child)).toBe(false);
  });

  it('stops a running condor_submit when the cycle is aborted', async () => {
    const ac = new AbortController();
    const p = osgce(osgceSetup('ABORT-ce.example.org'), fake.hang).submit(REQ, ac.signal);
    setTimeout(() => ac.abort(), 300);
    const err: unknown = await p.catch((e: unknown) => e);
    expect(isApfError(err, 'APF_ERR_ABORTED')).toBe(true);
  });

  it('runs beforeSubmit right before condor_submit, and submits nothing when it throws', async () => {
    const before = (await calls('ok')).length;
    let sawFile = false;
    const veto = new ApfError('APF_ERR_ABORTED', 'lease lost');
    const err: unknown = await osgce(osgceSetup('VETO-ce.example.org'), fake.ok)
      .submit(
        {
          ...REQ,
          beforeSubmit: () => {
            // the submit file is already written: only condor_submit is left
            sawFile = existsSync(join(base, '2023-11-14', 'VETO-ce.example.org', 'submit.jdl'));
            throw veto;
          },
        },
        new AbortController().signal,
      )
      .catch((e: unknown) => e);
    expect(err).toBe(veto);
    expect(sawFile).toBe(true);
    expect((await calls('ok')).length).toBe(before);
    // an async veto too
    const err2: unknown = await osgce(osgceSetup('VETO-ce.example.org'), fake.ok)
      .submit({ ...REQ, beforeSubmit: () => Promise.reject(veto) }, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(err2).toBe(veto);
    expect((await calls('ok')).length).toBe(before);
    // and when it passes, condor_submit runs after it
    let callsWhenAsked = -1;
    await osgce(osgceSetup('VETO-ce.example.org'), fake.ok).submit(
      {
        ...REQ,
        beforeSubmit: async () => {
          callsWhenAsked = (await calls('ok')).length;
        },
      },
      new AbortController().signal,
    );
    expect(callsWhenAsked).toBe(before);
    expect((await calls('ok')).length).toBe(before + 1);
  });

  const JOBS: BatchJob[] = [
    { id: '10.0', queue: 'Q', jobStatus: 1, qdate: 100 },
    { id: '11.0', queue: 'Q', jobStatus: 2, qdate: 300 },
    { id: '12.0', queue: 'Q', jobStatus: 1, qdate: 200 },
  ];

  it('retires nothing when peaceful (the default)', async () => {
    const before = (await calls('rm')).length;
    const report = await osgce(osgceSetup(), fake.ok).retire({ n: 2, jobs: JOBS, now: new Date() }, new AbortController().signal);
    expect(report.removed).toEqual([]);
    expect(report.summary).toMatch(/^peaceful/);
    expect((await calls('rm')).length).toBe(before);
  });

  it('removes the newest pilots with condor_rm on the schedd of submitargs', async () => {
    const setup = osgceSetup('CERN-ce503.cern.ch', { 'batchsubmit.condorosgce.peaceful': 'False', 'batchsubmit.condorosgce.submitargs': '-remote schedd01.example.org' });
    const report = await osgce(setup, fake.ok).retire({ n: 2, jobs: JOBS, now: new Date() }, new AbortController().signal);
    expect(report.removed).toEqual(['11.0', '12.0']);
    expect(report.summary).toBe('removed 2 newest of 2 picked (asked to retire 2)');
    expect((await calls('rm')).at(-1)).toBe('-name schedd01.example.org 11.0 12.0');
  });

  it('removes the oldest pilots when killorder = oldest', async () => {
    const setup = osgceSetup('CERN-ce503.cern.ch', { 'batchsubmit.condorbase.peaceful': 'False', 'batchsubmit.condorbase.killorder': 'oldest' });
    const report = await osgce(setup, fake.ok).retire({ n: 1, jobs: JOBS, now: new Date() }, new AbortController().signal);
    expect(report.removed).toEqual(['10.0']);
    expect((await calls('rm')).at(-1)).toBe('10.0');
  });

  it('fails retire when condor_rm answers nothing about any job', async () => {
    const setup = osgceSetup('CERN-ce503.cern.ch', { 'batchsubmit.condorosgce.peaceful': 'False' });
    const err: unknown = await osgce(setup, fake.ok, fake.rmBroken)
      .retire({ n: 1, jobs: JOBS, now: new Date() }, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(isApfError(err, 'APF_ERR_RETIRE_FAILED')).toBe(true);
    expect((err as Error).message).toContain("Couldn't find/remove all jobs in cluster 4367999");
  });
});
