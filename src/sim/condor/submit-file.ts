/**
 * Submit description files for the HTCondor simulator (a simulator, NOT HTCondor): the syntax of
 * formats.md §2.8 — `key = value` lines (keys case-insensitive), `#` comments, `\` continuation
 * lines, `+Attr = <ClassAd expression>` and `MY.Attr = …` custom attributes, `queue` / `queue N`
 * statements (settings accumulate across several of them), and macro expansion: `$(name)` of any
 * key (looked up when a `queue` statement runs, as HTCondor does), `$(name:default)`,
 * `$(Cluster)`, `$(Process)`, `$ENV(NAME)`, `$$(…)` left for match time.
 */
import { ApfError } from '../../errors.ts';

/**
 * What `$(Process)` expands to until a proc is materialised: job ads are stored once per
 * `queue` statement with this marker in place of the proc number, so 100k procs cost 100k small
 * records instead of 100k full ads.
 */
export const PROC_MARKER = '\u0000proc\u0000';

/** One assignment (a command, a macro, or a custom attribute). */
export interface SubmitSetting {
  /** Key as written (`+MATCH_APF_QUEUE` → `MATCH_APF_QUEUE`, `MY.x` → `x`). */
  readonly key: string;
  /** Unexpanded right-hand side. */
  readonly value: string;
  /** 1-based line where the statement ends. */
  readonly line: number;
}

/** The settings in force when a `queue` statement ran. */
export interface QueueGroup {
  /** Procs to create (`queue` alone is 1). */
  readonly count: number;
  /** Line of the queue statement. */
  readonly line: number;
  /** Submit commands and macros, by lower-cased key. */
  readonly commands: ReadonlyMap<string, SubmitSetting>;
  /** Custom attributes (`+Attr`, `MY.Attr`), by lower-cased name, first spelling kept. */
  readonly customs: ReadonlyMap<string, SubmitSetting>;
}

/** A parsed submit description. */
export interface SubmitDescription {
  /** One entry per `queue` statement, in order (empty when the file has none). */
  readonly groups: readonly QueueGroup[];
}

/** A submit error whose message is the text condor_submit prints after `ERROR: `. */
export function submitError(message: string, line?: number): ApfError {
  return new ApfError('APF_ERR_SIM', message, { details: { submitError: true, ...(line === undefined ? {} : { line }) } });
}

function parseError(line: number): ApfError {
  return submitError(`Failed to parse command file (line ${line}).`, line);
}

const KEY_RE = /^(\+[A-Za-z_][A-Za-z0-9_.]*|MY\.[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_.]*)\s*=\s?(.*)$/i;
const QUEUE_RE = /^queue(?:\s+(.*))?$/i;

/**
 * Parses a submit description. Throws a {@link submitError} `Failed to parse command file (line N).`
 * for a line that is neither a comment, an assignment nor a supported `queue` statement.
 */
export function parseSubmitDescription(text: string): SubmitDescription {
  const lines = text.split(/\r?\n/);
  const commands = new Map<string, SubmitSetting>();
  const customs = new Map<string, SubmitSetting>();
  const groups: QueueGroup[] = [];
  for (let i = 0; i < lines.length; i++) {
    let raw = lines[i] as string;
    // A trailing backslash joins the next line (comments are not continued).
    while (/\\\s*$/.test(raw) && !raw.trimStart().startsWith('#') && i + 1 < lines.length) {
      raw = raw.replace(/\\\s*$/, '') + (lines[++i] as string);
    }
    const lineNo = i + 1;
    const stmt = raw.trim();
    if (stmt === '' || stmt.startsWith('#')) continue;
    const q = QUEUE_RE.exec(stmt);
    if (q !== null) {
      const arg = (q[1] ?? '').trim();
      if (arg !== '' && !/^\d+$/.test(arg)) throw parseError(lineNo); // itemised queue forms are not simulated
      groups.push({ count: arg === '' ? 1 : Number(arg), line: lineNo, commands: new Map(commands), customs: new Map(customs) });
      continue;
    }
    const m = KEY_RE.exec(stmt);
    if (m === null) throw parseError(lineNo);
    const rawKey = m[1] as string;
    const value = (m[2] ?? '').trim();
    if (rawKey.startsWith('+') || /^MY\./i.test(rawKey)) {
      const key = rawKey.startsWith('+') ? rawKey.slice(1) : rawKey.slice(3);
      const lower = key.toLowerCase();
      const first = customs.get(lower)?.key ?? key;
      customs.set(lower, { key: first, value, line: lineNo });
    } else {
      commands.set(rawKey.toLowerCase(), { key: rawKey, value, line: lineNo });
    }
  }
  return { groups };
}

