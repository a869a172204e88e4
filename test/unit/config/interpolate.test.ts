import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseIni, type IniDocument } from '../../../src/config/ini.ts';
import { interpolate, mergeSources, resolveSection, type InterpolationProblem, type MergedSection } from '../../../src/config/interpolate.ts';
import type { ResolvedSection } from '../../../src/config/types.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/config');

function doc(text: string, file = 'test.conf'): IniDocument {
  const r = parseIni([{ text, file }]);
  expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
  return r.doc;
}

/** Parses, merges and resolves one or more sources; returns sections by name and all problems. */
function load(...sources: IniDocument[]): { sections: Map<string, ResolvedSection>; problems: InterpolationProblem[] } {
  const merged = mergeSources(sources);
  const sections = new Map<string, ResolvedSection>();
  const problems: InterpolationProblem[] = [];
  for (const m of merged.sections) {
    const r = resolveSection(m);
    sections.set(m.name, r.section);
    problems.push(...r.problems);
  }
  return { sections, problems };
}

function values(s: ResolvedSection | undefined): Record<string, string> {
  return Object.fromEntries([...(s?.entries ?? new Map<string, never>())].map(([k, e]) => [k, e.value]));
}

const lookupIn =
  (table: Record<string, string>) =>
  (name: string): string | undefined =>
    table[name];

