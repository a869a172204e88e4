/**
 * APF's INI dialect: Python's `configparser` exactly as APF configured it, i.e. the oracle
 *
 * ```python
 * cp = configparser.ConfigParser(strict=False, inline_comment_prefixes=(';',),
 *                                interpolation=configparser.BasicInterpolation())
 * cp.optionxform = str   # keys are case-sensitive
 * ```
 *
 * `strict=False` because APF ran on Python 2, which accepted duplicate keys and sections (the
 * later one wins); apf reports them as warnings. This module only parses: values stay raw (no
 * `%(x)s` interpolation, no `~` expansion, no `None`/`True` conversion); interpolation and APF's
 * multi-source merge live in `interpolate.ts`. test/unit/config/ini-python.test.ts proves the
 * result equal to python3's on the fixtures and on generated edge cases.
 */
import { LayeredEntries } from './layered.ts';
import type { ConfigProblem, RawEntry, SourceLocation } from './types.ts';
import { ownString } from '../util/own-string.ts';

/** A section as written: its own keys only (DEFAULT not merged), in first-definition order. */
export interface IniSection {
  /** The name between the brackets, exactly as written (case and inner spaces kept). */
  readonly name: string;
  /** The first `[name]` header (a re-opened section keeps its first location). */
  readonly location: SourceLocation;
  /**
   * Own keys in the order they were first defined (Python dict order: a redefined key keeps its
   * position, takes the later value and the later location).
   */
  readonly entries: ReadonlyMap<string, RawEntry>;
}

/** Everything one parser read (one file, or several files read by one parser as `cp.read([...])` does). */
export interface IniDocument {
  /** The files read, in order. */
  readonly files: readonly string[];
  /** `[DEFAULT]` keys, combined over all files (later file wins per key). */
  readonly defaults: ReadonlyMap<string, RawEntry>;
  /** Every other section, in order of first appearance. */
  readonly sections: readonly IniSection[];
}

/** One file to parse: its text and the name used in locations and messages. */
export interface IniInput {
  /** The file's text (already decoded; a UTF-8 BOM is not skipped, as with Python's `utf-8`). */
  readonly text: string;
  /** Path or URL shown in locations and messages. */
  readonly file: string;
}

/**
 * What a parse (or merge) problem is, so that callers and tests never read messages:
 * - `missing-section-header` (error): a line before the first `[section]` header (Python's
 *   `MissingSectionHeaderError`; Python stops reading the file there, apf reports the first such
 *   line, skips the lines up to the first header and goes on parsing);
 * - `syntax` (error): a line that is neither a header nor `key = value`/`key: value` (one of the
 *   lines of Python's `ParsingError`);
 * - `empty-key` (error): `= value` with nothing before the delimiter (also a `ParsingError` line;
 *   like Python, the value is still stored under the key `''`);
 * - `duplicate-section` / `duplicate-key` (warning): redefinition, the later one wins;
 * - `merged-section` (warning): a section defined by several sources (see `mergeSources`).
 */
export type IniProblemKind = 'missing-section-header' | 'syntax' | 'empty-key' | 'duplicate-section' | 'duplicate-key' | 'merged-section';

/** A {@link ConfigProblem} of the INI layer, with its machine-readable kind. */
export interface IniProblem extends ConfigProblem {
  /** What the problem is (branch on this, never on `message`). */
  readonly kind: IniProblemKind;
  /** For duplicates and merges: where the name was defined before. */
  readonly previous?: SourceLocation;
}

/** Python's `str.isspace()` set (also what `re`'s `\s` matches): wider than JS `\s` (`\x1c`–`\x1f`, `\x85`) and without `\ufeff`. */
const PY_SPACE_CLASS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPACE = new RegExp(`^[${PY_SPACE_CLASS}]$`);
const PY_NONSPACE = new RegExp(`[^${PY_SPACE_CLASS}]`);
const PY_STRIP = new RegExp(`^[${PY_SPACE_CLASS}]+|[${PY_SPACE_CLASS}]+$`, 'g');
const PY_RSTRIP = new RegExp(`[${PY_SPACE_CLASS}]+$`);

function isPySpace(ch: string | undefined): boolean {
  return ch !== undefined && PY_SPACE.test(ch);
}

/** Python's `str.strip()`. */
function pyStrip(s: string): string {
  return s.replace(PY_STRIP, '');
}

/** Python's `str.rstrip()`. */
function pyRstrip(s: string): string {
  return s.replace(PY_RSTRIP, '');
}

