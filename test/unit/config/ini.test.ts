import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { effectiveEntries, findSection, parseIni, type IniDocument } from '../../../src/config/ini.ts';

const BROKEN = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/config/broken');

function parse(text: string, file = 'test.conf'): ReturnType<typeof parseIni> {
  return parseIni([{ text, file }]);
}

/** `key -> value` of a section's own entries, in order. */
function own(doc: IniDocument, section: string): Array<[string, string]> {
  return [...(findSection(doc, section)?.entries ?? new Map<string, never>())].map(([k, e]) => [k, e.value]);
}

function effective(doc: IniDocument, section: string): Array<[string, string]> {
  return [...effectiveEntries(doc, section)].map(([k, e]) => [k, e.value]);
}

function fixture(name: string): ReturnType<typeof parseIni> {
  const file = join(BROKEN, name);
  return parseIni([{ text: readFileSync(file, 'utf8'), file }]);
}

describe('config/ini', () => {
  describe('entries', () => {
    it('reads "key = value" and "key: value" with the first delimiter splitting, key and value stripped', () => {
      const { doc, problems } = parse('[Q]\n  a = 1 \nb: two words\t\nc = x = y : z\nd: host:9619\ne=\nf :\n');
      expect(problems).toEqual([]);
      expect(own(doc, 'Q')).toEqual([
        ['a', '1'],
        ['b', 'two words'],
        ['c', 'x = y : z'],
        ['d', 'host:9619'],
        ['e', ''],
        ['f', ''],
      ]);
    });

    it('keeps keys and section names case-sensitive, section names with dots, colons and slashes', () => {
      const { doc } = parse('[Site.A:9619/ce]\nfactoryId = X\nfactoryid = y\n[site.a:9619/ce]\nk = v\n');
      expect(doc.sections.map((s) => s.name)).toEqual(['Site.A:9619/ce', 'site.a:9619/ce']);
      expect(own(doc, 'Site.A:9619/ce')).toEqual([
        ['factoryId', 'X'],
        ['factoryid', 'y'],
      ]);
    });

    it('keeps definition order; a redefined key keeps its position but takes the later value and line', () => {
      const { doc } = parse('[Q]\nz = 1\na = 2\nm = 3\nz = 4\n');
      expect(own(doc, 'Q')).toEqual([
        ['z', '4'],
        ['a', '2'],
        ['m', '3'],
      ]);
      expect(findSection(doc, 'Q')?.entries.get('z')).toEqual({ file: 'test.conf', line: 5, value: '4' });
      expect(findSection(doc, 'Q')?.location).toEqual({ file: 'test.conf', line: 1 });
    });

    it('records every entry with its file and 1-based line', () => {
      const { doc } = parse('# c\n\n[DEFAULT]\nvo = ATLAS\n[Q]\nwmsqueue = Q\n', 'queues.conf');
      expect(doc.defaults.get('vo')).toEqual({ file: 'queues.conf', line: 4, value: 'ATLAS' });
      expect(findSection(doc, 'Q')?.entries.get('wmsqueue')).toEqual({ file: 'queues.conf', line: 6, value: 'Q' });
    });
  });

  describe('comments', () => {
    it('drops full-line # and ; comments, also indented ones', () => {
      const { doc, problems } = parse('# top\n; top\n[Q]\n  # indented\n\t; indented\na = 1\n');
      expect(problems).toEqual([]);
      expect(own(doc, 'Q')).toEqual([['a', '1']]);
    });

    it('cuts an inline comment only at a ; preceded by whitespace; # inside a value is kept', () => {
      const { doc } = parse('[Q]\na = 1 ; comment\nb = x;y\nc = v\t;tab\nd = http://h/p?a=1#frag\ne = kept # not a comment\nf = ;x\ng =;x\n');
      expect(own(doc, 'Q')).toEqual([
        ['a', '1'],
        ['b', 'x;y'],
        ['c', 'v'],
        ['d', 'http://h/p?a=1#frag'],
        ['e', 'kept # not a comment'],
        ['f', ''],
        ['g', ';x'],
      ]);
    });

    it('strips a section header comment and ignores text after the last ]', () => {
      const { doc } = parse('[A] ; comment\nk = 1\n[B] trailing words\nk = 2\n[a]b]\nk = 3\n');
      expect(doc.sections.map((s) => s.name)).toEqual(['A', 'B', 'a]b']);
    });
  });

  describe('continuation lines', () => {
    it('joins indented lines with \\n, keeps inner blank lines, drops comment lines and trailing blank lines', () => {
      const text = ['[Q]', 'attrs = a,', '    b,', '', '    # not part of it', '\t; nor this', '    c ; cut', '', '   ', 'next = 1', ''].join('\n');
      const { doc, problems } = parse(text);
      expect(problems).toEqual([]);
      expect(own(doc, 'Q')).toEqual([
        ['attrs', 'a,\nb,\n\nc'],
        ['next', '1'],
      ]);
    });

    it('treats an indented key or header as a continuation, but not a line at the same indentation', () => {
      const { doc } = parse('[Q]\n  a = 1\n    b = 2\n    [S]\n  c = 3\n');
      expect(own(doc, 'Q')).toEqual([
        ['a', '1\nb = 2\n[S]'],
        ['c', '3'],
      ]);
      expect(doc.sections.map((s) => s.name)).toEqual(['Q']);
    });

    it('splits lines on \\r\\n, \\r and \\n (Python universal newlines) and counts lines the same way', () => {
      const { doc, problems } = parse('[Q]\r\na = 1\r\n  more\rbad line\nb = 2');
      expect(own(doc, 'Q')).toEqual([
        ['a', '1\nmore'],
        ['b', '2'],
      ]);
      expect(problems.map((p) => [p.kind, p.line])).toEqual([['syntax', 4]]);
    });

    it('strips the whitespace Python strips (\\x1c, \\x85, \\u3000) but not \\ufeff', () => {
      const { doc } = parse('[Q]\na = \u3000v\x1c\nb = \x85w\u00a0\nc = \ufeffx\n');
      expect(own(doc, 'Q')).toEqual([
        ['a', 'v'],
        ['b', 'w'],
        ['c', '\ufeffx'],
      ]);
    });
  });

  describe('DEFAULT', () => {
    it('is not a section; effectiveEntries lists DEFAULT keys first, overridden in place, then own new keys', () => {
      const { doc } = parse('[DEFAULT]\nvo = ATLAS\ngrid = OSG\nenabled = True\n[Q]\nwmsqueue = Q\ngrid = EGI\n[R]\n');
      expect(doc.sections.map((s) => s.name)).toEqual(['Q', 'R']);
      expect(effective(doc, 'Q')).toEqual([
        ['vo', 'ATLAS'],
        ['grid', 'EGI'],
        ['enabled', 'True'],
        ['wmsqueue', 'Q'],
      ]);
      expect(effectiveEntries(doc, 'Q').get('grid')?.line).toBe(7);
      expect(effective(doc, 'R')).toEqual([
        ['vo', 'ATLAS'],
        ['grid', 'OSG'],
        ['enabled', 'True'],
      ]);
      expect(effectiveEntries(doc, 'nope').size).toBe(0);
      expect(effectiveEntries(doc, 'DEFAULT').size).toBe(0);
    });
  });

  describe('several files read by one parser', () => {
    const { doc, problems } = parseIni([
      { file: 'a.conf', text: '[DEFAULT]\nx = a\ny = a\n[S]\nk = 1\nm = a\n[T]\nk = t\n  cont\n' },
      { file: 'b.conf', text: '[DEFAULT]\ny = b\n[S]\nm = b\nn = b\n  more\n' },
    ]);

    it('combines the DEFAULTs (later file wins) and applies them to the sections of every file', () => {
      expect([...doc.defaults].map(([k, e]) => [k, e.value, e.file])).toEqual([
        ['x', 'a', 'a.conf'],
        ['y', 'b', 'b.conf'],
      ]);
      expect(effective(doc, 'T')).toEqual([
        ['x', 'a'],
        ['y', 'b'],
        ['k', 't\ncont'],
      ]);
      expect(doc.files).toEqual(['a.conf', 'b.conf']);
    });

    it('merges same-named sections key by key, later wins, with a warning at the later header', () => {
      expect(effective(doc, 'S')).toEqual([
        ['x', 'a'],
        ['y', 'b'],
        ['k', '1'],
        ['m', 'b'],
        ['n', 'b\nmore'],
      ]);
      expect(findSection(doc, 'S')?.location).toEqual({ file: 'a.conf', line: 4 });
      const dup = problems.find((p) => p.kind === 'duplicate-section' && p.section === 'S');
      expect(dup).toMatchObject({ severity: 'warning', code: 'APF_ERR_CONFIG_PARSE', file: 'b.conf', line: 3, previous: { file: 'a.conf', line: 4 } });
    });

    it('never continues a value or a section across files', () => {
      const r = parseIni([
        { file: 'a.conf', text: '[S]\nk = 1\n' },
        { file: 'b.conf', text: '  not a continuation\n[S]\n' },
      ]);
      expect(own(r.doc, 'S')).toEqual([['k', '1']]);
      expect(r.problems.filter((p) => p.severity === 'error').map((p) => [p.kind, p.file, p.line])).toEqual([['missing-section-header', 'b.conf', 1]]);
    });
  });

  describe('problems', () => {
    it('collects every syntax error of a file with its line (fixture broken/syntax-errors.conf)', () => {
      const { doc, problems } = fixture('syntax-errors.conf');
      const errors = problems.filter((p) => p.severity === 'error');
      expect(errors.map((p) => [p.kind, p.line, p.section])).toEqual([
        ['syntax', 4, 'Q1'],
        ['syntax', 7, 'Q1'],
        ['empty-key', 8, 'Q1'],
        ['syntax', 11, 'Q2'],
      ]);
      for (const p of errors) {
        expect(p.code).toBe('APF_ERR_CONFIG_PARSE');
        expect(p.file).toBe(join(BROKEN, 'syntax-errors.conf'));
      }
      // As in Python, the indented line after a bad line still continues the previous key.
      expect(findSection(doc, 'Q1')?.entries.get('wmsqueue')?.value).toBe('Q1\ncontinued = still the value of wmsqueue (python keeps the previous key)');
      expect(own(doc, 'Q2')).toEqual([
        ['enabled', 'True'],
        ['batchqueue', 'Q2'],
      ]);
    });

    it('reports a key before any section header once, then keeps parsing (fixture broken/no-header.conf)', () => {
      const { doc, problems } = fixture('no-header.conf');
      expect(problems.map((p) => [p.severity, p.kind, p.line])).toEqual([
        ['error', 'missing-section-header', 3],
        ['error', 'syntax', 7],
      ]);
      expect(problems[0]?.message).toContain('enabled = True');
      expect(own(doc, 'Q1')).toEqual([['wmsqueue', 'Q1']]);
    });

    it('warns about duplicate keys and sections with both lines; the later value wins (fixture broken/duplicates.conf)', () => {
      const { doc, problems } = fixture('duplicates.conf');
      const file = join(BROKEN, 'duplicates.conf');
      expect(problems.map((p) => [p.severity, p.kind, p.section, p.key, p.line, p.previous])).toEqual([
        ['warning', 'duplicate-key', 'Q1', 'wmsqueue', 7, { file, line: 5 }],
        ['warning', 'duplicate-section', 'Q1', undefined, 12, { file, line: 4 }],
        ['warning', 'duplicate-key', 'Q1', 'batchqueue', 13, { file, line: 6 }],
      ]);
      expect(problems[0]?.message).toContain(`${file}:5`);
      expect(effective(doc, 'Q1')).toEqual([
        ['vo', 'ATLAS'],
        ['wmsqueue', 'SECOND'],
        ['batchqueue', 'Q1-batch-again'],
        ['extra', 'added later'],
      ]);
    });

    it('never throws, whatever the input', () => {
      const junk = ['', '\n\n', '[', ']', '[]', '=', ':', '\u0000\u0001[x]\u0002=\u0003', '\ud800 lone surrogate', '[DEFAULT]\n= = =\n'];
      for (const text of junk) expect(() => parse(text)).not.toThrow();
      expect(parse('').doc).toEqual({ files: ['test.conf'], defaults: new Map(), sections: [] });
    });
  });
});