describe('config/interpolate', () => {
  describe('interpolate', () => {
    it('replaces %(name)s (case-sensitive), recursively, and turns %% into %', () => {
      const table = { grid: 'OSG', Grid: 'EGI', args: '--grid=%(grid)s --pct=100%%', pct: '5%%' };
      expect(interpolate('%(args)s %(Grid)s %(pct)s 50%%', lookupIn(table))).toEqual({ ok: true, value: '--grid=OSG --pct=100% EGI 5% 50%' });
      expect(interpolate('no percent at all', lookupIn({}))).toEqual({ ok: true, value: 'no percent at all' });
      // A looked-up value without % is inserted verbatim (not re-scanned).
      expect(interpolate('%(a)s', lookupIn({ a: '(b)s' }))).toEqual({ ok: true, value: '(b)s' });
    });

    it('reports the missing name and the chain of references followed', () => {
      expect(interpolate('x %(a)s', lookupIn({ a: 'y %(b)s', b: '%(nope)s' }))).toEqual({ ok: false, kind: 'missing', reference: 'nope', via: ['a', 'b'] });
    });

    it('reports bad % syntax, the first problem from the left winning', () => {
      for (const raw of ['50% done', '%d', '%(a)d', '%(', '%()s', '%(a', 'ok %']) {
        expect(interpolate(raw, lookupIn({ a: '1' }))).toMatchObject({ ok: false, kind: 'syntax' });
      }
      expect(interpolate('%z %(nope)s', lookupIn({}))).toMatchObject({ ok: false, kind: 'syntax', at: '%z %(nope)s' });
      expect(interpolate('%(nope)s %z', lookupIn({}))).toMatchObject({ ok: false, kind: 'missing', reference: 'nope' });
    });

    it('allows 10 levels like Python and fails when a value at level 11 would be scanned, even for %%', () => {
      const chain = (last: string): Record<string, string> => {
        const t: Record<string, string> = {};
        for (let i = 0; i < 9; i++) t[`k${i}`] = `%(k${i + 1})s`;
        t['k9'] = last;
        return t;
      };
      // raw (level 1) -> k0 .. k8 (levels 2..10) -> k9 inserted verbatim: fine.
      expect(interpolate('%(k0)s', lookupIn(chain('end')))).toEqual({ ok: true, value: 'end' });
      // k9 contains % so it would be scanned at level 11.
      expect(interpolate('%(k0)s', lookupIn(chain('100%%')))).toMatchObject({ ok: false, kind: 'depth' });
      expect(interpolate('%(self)s', lookupIn({ self: 'x%(self)s' }))).toMatchObject({ ok: false, kind: 'depth' });
    });

    it('stops an exponential expansion with the apf-only size guard instead of hanging', () => {
      const t: Record<string, string> = {};
      for (let i = 0; i < 9; i++) t[`k${i}`] = Array.from({ length: 8 }, () => `%(k${i + 1})s`).join('');
      t['k9'] = 'x';
      expect(interpolate('%(k0)s', lookupIn(t))).toMatchObject({ ok: false, kind: 'size' });
    });
  });

  describe('mergeSources', () => {
    it('copies each source’s effective keys (its DEFAULT included) and lets the later source win per key', () => {
      const a = doc('[DEFAULT]\nvo = ATLAS\ngrid = OSG\n[Q]\nwmsqueue = A\nsleep = 300\n[R]\nx = 1\n', 'a.conf');
      const b = doc('[DEFAULT]\ngrid = EGI\n[Q]\nsleep = 600\nnew = b\n[S]\ny = 2\n', 'b.conf');
      const { sections, problems } = mergeSources([a, b]);
      expect(sections.map((s) => s.name)).toEqual(['Q', 'R', 'S']);
      const q = sections[0] as MergedSection;
      expect([...q.entries].map(([k, e]) => [k, e.value, `${e.file}:${e.line}`])).toEqual([
        ['vo', 'ATLAS', 'a.conf:2'],
        ['grid', 'EGI', 'b.conf:2'],
        ['wmsqueue', 'A', 'a.conf:5'],
        ['sleep', '600', 'b.conf:4'],
        ['new', 'b', 'b.conf:5'],
      ]);
      expect(q.location).toEqual({ file: 'a.conf', line: 4 });
      // A source's DEFAULT reaches only that source's sections.
      expect([...(sections[1] as MergedSection).entries.keys()]).toEqual(['vo', 'grid', 'x']);
      expect([...(sections[2] as MergedSection).entries.keys()]).toEqual(['grid', 'y']);
      expect(problems).toEqual([
        expect.objectContaining({
          severity: 'warning',
          code: 'APF_ERR_CONFIG_PARSE',
          kind: 'merged-section',
          section: 'Q',
          file: 'b.conf',
          line: 3,
          previous: { file: 'a.conf', line: 4 },
        }),
      ]);
    });

    it('gives a single document unchanged (DEFAULT folded in) and without warnings', () => {
      const { sections, problems } = mergeSources([doc('[DEFAULT]\nd = 1\n[Q]\nq = 2\n')]);
      expect(problems).toEqual([]);
      expect(sections.map((s) => [s.name, [...s.entries.keys()]])).toEqual([['Q', ['d', 'q']]]);
    });
  });

  describe('resolveSection', () => {
    it('interpolates against the merged section after the merge (a later source feeds an earlier DEFAULT)', () => {
      const a = doc('[DEFAULT]\nargs = --q=%(wmsqueue)s --vo=%(vo)s\nvo = ATLAS\n[Q]\nwmsqueue = A\n', 'a.conf');
      const b = doc('[Q]\nwmsqueue = B\nvo = OSG\n', 'b.conf');
      const { sections, problems } = load(a, b);
      expect(problems).toEqual([]);
      const args = sections.get('Q')?.entries.get('args');
      expect(args).toEqual({ file: 'a.conf', line: 2, raw: '--q=%(wmsqueue)s --vo=%(vo)s', value: '--q=B --vo=OSG' });
    });

    it('fails per key and per section, locating each error at the key’s own line (fixture broken/interpolation-errors.conf)', () => {
      const file = join(FIXTURES, 'broken/interpolation-errors.conf');
      const parsed = parseIni([{ file, text: readFileSync(file, 'utf8') }]);
      const { sections, problems } = load(parsed.doc);
      expect(problems.map((p) => [p.section, p.key, p.kind, p.line])).toEqual([
        ['NO_WMSQUEUE', 'executable.arguments', 'missing', 2],
        ['NO_WMSQUEUE', 'ratio', 'syntax', 10],
        ['NO_WMSQUEUE', 'loop', 'depth', 12],
        ['NO_WMSQUEUE', 'ping', 'depth', 13],
        ['NO_WMSQUEUE', 'pong', 'depth', 14],
        ['NO_WMSQUEUE', 'k0', 'depth', 15],
        ['NO_WMSQUEUE', 'badref', 'syntax', 36],
        ['NO_WMSQUEUE', 'via', 'syntax', 37],
      ]);
      for (const p of problems) {
        expect(p).toMatchObject({ severity: 'error', code: 'APF_ERR_CONFIG_INTERPOLATION', file });
      }
      const missing = problems[0] as InterpolationProblem;
      expect(missing.reference).toBe('wmsqueue');
      expect(missing.message).toContain('"wmsqueue"');
      expect(problems.find((p) => p.key === 'via')?.message).toContain('%(badref)s');
      expect(problems.find((p) => p.key === 'loop')?.message).toContain('deeper than 10');
      // The same DEFAULT key works where the referenced key exists.
      expect(values(sections.get('HAS_WMSQUEUE'))['executable.arguments']).toBe('--queue=HAS --vo=ATLAS');
      // A failing key keeps its raw text; its neighbours are still resolved.
      const bad = values(sections.get('NO_WMSQUEUE'));
      expect(bad['executable.arguments']).toBe('--queue=%(wmsqueue)s --vo=%(vo)s');
      expect(bad['escaped']).toBe('50% of pilots');
      expect(bad['k1']).toBe('100%');
      expect(bad['j0']).toBe('done');
    });

    it('keeps definition order and both raw and interpolated text of every entry', () => {
      const { sections } = load(doc('[DEFAULT]\nz = %(a)s!\n[Q]\na = 1\nm = %%\n'));
      expect([...(sections.get('Q')?.entries ?? [])].map(([k, e]) => [k, e.raw, e.value])).toEqual([
        ['z', '%(a)s!', '1!'],
        ['a', '1', '1'],
        ['m', '%%', '%'],
      ]);
    });

    it('APF extension: %(__name__)s is the section name, also through DEFAULT and nested references', () => {
      const a = doc('[DEFAULT]\nlabel = %(__name__)s-%(vo)s\nvo = ATLAS\n[SITE_A-ce01]\nwmsqueue = %(__name__)s\n[SITE_B]\nnested = <%(label)s>\n');
      const { sections, problems } = load(a);
      expect(problems).toEqual([]);
      expect(values(sections.get('SITE_A-ce01'))).toMatchObject({ wmsqueue: 'SITE_A-ce01', label: 'SITE_A-ce01-ATLAS' });
      expect(values(sections.get('SITE_B'))).toMatchObject({ nested: '<SITE_B-ATLAS>', label: 'SITE_B-ATLAS' });
    });

    it('APF extension in the fixtures: queues.d/20-analysis.conf monitor.label', () => {
      const dir = join(FIXTURES, 'queues.d');
      const inputs = ['10-sites.conf', '20-analysis.conf'].map((n) => ({ file: join(dir, n), text: readFileSync(join(dir, n), 'utf8') }));
      const { sections, problems } = load(parseIni(inputs).doc);
      const analy = 'ANALY_SITE_B-ce03.site-b.example.org';
      expect(problems.filter((p) => p.section === analy)).toEqual([]);
      expect(values(sections.get(analy))['monitor.label']).toBe(analy);
      expect(values(sections.get(analy))['batchqueue']).toBe('ANALY_SITE_B-htcondor');
      // Read alone, queues.d's [EXAMPLE_PROD-ce01.example.org] lacks wmsqueue (queues.conf has it):
      // the DEFAULT's executable.defaultarguments fails for that section only, as in APF.
      expect(problems.map((p) => [p.section, p.key, p.kind, p.reference])).toEqual([
        ['EXAMPLE_PROD-ce01.example.org', 'executable.defaultarguments', 'missing', 'wmsqueue'],
      ]);
    });
  });
});
