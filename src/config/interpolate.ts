/**
 * APF's multi-source merge and Python's `BasicInterpolation` (`%(key)s`, `%%`).
 *
 * APF parsed every source (`queueConf` is a comma list; `queueDirConf` adds one more source read
 * by a single parser) with its own parser, then copied each section's effective keys — DEFAULT
 * included, raw — into one combined config without a DEFAULT, later source winning per key.
 * Values are interpolated when read, against that combined section. {@link mergeSources} and
 * {@link resolveSection} do the same, so a DEFAULT value that refers to a key missing in some
 * section fails for that section only, as in APF.
 */
import type { ConfigProblem, RawEntry, ResolvedEntry, ResolvedSection, SourceLocation } from './types.ts';
import { LayeredEntries } from './layered.ts';
import { effectiveEntries, type IniDocument, type IniProblem } from './ini.ts';

/** A section of the combined configuration: effective raw keys, DEFAULT already folded in. */
export interface MergedSection {
  /** Section name. */
  readonly name: string;
  /** The header of the first source that defined the section. */
  readonly location: SourceLocation;
  /** Effective raw keys in first-definition order (later sources override values in place). */
  readonly entries: ReadonlyMap<string, RawEntry>;
}

/**
 * APF's multi-source merge: for each document in order, for each of its sections, every
 * effective key (`cp.items(section, raw=True)`) is copied into the combined section, so the later
 * source wins per key. A section defined by several sources yields a `merged-section` warning
 * (APF warned too), located at the later source's header.
 */
export function mergeSources(docs: readonly IniDocument[]): { sections: MergedSection[]; problems: IniProblem[] } {
  const combined = new Map<string, { name: string; location: SourceLocation; entries: ReadonlyMap<string, RawEntry> }>();
  const problems: IniProblem[] = [];
  for (const doc of docs) {
    for (const sec of doc.sections) {
      const target = combined.get(sec.name);
      if (target === undefined) {
        // the usual case, a section in one source: its effective keys as the parser layered them
        combined.set(sec.name, { name: sec.name, location: sec.location, entries: effectiveEntries(doc, sec.name) });
      } else {
        problems.push({
          severity: 'warning',
          code: 'APF_ERR_CONFIG_PARSE',
          kind: 'merged-section',
          message: `section [${sec.name}] is also defined in an earlier source (${target.location.file}:${target.location.line}); merged key by key, this source wins`,
          file: sec.location.file,
          line: sec.location.line,
          section: sec.name,
          previous: target.location,
        });
        const entries = new Map(target.entries);
        for (const [key, entry] of effectiveEntries(doc, sec.name)) entries.set(key, entry);
        target.entries = entries;
      }
    }
  }
  return { sections: [...combined.values()], problems };
}

/** Python's `configparser.MAX_INTERPOLATION_DEPTH`. */
export const MAX_INTERPOLATION_DEPTH = 10;

/**
 * Why an interpolation failed: `missing` (Python's `InterpolationMissingOptionError`), `syntax`
 * (`InterpolationSyntaxError`: a `%` not followed by `%` or `(name)s`), `depth`
 * (`InterpolationDepthError`: nested deeper than {@link MAX_INTERPOLATION_DEPTH}), `size` (apf
 * only: the expansion grew absurdly large, e.g. keys each referring to another several times;
 * Python would just run out of time or memory).
 */
export type InterpolationErrorKind = 'missing' | 'syntax' | 'depth' | 'size';

/** An interpolation problem of one key. */
export interface InterpolationProblem extends ConfigProblem {
  /** What failed (branch on this, never on `message`). */
  readonly kind: InterpolationErrorKind;
  /** For `missing`: the name that was not found. */
  readonly reference?: string;
}

/** Outcome of {@link interpolate}. */
export type InterpolationResult =
  | {
      readonly ok: true;
      /** The interpolated text. */
      readonly value: string;
    }
  | {
      readonly ok: false;
      /** What failed. */
      readonly kind: InterpolationErrorKind;
      /** For `missing`: the name not found. */
      readonly reference?: string;
      /** The chain of `%(name)s` references followed before the failure, outermost first. */
      readonly via: readonly string[];
      /** For `syntax`: the text from the offending `%` on. */
      readonly at?: string;
    };

/** Thrown inside the recursive expansion to unwind it at the first failure, as Python's exceptions do. */
class Failure extends Error {
  readonly result: InterpolationResult & { ok: false };
  constructor(result: InterpolationResult & { ok: false }) {
    super(result.kind);
    this.result = result;
  }
}

const KEY_REF = /^%\(([^)]+)\)s/;
/** Limits of the apf-only `size` guard (far beyond any real configuration value). */
const MAX_EXPANSIONS = 100_000;
const MAX_LENGTH = 4 * 1024 * 1024;

/**
 * Interpolates `raw` exactly as Python's `BasicInterpolation.before_get` does: `%%` is `%`,
 * `%(name)s` is replaced by `lookup(name)` (case-sensitive), recursively when the looked-up value
 * contains a `%`, with the same depth rule as Python (the value being read is depth 1; entering
 * depth 11 fails, even when the value there would only need `%%` unescaped).
 */
