import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  argsOption,
  classAdString,
  condorArgs,
  ownPilotsConstraint,
  parseCondorOutput,
  scheddKey,
  scheddOf,
} from '../../../../../src/plugins/batch-status/condor/query.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../../fixtures/htcondor/${name}`, import.meta.url), 'utf8');

describe('plugins/batch-status/condor/query', () => {
  it('finds the schedd and pool in query arguments', () => {
    expect(scheddOf(['-name', 'schedd01.example.org', '-pool', 'cm.example.org:9618'])).toEqual({
      name: 'schedd01.example.org',
      pool: 'cm.example.org:9618',
    });
    expect(scheddOf(['--NAME', 's', '-other'])).toEqual({ name: 's', pool: undefined });
    expect(scheddOf(['-name'])).toEqual({ name: undefined, pool: undefined });
  });

  it('keys sources by schedd and pool, "local" without them', () => {
    expect(scheddKey([])).toBe('local');
    expect(scheddKey(['-better-analyze'])).toBe('local');
    expect(scheddKey(['-pool', 'cm:9618', '-name', 's1'])).toBe('s1:cm:9618');
    expect(scheddKey(['-name', 's1'])).toBe('s1:');
  });

  it('splits queryargs as a shell would when the option is parsed', () => {
    const spec = argsOption('doc');
    expect(spec.parse('-name "my schedd" -pool cm.example.org')).toEqual(['-name', 'my schedd', '-pool', 'cm.example.org']);
    expect(spec.default).toEqual([]);
    expect(() => spec.parse('-name "unterminated')).toThrow(/unterminated/);
  });

  it("builds the own-pilots constraint with the factory id as a ClassAd string", () => {
    expect(ownPilotsConstraint('apf-lancs', undefined)).toBe('MATCH_APF_QUEUE =!= UNDEFINED && APF_FACTORY =?= "apf-lancs"');
    expect(ownPilotsConstraint('apf', ' JobUniverse == 9 ')).toBe(
      'MATCH_APF_QUEUE =!= UNDEFINED && APF_FACTORY =?= "apf" && (JobUniverse == 9)',
    );
    expect(classAdString('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it('asks condor_q for all users and passes the query arguments last', () => {
    const args = condorArgs({
      tool: 'condor_q',
      command: 'condor_q',
      format: 'json',
      attributes: ['ClusterId', 'JobStatus'],
      constraint: 'true',
      queryArgs: ['-name', 's1'],
      timeoutMs: 1000,
    });
    expect(args).toEqual(['-allusers', '-json', '-attributes', 'ClusterId,JobStatus', '-constraint', 'true', '-name', 's1']);
    expect(condorArgs({ tool: 'condor_history', command: 'x', format: 'xml', attributes: ['A'], constraint: 'c', queryArgs: [], timeoutMs: 1 })).toEqual([
      '-xml',
      '-attributes',
      'A',
      '-constraint',
      'c',
    ]);
  });

  it('parses either form to the same ads', () => {
    const attrs = ['clusterid', 'JobStatus'];
    const fromXml = parseCondorOutput(fixture('condor_q_attributes.xml'), 'xml', attrs);
    expect(parseCondorOutput(fixture('condor_q_attributes.json'), 'json', attrs)).toEqual(fromXml);
    expect(fromXml[0]).toEqual({ clusterid: 4367890, JobStatus: 1 });
  });
});
