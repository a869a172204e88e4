/**
 * Loading APF's configuration files unchanged: `autopyfactory.conf` ([Factory]), `queues.conf`
 * (+ `queues.d/*.conf`), `auth.conf` (and the older `proxy.conf`), `monitor.conf` and
 * `mappings.conf` from one directory (default /etc/apf, falling back to /etc/autopyfactory).
 * Every problem of every file is collected; the load fails only after all were found.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApfError } from '../errors.ts';
import { parseIni, type IniDocument } from './ini.ts';
import { mergeSources, resolveSection } from './interpolate.ts';
import { listConfDir, readSource, resolveSpec, type SourceFetchOptions } from './sources.ts';
import { buildConfig } from './build.ts';
import type { ApfConfig, ConfigProblem, ResolvedSection } from './types.ts';
import { isNone, parseList } from './options.ts';

/** Options for {@link loadConfig}. */
export interface LoadConfigOptions extends SourceFetchOptions {
  /** Config directory. @defaultValue `/etc/apf` if it exists, else `/etc/autopyfactory` */
  readonly dir?: string;
}

/** Result of {@link loadConfig}: `config` is set only when there is no error problem. */
export interface LoadResult {
  readonly config: ApfConfig | undefined;
  /** Every error and warning, in file order. */
  readonly problems: readonly ConfigProblem[];
}

/** The default configuration directory. */
export function defaultConfigDir(): string {
  return existsSync('/etc/apf') ? '/etc/apf' : '/etc/autopyfactory';
}

/** Sections of one file family after reading, merging and interpolation. */
interface Family {
  readonly sections: ResolvedSection[];
  readonly sources: string[];
}

/**
 * Reads one family of files: each source parsed by its own parser, then merged the APF way
 * (later source wins per key), then an optional directory of files read by ONE parser merged
 * over them.
 */
async function readFamily(
  specs: readonly string[],
  dirSpec: string | undefined,
  dir: string,
  optional: boolean,
  problems: ConfigProblem[],
  fetch: SourceFetchOptions,
): Promise<Family> {
  const docs: IniDocument[] = [];
  const sources: string[] = [];
  for (const spec of specs) {
    try {
      const src = await readSource(spec, dir, fetch);
      sources.push(src.file);
      const parsed = parseIni([{ text: src.text, file: src.file }]);
      problems.push(...parsed.problems);
      docs.push(parsed.doc);
    } catch (err) {
      const missing = !/^https?:/i.test(spec) && !existsSync(resolveSpec(spec, dir));
      if (optional && missing) continue;
      problems.push({
        severity: 'error',
        code: 'APF_ERR_CONFIG_SOURCE',
        message: err instanceof Error ? err.message : String(err),
        file: err instanceof ApfError && typeof err.details['file'] === 'string' ? err.details['file'] : resolveSpec(spec, dir),
      });
    }
  }
  if (dirSpec !== undefined) {
    const files = await listConfDir(dirSpec);
    if (files !== undefined && files.length > 0) {
      const inputs = [];
      for (const f of files) {
        try {
          const src = await readSource(f, dir, fetch);
          inputs.push({ text: src.text, file: src.file });
          sources.push(src.file);
        } catch (err) {
          problems.push({ severity: 'error', code: 'APF_ERR_CONFIG_SOURCE', message: err instanceof Error ? err.message : String(err), file: f });
        }
      }
      const parsed = parseIni(inputs);
      problems.push(...parsed.problems);
      docs.push(parsed.doc);
    }
  }
  const merged = mergeSources(docs);
  problems.push(...merged.problems);
  const sections: ResolvedSection[] = [];
  for (const m of merged.sections) {
    const r = resolveSection(m);
    problems.push(...r.problems);
    sections.push(r.section);
  }
  return { sections, sources };
}

/** The value of a [Factory] key, raw text, if present and not None. */
function factoryValue(factory: ResolvedSection | undefined, key: string): string | undefined {
  const e = factory?.entries.get(key);
  if (e === undefined || isNone(e.value.trim())) return undefined;
  return e.value;
}

/**
 * Loads and validates the whole configuration. Never throws for bad input: every problem is
 * returned with file:line, section and key, and `config` is undefined when any is an error.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadResult> {
  const dir = resolve(options.dir ?? defaultConfigDir());
  const problems: ConfigProblem[] = [];
  const fetch: SourceFetchOptions = {
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };

  const factoryFamily = await readFamily([join(dir, 'autopyfactory.conf')], undefined, dir, false, problems, fetch);
  const factory = factoryFamily.sections.find((s) => s.name === 'Factory');
  if (factory === undefined && !problems.some((p) => p.code === 'APF_ERR_CONFIG_SOURCE')) {
    problems.push({
      severity: 'error',
      code: 'APF_ERR_CONFIG_INVALID',
      message: 'no [Factory] section',
      file: join(dir, 'autopyfactory.conf'),
    });
  }
  const listOr = (key: string, fallback: string): string[] => {
    const v = factoryValue(factory, key);
    return v === undefined ? [join(dir, fallback)] : parseList(v);
  };
  const queueDirValue = factory?.entries.get('queueDirConf');
  const queueDir =
    queueDirValue === undefined
      ? join(dir, 'queues.d')
      : isNone(queueDirValue.value.trim()) || queueDirValue.value.trim() === ''
        ? undefined
        : resolveSpec(queueDirValue.value, dir);

  const queueSpecs = listOr('queueConf', 'queues.conf');
  const queues = await readFamily(queueSpecs, queueDir, dir, factoryValue(factory, 'queueConf') === undefined, problems, fetch);
  const auth = await readFamily(listOr('authConf', 'auth.conf'), undefined, dir, true, problems, fetch);
  const proxy = await readFamily(listOr('proxyConf', 'proxy.conf'), undefined, dir, true, problems, fetch);
  const monitor = await readFamily(listOr('monitorConf', 'monitor.conf'), undefined, dir, true, problems, fetch);
  const mappings = await readFamily(listOr('mappingsConf', 'mappings.conf'), undefined, dir, true, problems, fetch);

  const built = buildConfig({
    dir,
    factory,
    factorySections: factoryFamily.sections,
    queues: queues.sections,
    auth: auth.sections,
    proxy: proxy.sections,
    monitor: monitor.sections,
    mappings: mappings.sections,
    sources: [
      ...factoryFamily.sources,
      ...queues.sources,
      ...auth.sources,
      ...proxy.sources,
      ...monitor.sources,
      ...mappings.sources,
    ],
    earlierProblems: problems,
  });
  problems.push(...built.problems);
  // file order: by file (in the order read), then line; problems without a place last
  const fileRank = new Map(built.config.sources.map((f, i) => [f, i]));
  problems.sort(
    (a, b) =>
      (fileRank.get(a.file ?? '') ?? Number.MAX_SAFE_INTEGER) - (fileRank.get(b.file ?? '') ?? Number.MAX_SAFE_INTEGER) ||
      (a.line ?? 0) - (b.line ?? 0),
  );
  const failed = problems.some((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning');
  return { config: failed ? undefined : Object.freeze({ ...built.config, warnings }), problems };
}