/**
 * Splits text into lines as Python's text files do (universal newlines: `\r\n`, `\r` and `\n`
 * end a line; `\v`, `\f`, `\x85`, `\u2028` do not). A final terminator does not start a line.
 */
function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  // Each line its own string, so that the names and values kept from it do not keep the whole
  // file's text alive (src/util/own-string.ts).
  for (let i = 0; i < lines.length; i++) lines[i] = ownString(lines[i] as string);
  return lines;
}

/**
 * Where a comment starts in `line`, or -1. Full-line comments: the stripped line starts with `#`
 * or `;` (also when indented, so such a line inside a continued value is dropped, not kept).
 * Inline comments: the first `;` at the start of the line or right after whitespace; `#` is never
 * an inline comment (URL fragments survive).
 */
function commentStart(line: string): number {
  const stripped = pyStrip(line);
  if (stripped.startsWith('#') || stripped.startsWith(';')) return 0;
  for (let i = line.indexOf(';'); i !== -1; i = line.indexOf(';', i + 1)) {
    if (i === 0 || isPySpace(line[i - 1])) return i;
  }
  return -1;
}

/** Python's `\[(?P<header>.+)\]` matched at the start: the text between `[` and the last `]`. */
function sectionHeader(value: string): string | undefined {
  if (!value.startsWith('[')) return undefined;
  const close = value.lastIndexOf(']');
  return close >= 2 ? value.slice(1, close) : undefined;
}

/** A section while it is being read: values as the list of their lines, joined at the end. */
interface Building {
  readonly name: string;
  readonly location: SourceLocation;
  readonly entries: Map<string, { readonly file: string; readonly line: number; readonly parts: string[] }>;
}

const DEFAULT_SECTION = 'DEFAULT';

/** Parser state shared by all files of one parse. */
interface ParseState {
  readonly defaults: Building;
  readonly sections: Map<string, Building>;
  /** First header of every name seen (DEFAULT included), for duplicate warnings. */
  readonly headers: Map<string, SourceLocation>;
  readonly problems: IniProblem[];
  /** One string per distinct key: thousands of sections repeat the same few keys. */
  readonly keys: Map<string, string>;
}

function shortLine(line: string): string {
  const t = pyStrip(line);
  return JSON.stringify(t.length > 80 ? `${t.slice(0, 77)}...` : t);
}

/** Reads one file into `st`, exactly as one `RawConfigParser._read` call does. */
function readFile(st: ParseState, input: IniInput): void {
  const file = input.file;
  // Per-file state, as in Python: a file never continues a value or a section of the previous one.
  let cur: Building | undefined;
  /** The key that continuation lines extend; '' (after `= value`) extends nothing, like Python. */
  let optname = '';
  let indentLevel = 0;
  let orphanReported = false;
  const lines = splitLines(input.text);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const line = i + 1;
    const cs = commentStart(raw);
    const value = pyStrip(cs === -1 ? raw : raw.slice(0, cs));
    if (value === '') {
      // A blank line (not a comment line) inside a value is kept; trailing ones are stripped at the end.
      if (cs === -1 && cur !== undefined && optname !== '') cur.entries.get(optname)?.parts.push('');
      continue;
    }
    const indent = raw.search(PY_NONSPACE);
    if (cur !== undefined && optname !== '' && indent > indentLevel) {
      cur.entries.get(optname)?.parts.push(value);
      continue;
    }
    indentLevel = indent;
    const header = sectionHeader(value);
    if (header !== undefined) {
      cur = openSection(st, header, { file, line });
      optname = '';
      continue;
    }
    if (cur === undefined) {
      if (!orphanReported) {
        orphanReported = true;
        st.problems.push({
          severity: 'error',
          code: 'APF_ERR_CONFIG_PARSE',
          kind: 'missing-section-header',
          message: `line before the first [section] header: ${shortLine(raw)} (lines up to the first header are ignored)`,
          file,
          line,
        });
      }
      continue;
    }
    const delim = value.search(/[=:]/);
    if (delim === -1) {
      // Python keeps `optname` here, so later indented lines still continue the previous key.
      st.problems.push({
        severity: 'error',
        code: 'APF_ERR_CONFIG_PARSE',
        kind: 'syntax',
        message: `not a [section] header nor a "key = value" or "key: value" line: ${shortLine(raw)}`,
        file,
        line,
        section: cur.name,
      });
      continue;
    }
    const key = internKey(st, pyRstrip(value.slice(0, delim)));
    if (key === '') {
      st.problems.push({
        severity: 'error',
        code: 'APF_ERR_CONFIG_PARSE',
        kind: 'empty-key',
        message: `no key before "${value[delim] ?? '='}": ${shortLine(raw)}`,
        file,
        line,
        section: cur.name,
      });
    }
    const previous = cur.entries.get(key);
    if (previous !== undefined) {
      st.problems.push({
        severity: 'warning',
        code: 'APF_ERR_CONFIG_PARSE',
        kind: 'duplicate-key',
        message: `key "${key}" is defined again (first at ${previous.file}:${previous.line}); the later value wins`,
        file,
        line,
        section: cur.name,
        key,
        previous: { file: previous.file, line: previous.line },
      });
    }
    // Map.set on an existing key keeps its position, as Python's dict does.
    cur.entries.set(key, { file, line, parts: [pyStrip(value.slice(delim + 1))] });
    optname = key;
  }
}

