import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isApfError } from '../../../../../src/errors.ts';
import { parseCondorJson } from '../../../../../src/plugins/batch-status/condor/parse-json.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../../fixtures/htcondor/${name}`, import.meta.url), 'utf8');

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('plugins/batch-status/condor/parse-json', () => {
  describe('fixtures', () => {
    it('reads condor_q.json, turning \\/Expr(…)\\/ back into expressions', () => {
      const ads = parseCondorJson(fixture('condor_q.json'));
      expect(ads).toHaveLength(6);
      expect(ads[0]?.['Requirements']).toEqual({ expr: 'JobRunCount == 0' });
      expect(ads[0]?.['RemoteWallClockTime']).toBe(0);
      expect(ads[0]?.['Nonessential']).toBe(true);
      expect(ads.map((a) => a['JobStatus'])).toEqual([1, 2, 5, 1, 5, 2]);
    });

    it('reads the projection, with null for undefined', () => {
      const ads = parseCondorJson(fixture('condor_q_attributes.json'));
      expect(ads.map((a) => a['ClusterId'])).toEqual([4367890, 4367890, 4367891, 4367892, 4367893, 4367894]);
      expect(ads[2]?.['GridJobStatus']).toBeNull();
    });

    it('reads condor_history.json', () => {
      expect(parseCondorJson(fixture('condor_history.json')).map((a) => a['RemoteWallClockTime'])).toEqual([38800, 77000, 0]);
    });

    it('reads both empty forms as no jobs (condor_q prints nothing, condor_history "[\\n]")', () => {
      expect(fixture('condor_q_empty.json')).toBe('');
      expect(parseCondorJson(fixture('condor_q_empty.json'))).toEqual([]);
      expect(parseCondorJson('[\n]\n')).toEqual([]);
    });
  });

  describe('layouts and values', () => {
    it('concatenated arrays and banner lines', () => {
      const text = '-- Schedd: a : <1.2.3.4:9618>\n[\n{\n  "X": 1\n}\n]\n-- Schedd: b : <1.2.3.5:9618>\n[\n]\n[\n{\n  "X": 2\n}\n]\n';
      expect(parseCondorJson(text)).toEqual([{ X: 1 }, { X: 2 }]);
    });

    it('special reals, error, times, lists and nested ads', () => {
      // Written as HTCondor does: expression strings open with a literal "\/Expr(".
      const text = JSON.stringify([
        {
          N: '/Expr(real("NaN"))/',
          I: '/Expr(real("INF"))/',
          M: '/Expr(real("-INF"))/',
          E: '/Expr(error)/',
          T: '/Expr(absTime("2023-11-14T22:13:20+00:00"))/',
          L: [1, 'x', null, '/Expr(a + b)/'],
          C: { Inner: 5 },
        },
      ])
        .replaceAll('"/Expr(', '"\\/Expr(')
        .replaceAll(')/"', ')\\/"');
      const [ad] = parseCondorJson(text);
      expect(ad?.['N']).toBeNaN();
      expect(ad?.['I']).toBe(Infinity);
      expect(ad?.['M']).toBe(-Infinity);
      expect(ad?.['E']).toEqual({ expr: 'error' });
      expect(ad?.['T']).toEqual({ expr: 'absTime("2023-11-14T22:13:20+00:00")' });
      expect(ad?.['L']).toEqual([1, 'x', null, { expr: 'a + b' }]);
      expect(ad?.['C']).toEqual({ ad: { Inner: 5 } });
    });

    it('tells a real string "/Expr(…)/" (unescaped slash) from an expression ("\\/Expr(")', () => {
      const text = '[\n{\n  "S": "/Expr(not an expression)/",\n  "E": "\\/Expr(a == 1)\\/"\n}\n]\n';
      expect(parseCondorJson(text)).toEqual([{ S: '/Expr(not an expression)/', E: { expr: 'a == 1' } }]);
    });

    it('projects and canonicalises names', () => {
      const text = '[\n{\n  "match_apf_queue": "q",\n  "JOBSTATUS": 1,\n  "Other": 3\n}\n]\n';
      expect(parseCondorJson(text, { attributes: ['MATCH_APF_QUEUE', 'JobStatus'] })).toEqual([{ MATCH_APF_QUEUE: 'q', JobStatus: 1 }]);
    });
  });

  describe('errors (APF_ERR_BATCH_OUTPUT)', () => {
    it.each([
      ['garbage', 'Segmentation fault\n'],
      ['an object at top level', '{"X": 1}'],
      ['a non-object element', '[1, 2]'],
      ['a null element', '[null]'],
      ['an array element', '[[{"X": 1}]]'],
      ['a truncated array', '[\n{\n  "X": 1\n}\n'],
      ['garbage after the array', '[\n]\nERROR\n'],
      ['a truncated second document', '[\n]\n[\n{\n'],
    ])('%s', (_what, text) => {
      expect(isApfError(thrown(() => parseCondorJson(text)), 'APF_ERR_BATCH_OUTPUT')).toBe(true);
    });

    it.each(['condor_q.json', 'condor_q_attributes.json', 'condor_history.json'])(
      'every truncation of %s is an error or the complete listing (zero bytes = the empty queue)',
      (name) => {
        const text = fixture(name);
        const full = parseCondorJson(text);
        const end = text.lastIndexOf(']') + 1;
        const wrongCode: number[] = [];
        const silent: number[] = [];
        // Every cut near both ends, every 5th in the large middle (keeps the test ~1 s).
        const step = (cut: number): number => (cut < 400 || cut > text.length - 400 ? 1 : 5);
        for (let cut = 1; cut < text.length; cut += step(cut)) {
          let got: unknown;
          try {
            got = parseCondorJson(text.slice(0, cut));
          } catch (err) {
            if (!isApfError(err, 'APF_ERR_BATCH_OUTPUT')) wrongCode.push(cut);
            continue;
          }
          if (cut < end || !isDeepStrictEqual(got, full)) silent.push(cut);
        }
        expect(wrongCode).toEqual([]);
        expect(silent).toEqual([]);
        // The one ambiguity of the JSON form: nothing at all is condor_q's empty queue.
        expect(parseCondorJson(text.slice(0, 0))).toEqual([]);
      },
    );
  });
});