export function interpolate(raw: string, lookup: (name: string) => string | undefined): InterpolationResult {
  const out: string[] = [];
  let expansions = 0;
  let length = 0;
  const emit = (s: string, via: readonly string[]): void => {
    out.push(s);
    length += s.length;
    if (length > MAX_LENGTH) throw new Failure({ ok: false, kind: 'size', via });
  };
  const expand = (text: string, depth: number, via: readonly string[]): void => {
    if (depth > MAX_INTERPOLATION_DEPTH) throw new Failure({ ok: false, kind: 'depth', via });
    if (++expansions > MAX_EXPANSIONS) throw new Failure({ ok: false, kind: 'size', via });
    let rest = text;
    while (rest !== '') {
      const p = rest.indexOf('%');
      if (p < 0) {
        emit(rest, via);
        return;
      }
      if (p > 0) {
        emit(rest.slice(0, p), via);
        rest = rest.slice(p);
      }
      const c = rest.charAt(1);
      if (c === '%') {
        emit('%', via);
        rest = rest.slice(2);
      } else if (c === '(') {
        const m = KEY_REF.exec(rest);
        if (m === null) throw new Failure({ ok: false, kind: 'syntax', via, at: rest });
        const name = m[1] as string;
        rest = rest.slice(m[0].length);
        const v = lookup(name);
        if (v === undefined) throw new Failure({ ok: false, kind: 'missing', reference: name, via });
        if (v.includes('%')) expand(v, depth + 1, [...via, name]);
        else emit(v, via);
      } else {
        throw new Failure({ ok: false, kind: 'syntax', via, at: rest });
      }
    }
  };
  try {
    expand(raw, 1, []);
  } catch (err) {
    if (err instanceof Failure) return err.result;
    throw err;
  }
  return { ok: true, value: out.join('') };
}

function snippet(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 37)}...` : s);
}

function describeFailure(f: InterpolationResult & { ok: false }, section: string): string {
  const through = f.via.length === 0 ? '' : ` (reached through ${f.via.map((n) => `%(${n})s`).join(' -> ')})`;
  switch (f.kind) {
    case 'missing':
      return `%(${f.reference ?? ''})s refers to a key "${f.reference ?? ''}" that section [${section}] does not have${through}`;
    case 'syntax':
      return `bad interpolation syntax at ${snippet(f.at ?? '')}: "%" must be followed by "%" or "(name)s"${through}`;
    case 'depth':
      return `interpolation nested deeper than ${MAX_INTERPOLATION_DEPTH} levels (a key refers to itself?)${through}`;
    case 'size':
      return `interpolation expands to an absurdly large value${through}`;
  }
}

/**
 * The resolved form of an entry that interpolation leaves as it is. It depends on the entry alone,
 * so every section that inherits the same DEFAULT entry shares one object: with thousands of
 * queues, the DEFAULT keys would otherwise be copied into every section.
 */
const UNCHANGED = new WeakMap<RawEntry, ResolvedEntry>();
function unchanged(e: RawEntry): ResolvedEntry {
  let r = UNCHANGED.get(e);
  if (r === undefined) UNCHANGED.set(e, (r = { file: e.file, line: e.line, raw: e.value, value: e.value }));
  return r;
}

/**
 * Interpolates every key of a merged section. A failing key keeps `value = raw` and yields an
 * error problem located at that key's own file:line (for a DEFAULT key, the DEFAULT line), naming
 * the missing key, the bad syntax or the recursion, and the chain of references followed.
 *
 * APF compatibility extension (Python 2 behaviour, the one deliberate difference from python3's
 * configparser): `%(__name__)s` interpolates to the section name. Python 2 kept `__name__` in
 * every section; through APF's merge it is always the section name, so it takes precedence over a
 * key literally called `__name__`.
 */
export function resolveSection(section: MergedSection): { section: ResolvedSection; problems: InterpolationProblem[] } {
  const problems: InterpolationProblem[] = [];
  const lookup = (name: string): string | undefined => (name === '__name__' ? section.name : section.entries.get(name)?.value);
  const layered = section.entries instanceof LayeredEntries ? (section.entries as LayeredEntries<RawEntry>) : undefined;
  // every key, or (layered) the keys that differ from the shared DEFAULT layer
  const entries = new Map<string, ResolvedEntry>();
  for (const [key, e] of section.entries) {
    if (layered !== undefined && !layered.own.has(key) && !e.value.includes('%')) continue;
    const r = interpolate(e.value, lookup);
    if (r.ok) {
      entries.set(key, r.value === e.value ? unchanged(e) : { file: e.file, line: e.line, raw: e.value, value: r.value });
      continue;
    }
    entries.set(key, { file: e.file, line: e.line, raw: e.value, value: e.value });
    problems.push({
      severity: 'error',
      code: 'APF_ERR_CONFIG_INTERPOLATION',
      kind: r.kind,
      message: describeFailure(r, section.name),
      file: e.file,
      line: e.line,
      section: section.name,
      key,
      ...(r.reference === undefined ? {} : { reference: r.reference }),
    });
  }
  const resolved = layered === undefined ? entries : new LayeredEntries(sharedLayer(layered.base), entries);
  return { section: { name: section.name, location: section.location, entries: resolved }, problems };
}

/**
 * A DEFAULT layer resolved once for all the sections that inherit it: every entry as it is. An
 * entry with a `%` depends on the section it is read in, so {@link resolveSection} puts its
 * resolved form in the section's own layer, which always shadows the shared one.
 */
const SHARED = new WeakMap<ReadonlyMap<string, RawEntry>, ReadonlyMap<string, ResolvedEntry>>();
function sharedLayer(base: ReadonlyMap<string, RawEntry>): ReadonlyMap<string, ResolvedEntry> {
  let r = SHARED.get(base);
  if (r === undefined) {
    r = new Map([...base].map(([k, e]) => [k, unchanged(e)]));
    SHARED.set(base, r);
  }
  return r;
}
