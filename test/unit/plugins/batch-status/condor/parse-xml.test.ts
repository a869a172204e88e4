import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isApfError } from '../../../../../src/errors.ts';
import { parseCondorXml } from '../../../../../src/plugins/batch-status/condor/parse-xml.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../../fixtures/htcondor/${name}`, import.meta.url), 'utf8');

const HEAD = '<?xml version="1.0"?>\n<!DOCTYPE classads SYSTEM "classads.dtd">\n<classads>\n';
const doc = (...ads: string[]): string => `${HEAD}${ads.map((a) => `<c>\n${a}</c>\n`).join('')}</classads>\n`;
const attr = (name: string, value: string): string => `    <a n="${name}">${value}</a>\n`;

function outputError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('plugins/batch-status/condor/parse-xml', () => {
  describe('fixtures', () => {
    it('reads condor_q.xml: six jobs with every value kind', () => {
      const ads = parseCondorXml(fixture('condor_q.xml'));
      expect(ads).toHaveLength(6);
      const first = ads[0] ?? {};
      expect(first['ClusterId']).toBe(4367890);
      expect(first['MATCH_APF_QUEUE']).toBe('CERN-ce503.cern.ch');
      expect(first['Nonessential']).toBe(true);
      expect(first['PeriodicRelease']).toBe(false);
      expect(first['RemoteWallClockTime']).toBe(0);
      expect(first['Requirements']).toEqual({ expr: 'JobRunCount == 0' });
      expect(first['PeriodicHold']).toEqual({
        expr: expect.stringContaining('(JobStatus == 1 && gridjobstatus is undefined && CurrentTime - EnteredCurrentStatus > 3600)') as unknown,
      });
      expect(first['TransferOutput']).toBe('');
      expect(ads.map((a) => a['JobStatus'])).toEqual([1, 2, 5, 1, 5, 2]);
    });

    it('reads the -attributes projection, with <un/> as null', () => {
      const ads = parseCondorXml(fixture('condor_q_attributes.xml'));
      expect(ads.map((a) => `${JSON.stringify(a['ClusterId'])}.${JSON.stringify(a['ProcId'])}`)).toEqual([
        '4367890.0',
        '4367890.1',
        '4367891.0',
        '4367892.0',
        '4367893.0',
        '4367894.0',
      ]);
      expect(ads[2]?.['GridJobStatus']).toBeNull();
      expect(ads[4]?.['HoldReason']).toContain("expression '(JobStatus == 1 && gridjobstatus is undefined");
    });

    it('reads condor_history.xml with its blank lines, and reals', () => {
      const ads = parseCondorXml(fixture('condor_history_attributes.xml'));
      expect(ads.map((a) => a['RemoteWallClockTime'])).toEqual([38800, 77000, 0]);
      expect(ads.map((a) => a['ExitCode'])).toEqual([0, 65, undefined]);
      expect(parseCondorXml(fixture('condor_history.xml'))).toHaveLength(3);
    });

    it('reads the empty queue as no jobs', () => {
      expect(parseCondorXml(fixture('condor_q_empty.xml'))).toEqual([]);
    });
  });

  describe('tolerated layouts', () => {
    const one = doc(attr('ClusterId', '<i>1</i>') + attr('MATCH_APF_QUEUE', '<s>A</s>'));
    const two = doc(attr('ClusterId', '<i>2</i>') + attr('MATCH_APF_QUEUE', '<s>B</s>'));

    it('concatenated documents (condor_q -g, old multi-schedd output)', () => {
      expect(parseCondorXml(one + two).map((a) => a['ClusterId'])).toEqual([1, 2]);
      expect(parseCondorXml(`${one}\n${fixture('condor_q_empty.xml')}${two}`)).toHaveLength(2);
    });

    it('-- Schedd: / -- Submitter: banner lines and blank lines around documents', () => {
      const text = `\n-- Schedd: apf01.example.org : <10.0.0.1:9618?...\n${one}\n-- Submitter: apf@example.org : <10.0.0.2:9618> : apf02\n${two}`;
      expect(parseCondorXml(text).map((a) => a['MATCH_APF_QUEUE'])).toEqual(['A', 'B']);
    });

    it('compact spacing and CRLF line ends', () => {
      const compact = `<?xml version="1.0"?><!DOCTYPE classads SYSTEM "classads.dtd"><classads><c><a n="X"><i>7</i></a></c></classads>`;
      expect(parseCondorXml(compact)).toEqual([{ X: 7 }]);
      expect(parseCondorXml(one.replaceAll('\n', '\r\n'))).toEqual([{ ClusterId: 1, MATCH_APF_QUEUE: 'A' }]);
    });

    it('a document without DOCTYPE', () => {
      expect(parseCondorXml('<?xml version="1.0"?>\n<classads>\n<c>\n<a n="X"><i>-3</i></a>\n</c>\n</classads>\n')).toEqual([{ X: -3 }]);
    });
  });

  describe('values', () => {
    const value = (xml: string): unknown => parseCondorXml(doc(attr('V', xml)))[0]?.['V'];

    it.each([
      ['<i>42</i>', 42],
      ['<i>-7</i>', -7],
      ['<i>9007199254740993</i>', 9007199254740992],
      ['<r>3.880000000000000E+04</r>', 38800],
      ['<r>-1.500000000000000E-01</r>', -0.15],
      ['<r>0.0</r>', 0],
      ['<r>INF</r>', Infinity],
      ['<r>-INF</r>', -Infinity],
      ['<b v="t"/>', true],
      ['<b v="f"/>', false],
      ['<un/>', null],
      ['<er/>', { expr: 'error' }],
      ['<s></s>', ''],
      ['<s/>', ''],
      ['<e>a &lt; b &amp;&amp; c isnt undefined</e>', { expr: 'a < b && c isnt undefined' }],
      ['<at>2023-11-14T22:13:20+00:00</at>', { expr: 'absTime("2023-11-14T22:13:20+00:00")' }],
      ['<rt>1+02:00:00</rt>', { expr: 'relTime("1+02:00:00")' }],
      ['<l><i>1</i><s>x</s><un/></l>', [1, 'x', null]],
      ['<l></l>', []],
      ['<c>\n        <a n="Inner"><i>5</i></a>\n    </c>', { ad: { Inner: 5 } }],
    ])('%s', (xml, expected) => {
      expect(value(xml)).toEqual(expected);
    });

    it('NaN', () => {
      expect(value('<r>NaN</r>')).toBeNaN();
    });

    it('string escapes: C escapes, octal UTF-8 bytes, entities, quotes', () => {
      expect(value('<s>a"b\'c\\\\d&amp;&lt;&gt;\\n\\t\\001\\177\\303\\251&#65;&#x42;&quot;&apos;</s>')).toBe(
        'a"b\'c\\d&<>\n\t\x01\x7féAB"\'',
      );
      expect(value('<s>\\a\\b\\f\\r\\v\\\'\\"</s>')).toBe('\x07\b\f\r\v\'"');
      expect(value('<s>raw UTF-8 é kept</s>')).toBe('raw UTF-8 é kept');
    });

    it('escaped attribute names', () => {
      expect(parseCondorXml(doc(attr('a&amp;b', '<i>1</i>')))).toEqual([{ 'a&b': 1 }]);
    });
  });

  describe('projection', () => {
    it('keeps only the asked attributes under the asked spelling', () => {
      const text = doc(attr('match_apf_queue', '<s>q</s>') + attr('JOBSTATUS', '<i>2</i>') + attr('Other', '<i>0</i>'));
      expect(parseCondorXml(text, { attributes: ['MATCH_APF_QUEUE', 'JobStatus', 'Missing'] })).toEqual([
        { MATCH_APF_QUEUE: 'q', JobStatus: 2 },
      ]);
    });

    it('copes with ads that print different names at the same position', () => {
      const text = doc(attr('A', '<i>1</i>') + attr('B', '<i>2</i>'), attr('AB', '<i>3</i>') + attr('B', '<i>4</i>'), attr('A', '<i>5</i>'));
      expect(parseCondorXml(text, { attributes: ['a', 'b'] })).toEqual([{ a: 1, b: 2 }, { b: 4 }, { a: 5 }]);
    });
  });

  describe('errors (APF_ERR_BATCH_OUTPUT, never zero jobs)', () => {
    const good = doc(attr('ClusterId', '<i>1</i>'));

    it.each([
      ['empty output', ''],
      ['whitespace only', '\n\n'],
      ['only a banner', '-- Schedd: x : <1.2.3.4:9618>\n'],
      ['plain garbage', 'Segmentation fault (core dumped)\n'],
      ['garbage after a document', `${good}ERROR: something\n`],
      ['garbage between ads', good.replace('<c>', 'junk<c>')],
      ['an unknown value element', doc(attr('X', '<zz>1</zz>'))],
      ['an unknown element in an ad', doc('    <b n="X"><i>1</i></b>\n')],
      ['a malformed integer', doc(attr('X', '<i>1x</i>'))],
      ['an empty integer', doc(attr('X', '<i></i>'))],
      ['a malformed real', doc(attr('X', '<r>1.0.0</r>'))],
      ['a missing </a>', doc('    <a n="X"><i>1</i>\n')],
      ['a tag inside a string', doc(attr('X', '<s>ab<i>1</i>cd</s>'))],
      ['an unknown entity', doc(attr('X', '<s>&nbsp;</s>'))],
      ['a bad string escape', doc(attr('X', '<s>\\q</s>'))],
      ['a document without </classads>', good.replace('</classads>\n', '')],
      ['an unterminated declaration', '<?xml version="1.0"\n'],
    ])('%s', (_what, text) => {
      const err = outputError(() => parseCondorXml(text));
      expect(isApfError(err, 'APF_ERR_BATCH_OUTPUT')).toBe(true);
    });

    it('locates the problem in details', () => {
      const err = outputError(() => parseCondorXml(doc(attr('X', '<i>oops</i>'))));
      expect(isApfError(err) && err.details['offset']).toBeGreaterThan(0);
      expect(isApfError(err) && String(err.details['excerpt'])).toContain('oops');
    });

    it.each(['condor_q.xml', 'condor_q_attributes.xml', 'condor_history.xml', 'condor_q_empty.xml'])(
      'every truncation of %s is an error or the complete listing',
      (name) => {
        const text = fixture(name);
        const full = parseCondorXml(text);
        const lastTagEnd = text.lastIndexOf('</classads>') + '</classads>'.length;
        let errors = 0;
        const wrongCode: number[] = [];
        const silent: number[] = [];
        // Every cut near both ends, every 7th in the large middle (keeps the test ~1 s).
        const step = (cut: number): number => (cut < 400 || cut > text.length - 400 ? 1 : 7);
        for (let cut = 0; cut < text.length; cut += step(cut)) {
          let got: unknown;
          try {
            got = parseCondorXml(text.slice(0, cut));
          } catch (err) {
            if (!isApfError(err, 'APF_ERR_BATCH_OUTPUT')) wrongCode.push(cut);
            errors++;
            continue;
          }
          // Only the trailing newline(s) after </classads> may be lost without an error.
          if (cut < lastTagEnd || !isDeepStrictEqual(got, full)) silent.push(cut);
        }
        expect(wrongCode).toEqual([]);
        expect(silent).toEqual([]);
        expect(errors).toBeGreaterThan(0);
      },
    );
  });
});
