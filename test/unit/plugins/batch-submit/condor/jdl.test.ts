import { describe, expect, it } from 'vitest';
import {
  baseJdlLines,
  ceJdlLines,
  classAdString,
  gridJdlLines,
  logLocation,
  pilotEnvironment,
  pilotTagLines,
  queueLogName,
  queueLine,
  renderJdl,
  utcDay,
  type BaseJdlInput,
} from '../../../../../src/plugins/batch-submit/condor/jdl.ts';

const INPUT: BaseJdlInput = {
  queue: 'BNL_ATLAS-gridgk01.racf.bnl.gov',
  log: logLocation('/home/apf/logs', 'http://apf.bnl.gov:25880', 'BNL_ATLAS-gridgk01.racf.bnl.gov', new Date('2024-03-01T05:00:00Z')),
  factoryId: 'BNL-gridui11-jhover',
  factoryAdminEmail: 'admin@bnl.gov',
  factoryUser: 'autopyfactory',
  monitorUrl: 'http://apfmon.lancs.ac.uk/api',
  environ: 'RUCIO_ACCOUNT=pilot PILOT_HTTP_SOURCES=a',
  executable: '/usr/libexec/wrapper.sh',
  arguments: '--wrappergrid=OSG "--quoted arg"',
};

/** The environment value as a list of variables. */
function vars(env: string): string[] {
  expect(env.startsWith('"') && env.endsWith('"')).toBe(true);
  return env.slice(1, -1).split(' ');
}

describe('plugins/batch-submit/condor/jdl', () => {
  it('names the log directory by UTC day and queue with / and : replaced', () => {
    expect(queueLogName('ANALY_X/ce:9619')).toBe('ANALY_X_ce_9619');
    // 23:30 at UTC-5 is already the next day in UTC
    expect(utcDay(new Date('2024-03-01T23:30:00-05:00'))).toBe('2024-03-02');
    expect(logLocation('/logs', 'http://h:25880', 'Q/a:b', new Date('2024-12-31T23:59:59Z'))).toEqual({
      dir: '/logs/2024-12-31/Q_a_b',
      url: 'http://h:25880/2024-12-31/Q_a_b',
    });
  });

  it('puts every pilot variable into the environment, in APF order', () => {
    const url = 'http://apf.bnl.gov:25880/2024-03-01/BNL_ATLAS-gridgk01.racf.bnl.gov';
    expect(vars(pilotEnvironment(INPUT))).toEqual([
      'PANDA_JSID=BNL-gridui11-jhover',
      `GTAG=${url}/$(Cluster).$(Process).out`,
      'APFCID=$(Cluster).$(Process)',
      'APFFID=BNL-gridui11-jhover',
      'APFMON=http://apfmon.lancs.ac.uk/api',
      'FACTORYQUEUE=BNL_ATLAS-gridgk01.racf.bnl.gov',
      'FACTORYUSER=autopyfactory',
      'RUCIO_ACCOUNT=pilot',
      'PILOT_HTTP_SOURCES=a',
    ]);
  });

  it('leaves APFMON, FACTORYUSER and environ out when unset or blank', () => {
    const env = vars(pilotEnvironment({ ...INPUT, monitorUrl: undefined, factoryUser: undefined, environ: '  ' }));
    expect(env.map((v) => v.split('=')[0])).toEqual(['PANDA_JSID', 'GTAG', 'APFCID', 'APFFID', 'FACTORYQUEUE']);
    expect(vars(pilotEnvironment({ ...INPUT, monitorUrl: '', factoryUser: '', environ: undefined }))).toHaveLength(5);
  });

  it('writes the base lines in APF order, arguments verbatim', () => {
    const lines = baseJdlLines(INPUT);
    expect(lines.map((l) => l.split(' = ')[0])).toEqual([
      'Dir',
      'notify_user',
      '+MATCH_APF_QUEUE',
      '+APF_QUEUE',
      '+APF_LOGURL',
      '+APF_OUTURL',
      '+APF_ERRURL',
      'environment',
      'executable',
      'arguments',
      'output',
      'error',
      'log',
      'stream_output',
      'stream_error',
      'notification',
      'transfer_executable',
    ]);
    expect(lines[0]).toBe('Dir = /home/apf/logs/2024-03-01/BNL_ATLAS-gridgk01.racf.bnl.gov/');
    expect(lines[2]).toBe('+MATCH_APF_QUEUE = "BNL_ATLAS-gridgk01.racf.bnl.gov"');
    expect(lines[6]).toBe('+APF_ERRURL = "http://apf.bnl.gov:25880/2024-03-01/BNL_ATLAS-gridgk01.racf.bnl.gov/$(Cluster).$(Process).err"');
    expect(lines[9]).toBe('arguments = --wrappergrid=OSG "--quoted arg"');
  });

  it('leaves arguments out when unset or empty (as APF)', () => {
    expect(baseJdlLines({ ...INPUT, arguments: undefined }).some((l) => l.startsWith('arguments'))).toBe(false);
    expect(baseJdlLines({ ...INPUT, arguments: '' }).some((l) => l.startsWith('arguments'))).toBe(false);
  });

  it('folds a multi-line value so that it cannot add submit-file lines', () => {
    const lines = baseJdlLines({ ...INPUT, arguments: '-a 1\n    -b 2' });
    expect(lines).toContain('arguments = -a 1 -b 2');
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
  });

  it('keeps the queue name exact in ClassAd strings', () => {
    expect(classAdString('CERN-ce503.cern.ch')).toBe('"CERN-ce503.cern.ch"');
    expect(classAdString('odd"name\\x')).toBe('"odd\\"name\\\\x"');
  });

  it('writes the grid and CE levels', () => {
    expect(gridJdlLines('/tmp/x509up_u100')).toEqual(['universe = grid', 'x509userproxy = /tmp/x509up_u100']);
    expect(gridJdlLines(undefined)).toEqual(['universe = grid']);
    expect(ceJdlLines()).toEqual(['+Nonessential = True']);
  });

  it('tags pilots with factory, cycle and instance', () => {
    expect(pilotTagLines({ factoryId: 'f1', cycleId: 'Q:3:ab12' })).toEqual(['+APF_FACTORY = "f1"', '+APF_CYCLE = "Q:3:ab12"']);
    expect(pilotTagLines({ factoryId: 'f1', cycleId: 'Q:3:ab12', instance: 'node-2' })).toEqual([
      '+APF_FACTORY = "f1"',
      '+APF_CYCLE = "Q:3:ab12"',
      '+APF_INSTANCE = "node-2"',
    ]);
  });

  it('renders one line each, newline-terminated', () => {
    expect(renderJdl(['a = 1', queueLine(4)])).toBe('a = 1\nqueue 4\n');
  });
});
