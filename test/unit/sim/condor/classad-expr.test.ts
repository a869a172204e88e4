import { describe, expect, it } from 'vitest';
import type { Ad } from '../../../../src/sim/condor/classad-format.ts';
import {
  adValueText,
  ERROR_VALUE,
  evaluate,
  exprToAdValue,
  isTrue,
  lookupInsensitive,
  matchesConstraint,
  parseExpr,
  realText,
  unparse,
  type ClassAdValue,
} from '../../../../src/sim/condor/classad-expr.ts';

const NOW = 1_700_000_000;

const JOB: Ad = {
  ClusterId: 4367890,
  ProcId: 1,
  JobStatus: 2,
  EnteredCurrentStatus: NOW - 100,
  MATCH_APF_QUEUE: 'CERN-ce503.cern.ch',
  Owner: 'apf',
  Environment: 'PANDA_JSID=apf-lancs GTAG=x APFFID=apf-lancs',
  RemoteWallClockTime: { real: 38800 },
  Nonessential: true,
  GridJobStatus: null,
  Twice: { expr: 'JobStatus * 2' },
  Loop: { expr: 'Loop + 1' },
};

function ev(text: string, ad: Ad = JOB): ClassAdValue {
  return evaluate(parseExpr(text), { lookup: lookupInsensitive(ad), now: NOW });
}