function internKey(st: ParseState, key: string): string {
  const known = st.keys.get(key);
  if (known !== undefined) return known;
  st.keys.set(key, key);
  return key;
}

/** `[name]`: re-opens a known section (warning), selects DEFAULT, or creates a section. */
function openSection(st: ParseState, name: string, at: SourceLocation): Building {
  const first = st.headers.get(name);
  if (first === undefined) {
    st.headers.set(name, at);
  } else {
    st.problems.push({
      severity: 'warning',
      code: 'APF_ERR_CONFIG_PARSE',
      kind: 'duplicate-section',
      message: `section [${name}] appears again (first at ${first.file}:${first.line}); its keys are merged, later values win`,
      file: at.file,
      line: at.line,
      section: name,
      previous: first,
    });
  }
  if (name === DEFAULT_SECTION) return st.defaults;
  let sec = st.sections.get(name);
  if (sec === undefined) {
    sec = { name, location: at, entries: new Map() };
    st.sections.set(name, sec);
  }
  return sec;
}

/** Joins continuation lines with `\n` and strips trailing blank lines (Python's `_join_multiline_values`). */
function finish(b: Building): Map<string, RawEntry> {
  const out = new Map<string, RawEntry>();
  for (const [key, e] of b.entries) out.set(key, { file: e.file, line: e.line, value: pyRstrip(e.parts.join('\n')) });
  return out;
}

/**
 * Parses one or more files with ONE parser (Python's `cp.read([f1, f2, …])`, used for
 * `queues.d/*.conf`): their `[DEFAULT]`s are combined (later file wins per key) and apply to all
 * their sections; same-named sections merge key by key, later wins.
 *
 * Never throws on bad input: every syntax problem of every file is returned, each with file and
 * 1-based line, as well as duplicate warnings. Values are raw: continuation lines joined with
 * `\n`, comments removed, nothing interpolated or converted.
 */
export function parseIni(inputs: readonly IniInput[]): { doc: IniDocument; problems: IniProblem[] } {
  const st: ParseState = {
    defaults: { name: DEFAULT_SECTION, location: { file: inputs[0]?.file ?? '', line: 0 }, entries: new Map() },
    sections: new Map(),
    headers: new Map(),
    problems: [],
    keys: new Map(),
  };
  for (const input of inputs) readFile(st, input);
  const sections: IniSection[] = [...st.sections.values()].map((b) => ({ name: b.name, location: b.location, entries: finish(b) }));
  const doc: IniDocument = { files: inputs.map((i) => i.file), defaults: finish(st.defaults), sections };
  return { doc, problems: st.problems };
}

const sectionIndex = new WeakMap<IniDocument, Map<string, IniSection>>();

/** The section called `name` of `doc` (DEFAULT is not a section), or undefined. */
export function findSection(doc: IniDocument, name: string): IniSection | undefined {
  let index = sectionIndex.get(doc);
  if (index === undefined) {
    index = new Map(doc.sections.map((s) => [s.name, s]));
    sectionIndex.set(doc, index);
  }
  return index.get(name);
}

/**
 * Effective raw keys of a section: DEFAULT keys first (in DEFAULT order) overridden by the
 * section's own, then the section's own new keys — the same order as Python's `cp.items()`.
 * An unknown section (or `DEFAULT` itself) yields an empty map.
 */
export function effectiveEntries(doc: IniDocument, section: string): ReadonlyMap<string, RawEntry> {
  const sec = findSection(doc, section);
  if (sec === undefined) return new Map();
  // no copy: DEFAULT is one map shared by all the sections of the document
  return new LayeredEntries(doc.defaults, sec.entries);
}
