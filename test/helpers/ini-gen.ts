/**
 * Seeded generator of edge-case INI jobs for the python3 equality test
 * (test/unit/config/ini-python.test.ts). A job is a list of sources, each a list of files read by
 * one parser, exactly the input of test/helpers/configparser_dump.py. The same seed always gives
 * the same job, so a mismatch reproduces from its printed seed.
 *
 * The documents deliberately stay inside python3's semantics: `%(__name__)s` (apf's Python 2
 * extension) is never generated.
 */
import { rng } from './rng.ts';

/** A small deterministic PRNG (mulberry32). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number;
  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

/** Creates the PRNG for `seed`. */
export function createRng(seed: number): Rng {
  const next = rng(seed);
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    range: (lo, hi) => lo + int(hi - lo + 1),
    pick: <T>(items: readonly T[]): T => items[int(items.length)] as T,
    chance: (p) => next() < p,
  };
}

/** One generated file. */
export interface GenFile {
  /** File name (unique within the job). */
  readonly name: string;
  /** The file's text, line endings included. */
  readonly text: string;
}

/** One generated job: sources in merge order, each a list of files read by one parser. */
export interface GenJob {
  /** The seed that reproduces this job. */
  readonly seed: number;
  /** Sources in merge order; the files of one source are read by one parser. */
  readonly sources: ReadonlyArray<readonly GenFile[]>;
}

// Section names: dots, colons, slashes, case variants, unicode, padding, `]` inside, a near-DEFAULT.
const SECTIONS = [
  'DEFAULT',
  'DEFAULT',
  'Factory',
  'EXAMPLE_PROD-ce01.example.org',
  'ANALY_BNL:long/queue',
  'sec.with.dots',
  'Sec',
  'sec',
  'Ωmega-сайт',
  ' padded ',
  'DEFAULT ',
  'default',
  'a]b',
  'x;y',
] as const;

// Keys: case variants, dotted APF keys, unicode, inner spaces/tabs, `+` and `[` prefixes, a chain k0..k11.
const KEYS = [
  'a',
  'A',
  'b',
  'B',
  'c',
  'dir',
  'path',
  'url',
  'vo',
  'grid',
  'wmsqueue',
  'batchqueue',
  'executable',
  'executable.arguments',
  'executable.defaultarguments',
  'sched.maxpending.maximum',
  'batchsubmit.condorosgce.condor_attributes.+maxMemory',
  'x.y-z_1',
  'ключ',
  '日本',
  'key with spaces',
  'tab\tinside',
  '+maxMemory',
  '[odd',
  '0',
  '10',
  'k0',
  'k1',
  'k2',
  'k5',
] as const;

const PLAIN = [
  'True',
  'False',
  'None',
  'none',
  'ATLAS',
  'OSG',
  '60',
  '0',
  '/usr/libexec/wrapper.sh',
  'http://example.org/dist/wrapper.tar.gz',
  '-q managed --pilot-user=ATLAS',
  'Ωμέγα',
  '日本語テキスト',
  '🚀 rocket',
  'naïve café',
  '"quoted"',
  "'single'",
  '\\backslash\\',
  '~/etc/auth',
] as const;

const TRICKY = [
  // percent handling
  '%%',
  '100%%',
  '%%(literal)s',
  '%(missing_key)s',
  '%(A)s',
  '%(a)s',
  '%(dir)s/sub',
  '%(k0)s',
  '%',
  '50% done',
  '%d',
  '%(a)d',
  '%(',
  '%()s',
  '%(a',
  '%(b)x',
  '%%%',
  // delimiters inside values
  'periodic_remove = (JobStatus == 5)',
  'host.example.org:9619',
  'a=b:c',
  '==',
  ':',
  // comments
  ' ; inline comment',
  ';not-a-comment',
  'a;b',
  '\t; tab comment',
  ' ;',
  ' # hash kept',
  'http://x.org/p?a=1#frag',
  '#start',
  // whitespace Python strips but JS \s does not (and the reverse: \ufeff is not whitespace)
  '\u00a0nbsp\u00a0',
  '\u3000',
  '\x1c',
  '\x85',
  '\u2028',
  '\x0b',
  '\x0c',
  '\ufeff',
  '\u2003em',
] as const;

const DELIMS = ['=', ':', ' = ', ' : ', '\t=\t', '=  ', '  :', ' =', ' = = '] as const;
const TRAILING = ['', '', '', ' ', '\t', '  \t ', '\u00a0', '\x0c'] as const;
const INDENTS = [' ', '  ', '\t', '    ', '\u00a0'] as const;
const COMMENTS = ['# comment', '; comment', '   # indented comment', '\t; indented', '#', ';', '#[not a section]', '; key = value'] as const;
const BAD_LINES = ['just some words', '[]', '= value without key', ': colon first', '[unclosed', 'REM old style'] as const;

function value(rng: Rng): string {
  const n = rng.pick([0, 1, 1, 1, 2, 2, 3, 4]);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const pool = rng.chance(0.45) ? TRICKY : PLAIN;
    parts.push(rng.chance(0.2) ? `%(${rng.pick(KEYS)})s` : rng.pick(pool));
  }
  return parts.join(rng.pick([' ', ' ', '', ', ']));
}

