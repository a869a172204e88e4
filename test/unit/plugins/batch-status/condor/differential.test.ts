/**
 * Differential tests: the XML scanner, the JSON reader and an independent XML parser
 * (fast-xml-parser, via reference-xml.ts) must agree on every fixture and on random listings
 * written by the simulator's writer — and agree with the ads that were written.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ParsedValue } from '../../../../../src/plugins/batch-status/condor/classad.ts';
import { parseCondorJson } from '../../../../../src/plugins/batch-status/condor/parse-json.ts';
import { parseCondorXml } from '../../../../../src/plugins/batch-status/condor/parse-xml.ts';
import { formatAdsJson, formatAdsXml, type Ad, type AdValue } from '../../../../../src/sim/condor/classad-format.ts';
import { referenceAdsFromXml } from './reference-xml.ts';
import { rng } from '../../../../helpers/rng.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../../fixtures/htcondor/${name}`, import.meta.url), 'utf8');

/** What a written value must read back as (reals lose their kind, error/undefined literals normalise). */
function expected(v: AdValue): ParsedValue {
  if (v === null || typeof v !== 'object') return v;
  if ('real' in v) return v.real;
  const t = v.expr.trim().toLowerCase();
  if (t === 'undefined') return null;
  // The JSON form prints non-finite reals as these expressions, so both parsers read them as numbers.
  const nonFinite: Record<string, number> = { 'real("NaN")': NaN, 'real("INF")': Infinity, 'real("-INF")': -Infinity };
  if (v.expr in nonFinite) return nonFinite[v.expr] as number;
  return t === 'error' ? { expr: 'error' } : { expr: v.expr };
}

function expectedAd(ad: Ad): Record<string, ParsedValue> {
  return Object.fromEntries(Object.entries(ad).map(([k, v]) => [k, expected(v)]));
}


const TRICKY = ['&', '<', '>', '"', "'", '\\', '\n', '\t', '\r', '\x01', '\x07', '\x0b', '\x1f', '\x7f', 'é', '€', '😀', '/', ' ', ']', '[', ',', '/Expr(', ')/', '&amp;', '\\n', '-- '];
const EXPRS = [
  'JobRunCount == 0',
  '(JobStatus == 5 && (CurrentTime - EnteredCurrentStatus) > 3600) || (JobStatus == 1 && globusstatus isnt 1)',
  'gridjobstatus is undefined',
  'a < b && c >= "x<y>&z"',
  'strcat("a\\"b", Owner)',
  'real("NaN")',
  'ERROR',
  'undefined',
  '{ 1,2,3 }',
];

function randomValues(r: () => number): () => AdValue {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const randomString = (): string => {
    let s = '';
    const n = Math.floor(r() * 12);
    for (let i = 0; i < n; i++) s += r() < 0.4 ? pick(TRICKY) : String.fromCharCode(32 + Math.floor(r() * 95));
    return s;
  };
  const randomReal = (): number => {
    const k = r();
    if (k < 0.05) return pick([0, -0, NaN, Infinity, -Infinity, 5e-324, 1.7976931348623157e308]);
    if (k < 0.3) return Math.round(r() * 100000) + pick([0, 0.5, 0.25, 0.1]);
    const mag = 10 ** Math.floor(r() * 40 - 20);
    return (r() - 0.5) * mag;
  };
  return () => {
    const k = r();
    if (k < 0.25) return Math.floor((r() - 0.3) * 2 ** (r() < 0.1 ? 53 : 31));
    if (k < 0.5) return randomString();
    if (k < 0.6) return { real: randomReal() };
    if (k < 0.7) return r() < 0.5;
    if (k < 0.78) return null;
    return { expr: r() < 0.7 ? pick(EXPRS) : `x${randomString().replace(/[^\x20-\x7e]/g, '')}` };
  };
}

function randomAds(seed: number, count: number): Ad[] {
  const r = rng(seed);
  const value = randomValues(r);
  const names = ['ClusterId', 'ProcId', 'JobStatus', 'MATCH_APF_QUEUE', 'maxMemory', 'MinHosts', '_x', 'x509userproxy', 'A1'];
  const ads: Ad[] = [];
  for (let i = 0; i < count; i++) {
    const ad: Record<string, AdValue> = {};
    const used = new Set<string>();
    const n = Math.floor(r() * 9);
    for (let j = 0; j < n; j++) {
      const name = r() < 0.7 ? (names[Math.floor(r() * names.length)] as string) : `Attr${Math.floor(r() * 50)}`;
      if (used.has(name.toLowerCase())) continue;
      used.add(name.toLowerCase());
      ad[name] = value();
    }
    ads.push(ad);
  }
  return ads;
}