/** What macro expansion can see. */
export interface MacroScope {
  /** The group's commands and macros. */
  readonly commands: ReadonlyMap<string, SubmitSetting>;
  /** Environment for `$ENV(NAME)`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cluster: number;
  /** Path of the submit file (`$(SUBMIT_FILE)`), if any. */
  readonly submitFile?: string;
}

const MAX_EXPANSION_DEPTH = 32;

/**
 * Expands macros in `text`. `$(Process)`/`$(ProcId)` become {@link PROC_MARKER}; undefined
 * macros expand to their `:default` or to nothing, as in HTCondor. Throws a {@link submitError}
 * naming `line` for a macro that refers to itself (directly or not).
 */
export function expandMacros(text: string, scope: MacroScope, line: number, depth = 0): string {
  if (depth > MAX_EXPANSION_DEPTH) throw submitError(`Macro expansion too deep (line ${line}), a macro refers to itself.`, line);
  if (!text.includes('$')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('$', i);
    if (at < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, at);
    if (text.startsWith('$$(', at)) {
      // Match-time substitution: kept for the schedd/negotiator, verbatim.
      const end = closing(text, at + 2);
      if (end < 0) return out + text.slice(at);
      out += text.slice(at, end + 1);
      i = end + 1;
      continue;
    }
    const env = /^\$ENV\(/i.exec(text.slice(at, at + 5));
    if (env !== null || text.startsWith('$(', at)) {
      const open = env !== null ? at + 4 : at + 1;
      const end = closing(text, open);
      if (end < 0) {
        out += text.slice(at);
        break;
      }
      const inner = expandMacros(text.slice(open + 1, end), scope, line, depth + 1);
      out += env !== null ? (scope.env[inner.trim()] ?? '') : lookupMacro(inner, scope, line, depth);
      i = end + 1;
      continue;
    }
    out += '$';
    i = at + 1;
  }
  return out;
}

/** Index of the `)` matching the `(` at `open`, or -1. */
function closing(text: string, open: number): number {
  let d = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '(') d++;
    else if (text[j] === ')' && --d === 0) return j;
  }
  return -1;
}

function lookupMacro(ref: string, scope: MacroScope, line: number, depth: number): string {
  const colon = ref.indexOf(':');
  const name = (colon < 0 ? ref : ref.slice(0, colon)).trim();
  const def = colon < 0 ? undefined : ref.slice(colon + 1);
  switch (name.toLowerCase()) {
    case 'cluster':
    case 'clusterid':
      return String(scope.cluster);
    case 'process':
    case 'procid':
      return PROC_MARKER;
    case 'step':
    case 'row':
    case 'itemindex':
      return '0';
    case 'item':
      return '';
    case 'node':
      return '#pArAlLeLnOdE#';
    case 'dollar':
      return '$';
    case 'submit_file':
      if (scope.submitFile !== undefined) return scope.submitFile;
      break;
    default:
      break;
  }
  const hit = scope.commands.get(name.toLowerCase());
  if (hit === undefined) return def ?? '';
  return expandMacros(hit.value, scope, line, depth + 1);
}