describe('sim/condor/classad-expr', () => {
  describe('literals', () => {
    it.each<[string, ClassAdValue]>([
      ['42', 42],
      ['-7', -7],
      ['1.5', { real: 1.5 }],
      ['.5', { real: 0.5 }],
      ['2e3', { real: 2000 }],
      ['"a\\"b\\\\c\\n"', 'a"b\\c\n'],
      ['"\\101"', 'A'],
      ['true', true],
      ['FALSE', false],
      ['undefined', null],
      ['UNDEFINED', null],
      ['error', ERROR_VALUE],
      ['{1, "x"}', { list: [1, 'x'] }],
    ])('%s', (text, value) => {
      expect(ev(text)).toEqual(value);
    });
  });

  describe('attribute references', () => {
    it('are case-insensitive and accept MY.', () => {
      expect(ev('jobstatus')).toBe(2);
      expect(ev('MY.JobStatus')).toBe(2);
      expect(ev('my.match_apf_queue')).toBe('CERN-ce503.cern.ch');
    });
    it('TARGET. and missing attributes are undefined', () => {
      expect(ev('TARGET.JobStatus')).toBeNull();
      expect(ev('NoSuchAttr')).toBeNull();
    });
    it('evaluate stored expressions, and a reference cycle is an error', () => {
      expect(ev('Twice')).toBe(4);
      expect(ev('Loop')).toEqual(ERROR_VALUE);
    });
    it('CurrentTime defaults to now and time() is now', () => {
      expect(ev('CurrentTime - EnteredCurrentStatus')).toBe(100);
      expect(ev('time()')).toBe(NOW);
    });
  });

  describe('comparison', () => {
    it.each<[string, ClassAdValue]>([
      ['JobStatus == 2', true],
      ['JobStatus != 2', false],
      ['JobStatus < 3 && JobStatus <= 2 && JobStatus > 1 && JobStatus >= 2', true],
      ['1 == 1.0', true],
      ['2.5 > 2', true],
      ['"ABC" == "abc"', true], // == ignores case
      ['"abc" < "ABD"', true],
      ['true == 1', true], // booleans promote to integers
      ['"1" == 1', ERROR_VALUE],
      ['NoSuch == 1', null],
      ['NoSuch != 1', null],
      ['error == 1', ERROR_VALUE],
      ['error == NoSuch', ERROR_VALUE], // ERROR wins over UNDEFINED
    ])('%s', (text, value) => {
      expect(ev(text)).toEqual(value);
    });
  });

  describe('meta-comparison (=?= =!= is isnt)', () => {
    it.each<[string, boolean]>([
      ['NoSuch =?= UNDEFINED', true],
      ['NoSuch is undefined', true],
      ['GridJobStatus =?= undefined', true],
      ['JobStatus =?= UNDEFINED', false],
      ['JobStatus =!= UNDEFINED', true],
      ['JobStatus isnt undefined', true],
      ['"ABC" =?= "abc"', false], // case-sensitive
      ['"abc" is "abc"', true],
      ['1 =?= 1.0', false], // different types
      ['error =?= error', true],
      ['true =?= 1', false],
    ])('%s', (text, value) => {
      expect(ev(text)).toBe(value);
    });
  });

  describe('three-valued logic', () => {
    const U = 'NoSuch';
    it.each<[string, ClassAdValue]>([
      [`true && ${U}`, null],
      [`${U} && true`, null],
      [`false && ${U}`, false],
      [`${U} && false`, false],
      [`${U} && ${U}`, null],
      [`true || ${U}`, true],
      [`${U} || true`, true],
      [`false || ${U}`, null],
      [`${U} || false`, null],
      [`!${U}`, null],
      ['!true', false],
      ['false && error', false], // short-circuit
      ['true || error', true],
      ['error && false', ERROR_VALUE],
      [`${U} && error`, ERROR_VALUE],
      [`${U} || error`, ERROR_VALUE],
      ['1 && true', true], // numbers count as booleans
      ['0 || false', false],
      ['"x" && true', ERROR_VALUE],
      ['true && "x"', ERROR_VALUE],
      ['!"x"', ERROR_VALUE],
    ])('%s', (text, value) => {
      expect(ev(text)).toEqual(value);
    });
  });

  describe('arithmetic', () => {
    it.each<[string, ClassAdValue]>([
      ['1 + 2 * 3', 7],
      ['(1 + 2) * 3', 9],
      ['7 / 2', 3],
      ['-7 / 2', -3],
      ['7 % 3', 1],
      ['7.0 / 2', { real: 3.5 }],
      ['1 / 0', ERROR_VALUE],
      ['1.0 / 0', ERROR_VALUE],
      ['5.5 % 2', ERROR_VALUE],
      ['true + 1', 2],
      ['"a" + 1', ERROR_VALUE],
      ['NoSuch + 1', null],
      ['-JobStatus', -2],
      ['-"x"', ERROR_VALUE],
      ['RemoteWallClockTime / 3600', { real: 38800 / 3600 }],
      ['6 | 1', 7],
      ['6 & 3', 2],
      ['1 << 4', 16],
      ['~0', -1],
    ])('%s', (text, value) => {
      expect(ev(text)).toEqual(value);
    });
  });

  describe('conditionals and functions', () => {
    it.each<[string, ClassAdValue]>([
      ['JobStatus == 2 ? "run" : "other"', 'run'],
      ['NoSuch ? 1 : 2', null],
      ['"x" ? 1 : 2', ERROR_VALUE],
      ['NoSuch ?: 5', 5],
      ['ifThenElse(JobStatus == 2, "r", "o")', 'r'],
      ['ifThenElse(NoSuch, 1, 2)', null],
      ['ifThenElse(false, error, 2)', 2], // only the chosen branch is evaluated
      ['isUndefined(NoSuch)', true],
      ['isUndefined(JobStatus)', false],
      ['isundefined(GridJobStatus)', true],
      ['stringListMember("GTAG=x", Environment, " ")', true],
      ['stringListMember("PANDA_JSID=apf-lancs", Environment, " ")', true],
      ['stringListMember("panda_jsid=apf-lancs", Environment, " ")', false],
      ['stringListIMember("panda_jsid=apf-lancs", Environment, " ")', true],
      ['stringListMember("b", "a, b ,c")', true],
      ['stringListMember("d", "a,b,c")', false],
      ['stringListMember(NoSuch, "a")', null],
      ['stringListMember(1, "a")', ERROR_VALUE],
      ['toLower("AbC")', 'abc'],
      ['size("abcd")', 4],
      ['noSuchFunction(1)', ERROR_VALUE],
      ['{1, 2, 3}[1]', 2],
    ])('%s', (text, value) => {
      expect(ev(text)).toEqual(value);
    });
  });

  describe('constraints', () => {
    it('match only true (or a non-zero number)', () => {
      const ctx = { lookup: lookupInsensitive(JOB), now: NOW };
      expect(matchesConstraint(parseExpr('MATCH_APF_QUEUE == "CERN-ce503.cern.ch" && JobStatus == 2'), ctx)).toBe(true);
      expect(matchesConstraint(parseExpr('NoSuch == 1'), ctx)).toBe(false);
      expect(matchesConstraint(parseExpr('error'), ctx)).toBe(false);
      expect(isTrue(3)).toBe(true);
      expect(isTrue({ real: 0 })).toBe(false);
      expect(isTrue('true')).toBe(false);
    });
  });

  describe('parse errors', () => {
    it.each(['', 'JobStatus ==', '(a', 'a b', '"unterminated', 'f(1,', '1 +* 2', 'a is', '#'])('%j is refused with a coded error', (text) => {
      expect(() => parseExpr(text)).toThrow(expect.objectContaining({ code: 'APF_ERR_SIM' }) as Error);
    });
  });

  describe('unparse (new ClassAd syntax, as condor_q -xml prints)', () => {
    it.each<[string, string]>([
      [
        '( JobStatus==1 && gridjobstatus=?=UNDEFINED && CurrentTime-EnteredCurrentStatus>3600 ) || ( JobStatus == 1 && (JobRunCount =!= UNDEFINED && JobRunCount > 0) )',
        '(JobStatus == 1 && gridjobstatus is undefined && CurrentTime - EnteredCurrentStatus > 3600) || (JobStatus == 1 && (JobRunCount isnt undefined && JobRunCount > 0))',
      ],
      ['a&&!b', 'a &&  !b'],
      ['x ? "y" : z', 'x ? "y" : z'],
      ['stringListMember("a", Env, " ")', 'stringListMember("a",Env," ")'],
      ['MY.x == TARGET.y', 'MY.x == TARGET.y'],
      ['x > 1.5', 'x > 1.500000000000000E+00'],
      ['{1,2}', '{ 1,2 }'],
      ['"tab\\there"', '"tab\\there"'],
    ])('%s', (text, printed) => {
      expect(unparse(parseExpr(text))).toBe(printed);
    });
    it('old syntax keeps =?= and prints reals with %.16G', () => {
      expect(unparse(parseExpr('a =?= UNDEFINED && b =!= 1.5'), { old: true })).toBe('a =?= undefined && b =!= 1.5');
      expect(realText(38800, true)).toBe('38800.0');
      expect(realText(1e20, true)).toBe('1E+20');
      expect(realText(0.000012, true)).toBe('1.2E-05');
      expect(realText(0, false)).toBe('0.0');
      expect(realText(-2.5, false)).toBe('-2.500000000000000E+00');
    });
  });

  describe('submit-file right-hand sides', () => {
    it.each([
      ['"CERN-ce503.cern.ch"', 'CERN-ce503.cern.ch'],
      ['""', ''],
      ['16000', 16000],
      ['-5', -5],
      ['2.5', { real: 2.5 }],
      ['True', true],
      ['undefined', null],
      ['grid', { expr: 'grid' }],
      ['JobRunCount == 0', { expr: 'JobRunCount == 0' }],
    ])('%s', (text, value) => {
      expect(exprToAdValue(text)).toEqual(value);
    });
    it('prints values back as ClassAd text', () => {
      expect(adValueText('a "q"', true)).toBe('"a \\"q\\""');
      expect(adValueText({ expr: 'x is undefined' }, true)).toBe('x =?= undefined');
      expect(adValueText({ real: 0.5 }, true)).toBe('0.5');
      expect(adValueText(null, true)).toBe('undefined');
    });
  });
});
