import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONDOR_OSGCE, osgceHeadLines, osgceJdlLines } from '../../../../src/plugins/batch-submit/condor-osgce.ts';
import { buildSubmitFile } from '../../../../src/plugins/batch-submit/condor/submit-file.ts';
import { entries, okOptions, pluginOptions, recordingLogger, submitContext, WARN, type TestSetup } from './context.ts';

const FIXTURES = new URL('../../../fixtures/htcondor/', import.meta.url);
const fixtureLines = (name: string): string[] => readFileSync(new URL(name, FIXTURES), 'utf8').split('\n').filter((l) => l !== '');

/** An HTCondor-CE queue configured like the one behind fixtures/htcondor/submit_apf_condorce.jdl. */
const SETUP: TestSetup = {
  queue: 'CERN-ce503.cern.ch',
  section: {
    wmsqueue: 'CERN',
    executable: '/usr/libexec/wrapper.sh',
    'executable.arguments': '-s CERN -h CERN -p 25443 -w https://pandaserver.cern.ch',
    'batchsubmit.condorosgce.gridresource': 'ce503.cern.ch',
    'batchsubmit.condorosgce.proxy': 'atlas-production, atlas-production-backup',
    'batchsubmit.condorosgce.condor_attributes': 'periodic_remove = (JobStatus == 2 && (CurrentTime - EnteredCurrentStatus) > 604800)',
    'batchsubmit.condorosgce.condor_attributes.+maxMemory': '16000',
    'batchsubmit.condorosgce.condor_attributes.+xcount': '8',
    'batchsubmit.condorosgce.condor_attributes.+voactivity': '"production"',
    'batchsubmit.condorosgce.condor_attributes.+remote_queue': '"share"',
  },
  monitorsections: ['apfmon-lancs'],
  monitors: { 'apfmon-lancs': 'http://apfmon.lancs.ac.uk/api' },
  auth: {
    'atlas-production': '/var/lib/autopyfactory/proxy/x509-atlas-production',
    'atlas-production-backup': '/var/lib/autopyfactory/proxy/x509-atlas-backup',
  },
};

const REQ = { n: 3, cycleId: 'CERN-ce503.cern.ch:0:7f3a9c', instance: 'apf-node1', now: new Date('2023-11-14T23:59:59Z') };

function build(setup: TestSetup = SETUP): { lines: readonly string[]; path: string; records: ReturnType<typeof recordingLogger>['records'] } {
  const { logger, records } = recordingLogger();
  const ctx = submitContext(setup, logger);
  const options = okOptions(CONDOR_OSGCE, ctx.queue.raw);
  const file = buildSubmitFile({ headLines: osgceHeadLines(options, ctx) }, options, ctx, REQ);
  return { lines: file.lines, path: file.path, records };
}

/** APF's levels, to compare line order level by level. */
function levelOf(line: string): string {
  const key = line.split(' = ')[0] ?? line;
  if (key === 'grid_resource' || key === '+TransferOutput') return 'osgce';
  if (key === '+Nonessential') return 'ce';
  if (key === 'universe' || key === 'x509userproxy') return 'grid';
  if (key.startsWith('+APF_FACTORY') || key === '+APF_CYCLE' || key === '+APF_INSTANCE') return 'apf-tags';
  if (key.startsWith('queue')) return 'queue';
  if (['periodic_remove', '+maxMemory', '+xcount', '+voactivity', '+remote_queue'].includes(key)) return 'user';
  return 'base';
}