/** Parsed numbers must match the written real to the 16 digits both forms print. */
function expectClose(got: readonly Record<string, ParsedValue>[], want: readonly Record<string, ParsedValue>[]): void {
  expect(got).toHaveLength(want.length);
  got.forEach((ad, i) => {
    const w = want[i] ?? {};
    expect(Object.keys(ad).sort()).toEqual(Object.keys(w).sort());
    for (const [k, v] of Object.entries(w)) {
      const g = ad[k];
      // Integers up to 2^53 have at most 16 digits and must come back exactly.
      if (typeof v === 'number' && typeof g === 'number' && !Number.isSafeInteger(v)) {
        if (Number.isNaN(v)) expect(g).toBeNaN();
        else if (!Number.isFinite(v)) expect(g).toBe(v);
        else expect(Math.abs(g - v)).toBeLessThanOrEqual(Math.abs(v) * 1e-15);
      } else {
        expect(g).toEqual(v);
      }
    }
  });
}

describe('plugins/batch-status/condor (differential: XML scanner, JSON reader, reference XML parser)', () => {
  it.each([['condor_q'], ['condor_q_attributes'], ['condor_history'], ['condor_q_empty']])('agree on fixture %s', (base) => {
    const fromXml = parseCondorXml(fixture(`${base}.xml`));
    expect(parseCondorJson(fixture(`${base}.json`))).toEqual(fromXml);
    expect(fromXml).toEqual(referenceAdsFromXml(fixture(`${base}.xml`)).map(expectedAd));
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('agree on random listing #%i (both tools, with the written ads)', (seed) => {
    const ads = randomAds(seed, 60);
    const want = ads.map(expectedAd);
    for (const tool of ['condor_q', 'condor_history'] as const) {
      const xml = formatAdsXml(ads, tool);
      const json = formatAdsJson(ads, tool);
      const fromXml = parseCondorXml(xml);
      const fromJson = parseCondorJson(json);
      // Both forms print reals with 16 significant digits, so they must agree exactly.
      expect(fromJson).toEqual(fromXml);
      expectClose(fromXml, want);
      expectClose(referenceAdsFromXml(xml).map(expectedAd), want);
    }
  });

  it.each([11, 12, 13])('agree on random listings split into several documents with banners #%i', (seed) => {
    const ads = randomAds(seed, 40);
    const chunks = [ads.slice(0, 7), [], ads.slice(7, 25), ads.slice(25)];
    const xml = chunks.map((c, i) => `-- Schedd: schedd${i}.example.org : <10.0.0.${i}:9618>\n${formatAdsXml(c, 'condor_q')}`).join('');
    const json = chunks.map((c, i) => `-- Schedd: schedd${i}.example.org : <10.0.0.${i}:9618>\n${formatAdsJson(c, 'condor_history')}`).join('');
    const fromXml = parseCondorXml(xml);
    expect(parseCondorJson(json)).toEqual(fromXml);
    expectClose(fromXml, ads.map(expectedAd));
  });

  it('agree on negative zero (XML prints 0.0, JSON -0.0)', () => {
    const ads = [{ Z: { real: -0 } }];
    const x = parseCondorXml(formatAdsXml(ads, 'condor_q'))[0]?.['Z'];
    const j = parseCondorJson(formatAdsJson(ads, 'condor_q'))[0]?.['Z'];
    expect(Object.is(x, 0) && Object.is(j, 0)).toBe(true);
  });

  it('agree on the projection of random listings', () => {
    const ads = randomAds(21, 80);
    const attributes = ['clusterid', 'JOBSTATUS', 'match_apf_queue', 'Missing'];
    const fromXml = parseCondorXml(formatAdsXml(ads, 'condor_q'), { attributes });
    expect(parseCondorJson(formatAdsJson(ads, 'condor_q'), { attributes })).toEqual(fromXml);
    for (const ad of fromXml) expect(Object.keys(ad).every((k) => attributes.includes(k))).toBe(true);
    expect(fromXml.filter((ad) => 'JOBSTATUS' in ad).length).toBe(ads.filter((ad) => 'JobStatus' in ad).length);
  });
});
