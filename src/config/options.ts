/**
 * Declarative, typed INI options. A plugin (or a config section) declares its keys as a table of
 * {@link OptionSpec}s; {@link parseOptions} turns the effective INI strings into typed values with
 * APF's conventions (`None`/`none` = unset, configparser booleans, comma lists), and reports every
 * bad value with file:line, section and key. The same table feeds `apf list-plugins`.
 */
import type { ConfigProblem, ResolvedEntry, SourceLocation } from './types.ts';

/** Value kinds, shown by `apf list-plugins`. */
export type OptionKind = 'int' | 'float' | 'bool' | 'string' | 'list' | 'enum' | 'map';

/** One declared key. `T` includes `undefined` when the key has no default. */
export interface OptionSpec<T> {
  readonly kind: OptionKind;
  /** One line for `apf list-plugins` and docs. */
  readonly doc: string;
  /** Value when the key is absent or `None`. */
  readonly default: T;
  /** Missing (or `None`) is an error. */
  readonly required: boolean;
  /** Allowed values (enum). */
  readonly values?: readonly string[];
  /**
   * `map` options collect every key `<name>.<sub>` into an ordered list of `[sub, value]`
   * (APF's `condor_attributes.<attr>`).
   */
  readonly isMap?: boolean;
  /** For `map` options: the INI name whose `<name>.<sub>` keys are collected, when it differs from the option's own name. */
  readonly mapOf?: string;
  /** Converts the INI text; throws an Error whose message explains the problem. */
  parse(text: string): T;
}

/** A table of options. */
export type OptionSpecs = Readonly<Record<string, OptionSpec<unknown>>>;

/** The typed values a table yields. */
export type OptionValues<S extends OptionSpecs> = { readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

/** True for APF's "unset" spellings. */
export function isNone(text: string): boolean {
  return text === 'None' || text === 'none';
}

/** Python `int()` on a config string (surrounding spaces allowed, underscores between digits). */
export function parseIntStrict(text: string): number {
  const t = text.trim();
  if (!/^[+-]?\d+(_\d+)*$/.test(t)) throw new Error(`"${text}" is not an integer`);
  const v = Number(t.replaceAll('_', ''));
  if (!Number.isSafeInteger(v)) throw new Error(`"${text}" is out of range`);
  return v;
}

/** Python `float()` on a config string. */
export function parseFloatStrict(text: string): number {
  const t = text.trim();
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (!/^[+-]?(\d+(_\d+)*(\.(\d+(_\d+)*)?)?|\.\d+(_\d+)*)([eE][+-]?\d+)?$/.test(t)) throw new Error(`"${text}" is not a number`);
  return Number(t.replaceAll('_', ''));
}

/** configparser's `getboolean`: 1/yes/true/on and 0/no/false/off, any case. */
export function parseBool(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === '1' || t === 'yes' || t === 'true' || t === 'on') return true;
  if (t === '0' || t === 'no' || t === 'false' || t === 'off') return false;
  throw new Error(`"${text}" is not a boolean (use True/False, yes/no, on/off, 1/0)`);
}

/** APF's comma lists: split on commas, strip items, drop empty items. */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function make<T>(kind: OptionKind, doc: string, def: T, required: boolean, parse: (t: string) => T, extra: Partial<OptionSpec<T>> = {}): OptionSpec<T> {
  return { kind, doc, default: def, required, parse, ...extra };
}