describe('plugins/batch-submit/condor-osgce', () => {
  it('declares the OSGCE key chain and its options', () => {
    expect(CONDOR_OSGCE.id).toBe('CondorOSGCE');
    expect(CONDOR_OSGCE.keyChain).toEqual(['condorosgce', 'condorce', 'condorgrid', 'condorbase']);
    expect(Object.keys(CONDOR_OSGCE.options)).toEqual(
      expect.arrayContaining(['gridresource', 'port', 'proxy', 'proxyfile', 'submitargs', 'environ', 'condor_attributes', 'peaceful', 'killorder', 'timeout']),
    );
  });

  it('writes the golden submit file line for line', () => {
    const { lines, path } = build();
    expect(path).toBe('/var/log/apf/2023-11-14/CERN-ce503.cern.ch/submit.jdl');
    expect(lines).toEqual(fixtureLines('submit_condorosgce_expected.jdl'));
  });

  it('has the lines of the APF fixture, each level in the fixture order', () => {
    const ours = build().lines;
    // The fixture is HEAD-era: it adds +FACTORY_JOBID (and FACTORY_JOBID in the environment), which 2.4.14 did not write.
    const fixture = fixtureLines('submit_apf_condorce.jdl')
      .filter((l) => !l.startsWith('+FACTORY_JOBID'))
      .map((l) => l.replace(' FACTORY_JOBID=$ENV(HOSTNAME)#$(Cluster).$(Process)', ''));
    const mine = ours.filter((l) => levelOf(l) !== 'apf-tags');
    expect([...mine].sort()).toEqual([...fixture].sort());
    for (const level of ['osgce', 'ce', 'grid', 'base', 'user', 'queue']) {
      expect(mine.filter((l) => levelOf(l) === level), level).toEqual(fixture.filter((l) => levelOf(l) === level));
    }
    // The fixture lists the base level first; APF 2.4.14's classes add their own lines before
    // calling their parent, so the file reads concrete class → CE → grid → base (apf-behaviour §4.3).
    const blocks = ours.map(levelOf).filter((l, i, all) => i === 0 || all[i - 1] !== l);
    expect(blocks).toEqual(['osgce', 'ce', 'grid', 'base', 'apf-tags', 'user', 'queue']);
  });

  it('builds grid_resource from gridresource and port', () => {
    expect(osgceJdlLines('ce01.example.org', 9620)).toEqual(['grid_resource = condor ce01.example.org ce01.example.org:9620', '+TransferOutput = ""']);
    const { lines } = build({ ...SETUP, section: { ...SETUP.section, 'batchsubmit.condorce.port': '9700' } });
    expect(lines[0]).toBe('grid_resource = condor ce503.cern.ch ce503.cern.ch:9700');
  });

  it('requires gridresource and rejects a bad port at load time', () => {
    const section = { ...SETUP.section };
    delete section['batchsubmit.condorosgce.gridresource'];
    const missing = pluginOptions(CONDOR_OSGCE, entries(section));
    expect(missing.problems.map((p) => [p.key, p.message])).toEqual([['batchsubmit.condorosgce.gridresource', 'missing mandatory key']]);
    const bad = pluginOptions(CONDOR_OSGCE, entries({ ...SETUP.section, 'batchsubmit.condorosgce.port': '96x9' }));
    expect(bad.problems).toHaveLength(1);
    expect(bad.problems[0]?.key).toBe('batchsubmit.condorosgce.port');
  });

  it('leaves x509userproxy out and warns when no proxy is configured', () => {
    const section = { ...SETUP.section };
    delete section['batchsubmit.condorosgce.proxy'];
    const { lines, records } = build({ ...SETUP, section });
    expect(lines.slice(0, 4)).toEqual(['grid_resource = condor ce503.cern.ch ce503.cern.ch:9619', '+TransferOutput = ""', '+Nonessential = True', 'universe = grid']);
    expect(lines.some((l) => l.startsWith('x509userproxy'))).toBe(false);
    expect(records.filter((r) => r.level === WARN).map((r) => r.msg).join('\n')).toMatch(/no X\.509 proxy/);
  });

  it('takes the proxy from proxyfile when no profile gives one', () => {
    const section = { ...SETUP.section, 'batchsubmit.condorgrid.proxyfile': '/tmp/x509up_u1000', 'batchsubmit.condorosgce.proxy': 'no-such-profile' };
    const { lines, records } = build({ ...SETUP, section });
    expect(lines[4]).toBe('x509userproxy = /tmp/x509up_u1000');
    expect(records.some((r) => r.level === WARN && JSON.stringify(r).includes('no-such-profile: no such auth profile'))).toBe(true);
  });
});
