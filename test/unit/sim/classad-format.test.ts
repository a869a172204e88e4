import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isApfError } from '../../../src/errors.ts';
import { formatAdsJson, formatAdsXml, projectAd, type Ad } from '../../../src/sim/condor/classad-format.ts';
import { referenceAdsFromXml } from '../plugins/batch-status/condor/reference-xml.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/htcondor/${name}`, import.meta.url), 'utf8');

/** The attributes present in a fixture, as a `-attributes` list in another case. */
function attributesOf(xml: string): string[] {
  return [...new Set([...xml.matchAll(/<a n="([^"]+)">/g)].map((m) => (m[1] ?? '').toLowerCase()))];
}

describe('sim/condor/classad-format', () => {
  describe('against the fixtures (ads rebuilt by an independent XML parser)', () => {
    const qAds = referenceAdsFromXml(fixture('condor_q.xml'));
    const hAds = referenceAdsFromXml(fixture('condor_history.xml'));

    it('rebuilds the expected ads', () => {
      expect(qAds).toHaveLength(6);
      expect(hAds.length).toBeGreaterThan(2);
      expect(qAds[0]?.['PeriodicRelease']).toBe(false);
      expect(qAds[0]?.['RemoteWallClockTime']).toEqual({ real: 0 });
    });

    it('reproduces condor_q -xml and -json byte for byte', () => {
      expect(formatAdsXml(qAds, 'condor_q')).toBe(fixture('condor_q.xml'));
      expect(formatAdsJson(qAds, 'condor_q')).toBe(fixture('condor_q.json'));
    });

    it('reproduces condor_history -xml and -json byte for byte (blank lines, newest first)', () => {
      expect(formatAdsXml(hAds, 'condor_history')).toBe(fixture('condor_history.xml'));
      expect(formatAdsJson(hAds, 'condor_history')).toBe(fixture('condor_history.json'));
    });

    it('reproduces the -attributes projections (names matched case-insensitively)', () => {
      const qAttrs = [...attributesOf(fixture('condor_q_attributes.xml')), 'NoSuchAttribute'];
      const projected = qAds.map((ad) => projectAd(ad, qAttrs));
      expect(formatAdsXml(projected, 'condor_q')).toBe(fixture('condor_q_attributes.xml'));
      expect(formatAdsJson(projected, 'condor_q')).toBe(fixture('condor_q_attributes.json'));
      const hAttrs = attributesOf(fixture('condor_history_attributes.xml'));
      expect(formatAdsXml(hAds.map((ad) => projectAd(ad, hAttrs)), 'condor_history')).toBe(
        fixture('condor_history_attributes.xml'),
      );
    });

    it('reproduces the empty-queue outputs', () => {
      expect(formatAdsXml([], 'condor_q')).toBe(fixture('condor_q_empty.xml'));
      expect(formatAdsJson([], 'condor_q')).toBe(fixture('condor_q_empty.json'));
      expect(formatAdsJson([], 'condor_history')).toBe('[\n]\n');
      expect(formatAdsXml([], 'condor_history')).toBe(
        '<?xml version="1.0"?>\n<!DOCTYPE classads SYSTEM "classads.dtd">\n<classads>\n\n</classads>\n\n',
      );
    });
  });

  describe('values', () => {
    const one = (v: Ad[string], tool: 'condor_q' | 'condor_history' = 'condor_q') => ({
      xml: (formatAdsXml([{ V: v }], tool).split('\n')[4] ?? '').trim(),
      json: (formatAdsJson([{ V: v }], tool).split('\n')[2] ?? '').trim(),
    });

    // Expected texts are what C printf gives (checked with python3 "%1.15E" / "%.16G").
    it.each([
      [38800, '3.880000000000000E+04', '38800.0'],
      [0.1, '1.000000000000000E-01', '0.1'],
      [1e20, '1.000000000000000E+20', '1E+20'],
      [1e-5, '1.000000000000000E-05', '1E-05'],
      [0.00012345, '1.234500000000000E-04', '0.00012345'],
      [-1.5, '-1.500000000000000E+00', '-1.5'],
      [2.5e-300, '2.500000000000000E-300', '2.5E-300'],
      [5e-324, '4.940656458412465E-324', '4.940656458412465E-324'],
      [9999999999999998, '9.999999999999998E+15', '9999999999999998.0'],
      [1e16, '1.000000000000000E+16', '1E+16'],
      // exact ties round to even as glibc does (toExponential would round up)
      [1000000000000000.5, '1.000000000000000E+15', '1000000000000000.0'],
      [1000000000000001.5, '1.000000000000002E+15', '1000000000000002.0'],
    ])('real %s → %s / %s', (x, xml, json) => {
      const v = one({ real: x });
      expect(v.xml).toBe(`<a n="V"><r>${xml}</r></a>`);
      expect(v.json).toBe(`"V": ${json}`);
    });

    it('prints special reals as the unparsers do', () => {
      expect(one({ real: 0 }).xml).toBe('<a n="V"><r>0.0</r></a>');
      expect(one({ real: -0 }).xml).toBe('<a n="V"><r>0.0</r></a>');
      expect(one({ real: -0 }).json).toBe('"V": -0.0');
      expect(one({ real: NaN }).xml).toBe('<a n="V"><r>NaN</r></a>');
      expect(one({ real: -Infinity }).xml).toBe('<a n="V"><r>-INF</r></a>');
      expect(one({ real: NaN }).json).toBe('"V": "\\/Expr(real(\\"NaN\\"))\\/"');
      expect(one({ real: Infinity }).json).toBe('"V": "\\/Expr(real(\\"INF\\"))\\/"');
    });

    it('escapes strings for XML: C escapes, octal bytes, entities, quotes kept', () => {
      const v = one('a"b\'c\\d&<>\n\t\x01\x7fé');
      expect(v.xml).toBe('<a n="V"><s>a"b\'c\\\\d&amp;&lt;&gt;\\n\\t\\001\\177\\303\\251</s></a>');
    });

    it('escapes strings for JSON: quotes, backslash, controls as \\u00XX, "/" and UTF-8 kept', () => {
      const v = one('a"b\\c/d\n\r\b\f\t\x01\x1bé');
      expect(v.json).toBe('"V": "a\\"b\\\\c/d\\n\\r\\b\\f\\t\\u0001\\u001Bé"');
    });

    it('prints integers, booleans, undefined, error and expressions', () => {
      expect(one(-42)).toEqual({ xml: '<a n="V"><i>-42</i></a>', json: '"V": -42' });
      expect(one(true)).toEqual({ xml: '<a n="V"><b v="t"/></a>', json: '"V": true' });
      expect(one(false)).toEqual({ xml: '<a n="V"><b v="f"/></a>', json: '"V": false' });
      expect(one(null)).toEqual({ xml: '<a n="V"><un/></a>', json: '"V": null' });
      expect(one({ expr: 'error' })).toEqual({ xml: '<a n="V"><er/></a>', json: '"V": "\\/Expr(error)\\/"' });
      expect(one({ expr: 'UNDEFINED' })).toEqual({ xml: '<a n="V"><un/></a>', json: '"V": null' });
      expect(one({ expr: 'a < "x" && b >= 2' })).toEqual({
        xml: '<a n="V"><e>a &lt; "x" &amp;&amp; b &gt;= 2</e></a>',
        json: '"V": "\\/Expr(a < \\"x\\" && b >= 2)\\/"',
      });
    });

    it('refuses non-integer numbers and names that differ only in case', () => {
      const err1 = (() => {
        try {
          formatAdsXml([{ V: 1.5 }], 'condor_q');
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(isApfError(err1, 'APF_ERR_SIM')).toBe(true);
      expect(() => formatAdsJson([{ Foo: 1, foo: 2 }], 'condor_q')).toThrow(/differ only in case/);
    });
  });

  describe('layout', () => {
    it('sorts attributes case-insensitively and separates ads', () => {
      const ads: Ad[] = [{ b: 1, MATCH_APF_QUEUE: 'q', maxMemory: 2, MinHosts: 3, _x: 4 }, {}];
      expect(formatAdsJson(ads, 'condor_q')).toBe(
        '[\n{\n  "_x": 4,\n  "b": 1,\n  "MATCH_APF_QUEUE": "q",\n  "maxMemory": 2,\n  "MinHosts": 3\n}\n,\n{\n}\n]\n',
      );
      expect(formatAdsXml([{}], 'condor_q')).toContain('<classads>\n<c>\n</c>\n</classads>\n');
    });

    it('accepts any iterable (a generator is consumed once)', () => {
      function* gen(): Generator<Ad> {
        yield { A: 1 };
        yield { A: 2 };
      }
      expect(formatAdsJson(gen(), 'condor_q')).toBe('[\n{\n  "A": 1\n}\n,\n{\n  "A": 2\n}\n]\n');
      expect(formatAdsJson((function* () {})(), 'condor_q')).toBe('');
    });

    it('projectAd keeps the ad spelling and treats no/empty list as everything', () => {
      const ad = { ClusterId: 1, MATCH_APF_QUEUE: 'q', Other: 2 };
      expect(projectAd(ad, ['match_apf_queue', 'CLUSTERID', 'Missing'])).toEqual({ ClusterId: 1, MATCH_APF_QUEUE: 'q' });
      expect(projectAd(ad, undefined)).toBe(ad);
      expect(projectAd(ad, [])).toBe(ad);
    });
  });
});
