import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ad } from '../../../../src/sim/condor/classad-format.ts';
import { buildGroupTemplate, resolveTemplate, type TemplateContext } from '../../../../src/sim/condor/job-ad.ts';
import { expandMacros, parseSubmitDescription, PROC_MARKER } from '../../../../src/sim/condor/submit-file.ts';

const FIX = new URL('../../../fixtures/htcondor/', import.meta.url).pathname;
const QDATE = 1_699_999_100;

let dir: string;
let proxy: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sim-condor-submit-'));
  proxy = join(dir, 'x509-atlas-production');
  writeFileSync(proxy, 'placeholder proxy\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fixture JDL with its proxy path pointed at a readable placeholder. */
function fixtureJdl(name: string): string {
  return readFileSync(join(FIX, name), 'utf8').replace('/var/lib/autopyfactory/proxy/x509-atlas-production', proxy);
}

function ctx(cluster: number): TemplateContext {
  return {
    cluster,
    qdate: QDATE,
    owner: 'apf',
    uidDomain: 'hec.lancs.ac.uk',
    env: { HOSTNAME: 'apf01.hec.lancs.ac.uk' },
    cwd: '/var/lib/autopyfactory',
    proxyCheck: 'exists',
    credMinTimeLeft: 120,
  };
}

/** Every proc's ad of a submit description, as the schedd would store it. */
function ads(text: string, cluster: number): Ad[] {
  const out: Ad[] = [];
  let proc = 0;
  for (const g of parseSubmitDescription(text).groups) {
    const { template } = buildGroupTemplate(g, ctx(cluster));
    for (let i = 0; i < g.count; i++) out.push(resolveTemplate(template, proc++));
  }
  return out;
}

describe('sim/condor/submit-file', () => {
  describe('syntax', () => {
    it('reads assignments, comments, continuation lines, custom attributes and queue statements', () => {
      const d = parseSubmitDescription('# comment\nExecutable = /bin/a\narguments = one \\\n  two\n+Foo = "x"\nMY.Bar = 1\nqueue\nqueue 4\n');
      expect(d.groups.map((g) => g.count)).toEqual([1, 4]);
      const g = d.groups[0];
      expect(g?.commands.get('executable')?.value).toBe('/bin/a');
      expect(g?.commands.get('arguments')?.value).toBe('one   two');
      expect(g?.customs.get('foo')).toMatchObject({ key: 'Foo', value: '"x"', line: 5 });
      expect(g?.customs.get('bar')).toMatchObject({ key: 'Bar', value: '1' });
      expect(g?.line).toBe(7);
    });

    it('settings accumulate across queue statements', () => {
      const d = parseSubmitDescription('executable = /a\nqueue 2\narguments = x\nqueue 1\n');
      expect(d.groups[0]?.commands.has('arguments')).toBe(false);
      expect(d.groups[1]?.commands.get('arguments')?.value).toBe('x');
    });

    it('reports the line of a statement it cannot read', () => {
      expect(() => parseSubmitDescription('executable = /a\n\nthis is not valid\nqueue\n')).toThrow('Failed to parse command file (line 3).');
      expect(() => parseSubmitDescription('executable = /a\nqueue 3 from list.txt\n')).toThrow('Failed to parse command file (line 2).');
    });

    it('a file without queue statement has no groups', () => {
      expect(parseSubmitDescription('executable = /a\n').groups).toEqual([]);
    });
  });

  describe('macros', () => {
    const scope = (commands: Record<string, string>) => ({
      commands: new Map(Object.entries(commands).map(([k, v]) => [k.toLowerCase(), { key: k, value: v, line: 1 }])),
      env: { HOSTNAME: 'h1' },
      cluster: 42,
    });
    it('expands keys, defaults, $ENV, $(Cluster) and defers $(Process)', () => {
      const s = scope({ Dir: '/logs/$(Sub)', Sub: 'q1' });
      expect(expandMacros('$(Dir)/$(Cluster).$(Process).out', s, 1)).toBe(`/logs/q1/42.${PROC_MARKER}.out`);
      expect(expandMacros('$ENV(HOSTNAME)#$(ClusterId).$(ProcId)', s, 1)).toBe(`h1#42.${PROC_MARKER}`);
      expect(expandMacros('$(Missing)|$(Missing:dflt)|$$(Match)|$ENV(NOPE)', s, 1)).toBe('|dflt|$$(Match)|');
    });
    it('refuses a macro that refers to itself', () => {
      expect(() => expandMacros('$(A)', scope({ A: 'x$(B)', B: '$(A)' }), 7)).toThrow(/line 7/);
    });
  });

  describe('job ads of the APF HTCondor-CE submit file', () => {
    let jobs: Ad[];
    beforeAll(() => {
      jobs = ads(fixtureJdl('submit_apf_condorce.jdl'), 4367890);
    });

    it('has one ad per proc of queue 3', () => {
      expect(jobs.map((a) => [a['ClusterId'], a['QDate']])).toEqual([
        [4367890, QDATE],
        [4367890, QDATE],
        [4367890, QDATE],
      ]);
    });

    it('types every + attribute', () => {
      const a = jobs[1] as Ad;
      expect(a['MATCH_APF_QUEUE']).toBe('CERN-ce503.cern.ch');
      expect(a['APF_QUEUE']).toBe('CERN-ce503.cern.ch');
      expect(a['TransferOutput']).toBe('');
      expect(a['Nonessential']).toBe(true);
      expect(a['maxMemory']).toBe(16000);
      expect(a['xcount']).toBe(8);
      expect(a['voactivity']).toBe('production');
      expect(a['remote_queue']).toBe('share');
    });

    it('expands $(Cluster).$(Process) and $ENV() per proc', () => {
      const a = jobs[1] as Ad;
      expect(a['FACTORY_JOBID']).toBe('apf01.hec.lancs.ac.uk#4367890.1');
      expect(a['APF_LOGURL']).toBe('http://apf.example.org:25880/2023-11-14/CERN-ce503.cern.ch/4367890.1.log');
      expect(a['APF_OUTURL']).toBe('http://apf.example.org:25880/2023-11-14/CERN-ce503.cern.ch/4367890.1.out');
      expect(a['APF_ERRURL']).toBe('http://apf.example.org:25880/2023-11-14/CERN-ce503.cern.ch/4367890.1.err');
      expect(a['Out']).toBe('/var/log/apf/2023-11-14/CERN-ce503.cern.ch//4367890.1.out');
      expect(a['Err']).toBe('/var/log/apf/2023-11-14/CERN-ce503.cern.ch//4367890.1.err');
      expect(a['UserLog']).toBe('/var/log/apf/2023-11-14/CERN-ce503.cern.ch/4367890.1.log');
      expect(jobs[2]?.['FACTORY_JOBID']).toBe('apf01.hec.lancs.ac.uk#4367890.2');
    });

    it('keeps the environment string (new syntax, quotes removed)', () => {
      expect(jobs[0]?.['Environment']).toBe(
        'PANDA_JSID=apf-lancs GTAG=http://apf.example.org:25880/2023-11-14/CERN-ce503.cern.ch/4367890.0.out APFCID=4367890.0 APFFID=apf-lancs ' +
          'FACTORY_JOBID=apf01.hec.lancs.ac.uk#4367890.0 APFMON=http://apfmon.lancs.ac.uk/api FACTORYQUEUE=CERN-ce503.cern.ch FACTORYUSER=apf',
      );
    });

    it('sets what condor_submit and the schedd set', () => {
      expect(jobs[0]).toMatchObject({
        Cmd: '/usr/libexec/wrapper.sh',
        Args: '-s CERN -h CERN -p 25443 -w https://pandaserver.cern.ch',
        Owner: 'apf',
        User: 'apf@hec.lancs.ac.uk',
        Iwd: '/var/lib/autopyfactory',
        In: '/dev/null',
        JobUniverse: 9,
        GridResource: 'condor ce503.cern.ch ce503.cern.ch:9619',
        x509userproxy: proxy,
        NotifyUser: 'atlas-adc-apf@example.org',
        JobNotification: 3,
        StreamOut: false,
        StreamErr: false,
        TransferExecutable: true,
        MyType: 'Job',
        TargetType: 'Machine',
        PeriodicRemove: { expr: '(JobStatus == 2 && (CurrentTime - EnteredCurrentStatus) > 604800)' },
      });
    });
  });

  describe('job ads of the APF NorduGrid submit file', () => {
    it('keeps policy expressions in new syntax and unquoted + values as expressions', () => {
      const [a] = ads(fixtureJdl('submit_apf_nordugrid.jdl'), 4367892);
      expect(a).toMatchObject({
        JobUniverse: 9,
        GridResource: 'nordugrid arc01.hec.lancs.ac.uk',
        JobNotification: 0,
        Requirements: { expr: 'JobRunCount == 0' },
        PeriodicHold: {
          expr:
            '(JobStatus == 1 && gridjobstatus is undefined && CurrentTime - EnteredCurrentStatus > 3600) || ' +
            '(JobStatus == 1 && (JobRunCount isnt undefined && JobRunCount > 0)) || (JobStatus == 2 && CurrentTime - EnteredCurrentStatus > 604800)',
        },
        PeriodicRemove: {
          expr: '(JobStatus == 5 && (CurrentTime - EnteredCurrentStatus) > 3600) || (JobStatus == 1 && globusstatus isnt 1 && (CurrentTime - EnteredCurrentStatus) > 86400)',
        },
        remote_queue: { expr: 'grid' },
        MATCH_APF_QUEUE: 'UKI-NORTHGRID-LANCS-HEP_UCORE-arc01.hec.lancs.ac.uk',
      });
      expect(a?.['NordugridRSL']).toMatch(/^\(jobname = arc_pilot\)\(queue = grid\)/);
      expect(a?.['APFCID' as never]).toBeUndefined();
      expect(a?.['Environment']).toContain('APFCID=4367892.0');
    });
  });

  describe('errors with condor_submit texts', () => {
    const build = (text: string) => {
      const [g] = parseSubmitDescription(text).groups;
      if (g === undefined) throw new Error('no group');
      return () => buildGroupTemplate(g, ctx(1));
    };
    it.each([
      ['universe = weird\nexecutable = /a\nqueue', "I don't know about the 'weird' universe."],
      ['arguments = x\nqueue', "No 'executable' parameter was provided"],
      ['universe = grid\nexecutable = /a\nqueue', 'grid_resource attribute not defined for grid universe job'],
      ['universe = grid\ngrid_resource = bogus host\nexecutable = /a\nqueue', "Invalid value 'bogus' for grid type"],
      ['executable = /a\nnotification = sometimes\nqueue', "Notification must be 'Never', 'Always', 'Complete', 'Start', or 'Error'"],
      ['executable = /a\nx509userproxy = /nonexistent/proxy\nqueue', 'unable to read proxy file'],
      ['executable = /a\n+Bad = (1 +\nqueue', 'Failed to parse command file (line 2).'],
      ['executable = /a\nrequirements = ((\nqueue', 'Failed to parse command file (line 2).'],
    ])('%j', (text, message) => {
      expect(build(text)).toThrow(message);
    });
  });

  it('makes vanilla executables absolute, keeps new-syntax arguments and submits held with hold = true', () => {
    const text = 'executable = bin/run.sh\narguments = "a ""b"" c"\nhold = true\ninitialdir = /work\nqueue';
    const [g] = parseSubmitDescription(text).groups;
    const built = buildGroupTemplate(g as never, ctx(9));
    expect(built.hold).toBe(true);
    expect(resolveTemplate(built.template, 0)).toMatchObject({ Cmd: '/work/bin/run.sh', Arguments: 'a "b" c', Iwd: '/work', JobUniverse: 5 });
  });
});