/** Builders for option specs. Without a default the value type includes `undefined`. */
export const opt = {
  int(doc: string, def: number, bounds: { min?: number; max?: number } = {}): OptionSpec<number> {
    return make('int', doc, def, false, (t) => checkBounds(parseIntStrict(t), bounds));
  },
  optInt(doc: string, bounds: { min?: number; max?: number } = {}): OptionSpec<number | undefined> {
    return make<number | undefined>('int', doc, undefined, false, (t) => checkBounds(parseIntStrict(t), bounds));
  },
  float(doc: string, def: number, bounds: { min?: number; max?: number } = {}): OptionSpec<number> {
    return make('float', doc, def, false, (t) => checkBounds(parseFloatStrict(t), bounds));
  },
  optFloat(doc: string, bounds: { min?: number; max?: number } = {}): OptionSpec<number | undefined> {
    return make<number | undefined>('float', doc, undefined, false, (t) => checkBounds(parseFloatStrict(t), bounds));
  },
  bool(doc: string, def: boolean): OptionSpec<boolean> {
    return make('bool', doc, def, false, parseBool);
  },
  string(doc: string, def: string): OptionSpec<string> {
    return make('string', doc, def, false, (t) => t);
  },
  optString(doc: string): OptionSpec<string | undefined> {
    return make<string | undefined>('string', doc, undefined, false, (t) => t);
  },
  requiredString(doc: string): OptionSpec<string> {
    return make('string', doc, '', true, (t) => t);
  },
  list(doc: string, def: readonly string[] = []): OptionSpec<readonly string[]> {
    return make<readonly string[]>('list', doc, def, false, parseList);
  },
  enum<const V extends string>(doc: string, values: readonly V[], def: V): OptionSpec<V> {
    return make('enum', doc, def, false, (t) => parseEnum(t, values), { values });
  },
  /**
   * Collects `<name>.<sub> = value` keys, in definition order. `iniName` lets a map sit beside a
   * plain option of the same INI name (APF's `condor_attributes` and `condor_attributes.<attr>`).
   */
  map(doc: string, iniName?: string): OptionSpec<ReadonlyArray<readonly [string, string]>> {
    return make<ReadonlyArray<readonly [string, string]>>('map', doc, [], false, () => [], {
      isMap: true,
      ...(iniName === undefined ? {} : { mapOf: iniName }),
    });
  },
} as const;

function parseEnum<V extends string>(text: string, values: readonly V[]): V {
  const t = text.trim();
  const hit = values.find((v) => v.toLowerCase() === t.toLowerCase());
  if (hit === undefined) throw new Error(`"${text}" is not one of ${values.join(', ')}`);
  return hit;
}

function checkBounds(v: number, b: { min?: number; max?: number }): number {
  if (b.min !== undefined && v < b.min) throw new Error(`${v} is below the minimum ${b.min}`);
  if (b.max !== undefined && v > b.max) throw new Error(`${v} is above the maximum ${b.max}`);
  return v;
}

/** Where a table is being read from, for messages. */
export interface OptionScope {
  /** Section name. */
  readonly section: string;
  /** Key prefix including the trailing dot (`sched.maxpercycle.`), or `''`. */
  readonly prefix: string;
  /** Where the section starts: missing mandatory keys are reported there. */
  readonly location?: SourceLocation;
}

/** Result of {@link parseOptions}: values are complete even when problems were found (defaults used). */
export interface ParsedOptions<S extends OptionSpecs> {
  readonly values: OptionValues<S>;
  readonly problems: readonly ConfigProblem[];
}

/**
 * Reads every option of `specs` from `lookup` (which answers a full key such as
 * `sched.maxpercycle.maximum`). A missing or `None` key takes the default; a bad value is an
 * error problem located at the key's file:line and the default is used so that all problems are
 * found in one pass.
 */
export function parseOptions<S extends OptionSpecs>(
  specs: S,
  lookup: (fullKey: string) => ResolvedEntry | undefined,
  scope: OptionScope,
  entries?: ReadonlyMap<string, ResolvedEntry>,
): ParsedOptions<S> {
  const values: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const fullKey = scope.prefix + name;
    if (spec.isMap === true) {
      const pairs: Array<readonly [string, string]> = [];
      const pre = `${scope.prefix}${spec.mapOf ?? name}.`;
      for (const [k, e] of entries ?? new Map<string, ResolvedEntry>()) {
        if (k.startsWith(pre) && k.length > pre.length) pairs.push([k.slice(pre.length), e.value]);
      }
      values[name] = pairs;
      continue;
    }
    const entry = lookup(fullKey);
    if (entry === undefined || isNone(entry.value.trim())) {
      if (spec.required) {
        problems.push({
          severity: 'error',
          code: 'APF_ERR_CONFIG_INVALID',
          message: entry === undefined ? 'missing mandatory key' : 'mandatory key is None',
          section: scope.section,
          key: fullKey,
          ...(entry !== undefined
            ? { file: entry.file, line: entry.line }
            : scope.location === undefined
              ? {}
              : { file: scope.location.file, line: scope.location.line }),
        });
      }
      values[name] = spec.default;
      continue;
    }
    try {
      values[name] = spec.parse(entry.value);
    } catch (err) {
      problems.push({
        severity: 'error',
        code: 'APF_ERR_CONFIG_INVALID',
        message: `bad ${spec.kind}: ${err instanceof Error ? err.message : String(err)}`,
        file: entry.file,
        line: entry.line,
        section: scope.section,
        key: fullKey,
      });
      values[name] = spec.default;
    }
  }
  return { values: values as OptionValues<S>, problems };
}