function keyLine(rng: Rng, key: string, val: string): string {
  const indent = rng.chance(0.1) ? rng.pick(INDENTS) : '';
  return `${indent}${key}${rng.pick(DELIMS)}${val}${rng.pick(TRAILING)}`;
}

/** Lines following a key line: continuations, blank and whitespace-only lines, comment-looking lines. */
function continuation(rng: Rng): string[] {
  const out: string[] = [];
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) {
    const r = rng.int(10);
    if (r < 4) out.push(`${rng.pick(INDENTS)}${value(rng) || 'more'}${rng.pick(TRAILING)}`);
    else if (r === 4) out.push('');
    else if (r === 5) out.push(rng.pick(['   ', '\t', ' \t ']));
    else if (r === 6) out.push(`${rng.pick(INDENTS)}${rng.pick(['# looks like a comment', '; also a comment', '#'])}`);
    else if (r === 7) out.push(`${rng.pick(INDENTS)}[looks.like.header]`);
    else if (r === 8) out.push(`${rng.pick(INDENTS)}key = looks like a key`);
    else out.push(`${rng.pick(INDENTS)}${rng.pick(INDENTS)}deeper ; with comment`);
  }
  return out;
}

/** A chain k0 -> k1 -> … -> kN around the depth limit, ending in a plain value, `%%`, a missing key or bad syntax. */
function chain(rng: Rng): string[] {
  const n = rng.range(7, 12);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`k${i} = ${rng.chance(0.5) ? `step${i}-` : ''}%(k${i + 1})s`);
  lines.push(`k${n} = ${rng.pick(['end', '100%%', '%(nowhere)s', '%z', 'a %%', ''])}`);
  return lines;
}

function header(rng: Rng, name: string): string {
  const indent = rng.chance(0.08) ? rng.pick(INDENTS) : '';
  const tail = rng.pick(['', '', '', ' ', ' ; comment', ' # trailing text', ' trailing', '\t']);
  return `${indent}[${name}]${tail}`;
}

function sectionBody(rng: Rng): string[] {
  const lines: string[] = [];
  const n = rng.range(1, 7);
  for (let i = 0; i < n; i++) {
    const r = rng.int(100);
    if (r < 62) {
      lines.push(keyLine(rng, rng.pick(KEYS), value(rng)));
      if (rng.chance(0.3)) lines.push(...continuation(rng));
    } else if (r < 70) lines.push(rng.pick(COMMENTS));
    else if (r < 78) lines.push('');
    else if (r < 82) lines.push(...chain(rng));
    else if (r < 85) lines.push(rng.pick(['a = %(a)s', 'a = %(b)s', 'b = %(a)s', 'self = x %(self)s']));
    else if (r < 88) lines.push(rng.pick(BAD_LINES));
    else if (r < 94) lines.push(keyLine(rng, rng.pick(KEYS), ''));
    else lines.push(keyLine(rng, rng.pick(KEYS), `%(${rng.pick(KEYS)})s`));
  }
  return lines;
}

function document(rng: Rng): string[] {
  const lines: string[] = [];
  if (rng.chance(0.03)) lines.push(keyLine(rng, 'orphan', 'before any header'));
  if (rng.chance(0.3)) lines.push(rng.pick(COMMENTS), '');
  if (rng.chance(0.6)) lines.push(header(rng, 'DEFAULT'), ...sectionBody(rng));
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.4)) lines.push('');
    lines.push(header(rng, rng.pick(SECTIONS)), ...sectionBody(rng));
  }
  return lines;
}

function render(rng: Rng, lines: readonly string[]): string {
  const r = rng.int(20);
  const eol = r < 13 ? '\n' : r < 18 ? '\r\n' : r < 19 ? '\r' : undefined;
  let text = '';
  for (const l of lines) text += l + (eol ?? rng.pick(['\n', '\r\n', '\r']));
  return rng.chance(0.85) ? text : text.replace(/(\r\n|\r|\n)$/, '');
}

/** Generates the job of `seed`: 1–3 sources of 1–3 files each. */
export function generateJob(seed: number): GenJob {
  const rng = createRng(seed);
  const nSources = rng.pick([1, 1, 1, 1, 1, 1, 2, 2, 2, 3]);
  const sources: GenFile[][] = [];
  for (let s = 0; s < nSources; s++) {
    const nFiles = rng.pick([1, 1, 1, 1, 1, 1, 1, 2, 2, 3]);
    const files: GenFile[] = [];
    for (let f = 0; f < nFiles; f++) files.push({ name: `s${s}f${f}.conf`, text: render(rng, document(rng)) });
    sources.push(files);
  }
  return { seed, sources };
}

/** A readable dump of a job (every line JSON-escaped, numbered) for failure messages. */
export function describeJob(job: GenJob): string {
  const out: string[] = [`seed ${job.seed}:`];
  job.sources.forEach((files, s) => {
    out.push(`  source ${s}:`);
    for (const f of files) {
      out.push(`    file ${f.name}:`);
      f.text.split(/(?<=\r\n|\r(?!\n)|\n)/).forEach((l, i) => out.push(`      ${String(i + 1).padStart(3)}: ${JSON.stringify(l)}`));
    }
  });
  return out.join('\n');
}
