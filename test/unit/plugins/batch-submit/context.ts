/**
 * Test helpers for the condor submit plugins: a realistic loaded configuration (the shapes of
 * src/config/types.ts), the loader's option path (overlay of the key chain, then parseOptions), and
 * a logger that keeps its records.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseOptions, type OptionSpecs, type OptionValues } from '../../../../src/config/options.ts';
import { overlayKeyChain } from '../../../../src/config/plugin-options.ts';
import type {
  ApfConfig,
  AuthProfile,
  ConfigProblem,
  FactorySettings,
  MonitorSection,
  QueueConfig,
  ResolvedEntry,
} from '../../../../src/config/types.ts';
import type { BatchSubmitPluginDef, SubmitContext } from '../../../../src/plugins/define.ts';
import type { Logger } from '../../../../src/logging/logger.ts';
import { defaultClusterSettings, defaultWebSettings } from '../../../../src/config/build.ts';

/** Section entries as the loader stores them (`queues.conf`, line numbers in order). */
export function entries(kv: Record<string, string>, file = '/etc/autopyfactory/queues.conf'): Map<string, ResolvedEntry> {
  const out = new Map<string, ResolvedEntry>();
  let line = 10;
  for (const [k, v] of Object.entries(kv)) out.set(k, { file, line: line++, raw: v, value: v });
  return out;
}

/** Parses a submit plugin's options from a queue section exactly as the loader does. */
export function pluginOptions<S extends OptionSpecs>(
  def: BatchSubmitPluginDef<S>,
  section: ReadonlyMap<string, ResolvedEntry>,
): { values: OptionValues<S>; problems: readonly ConfigProblem[] } {
  const slice = overlayKeyChain(section, def.keyChain);
  const prefix = `batchsubmit.${def.keyChain[0] ?? ''}.`;
  return parseOptions(def.options, (k) => slice.get(k), { section: 'test', prefix }, slice);
}

/** Like {@link pluginOptions} but fails on any problem. */
export function okOptions<S extends OptionSpecs>(def: BatchSubmitPluginDef<S>, section: ReadonlyMap<string, ResolvedEntry>): OptionValues<S> {
  const { values, problems } = pluginOptions(def, section);
  if (problems.length > 0) throw new Error(`unexpected option problems: ${JSON.stringify(problems)}`);
  return values;
}

/** What a test configuration varies. */
export interface TestSetup {
  readonly queue: string;
  /** The queue section's keys (batchsubmit.*, executable…). */
  readonly section: Record<string, string>;
  readonly factory?: Partial<FactorySettings>;
  readonly monitorsections?: readonly string[];
  readonly monitors?: Readonly<Record<string, string | undefined>>;
  readonly auth?: Readonly<Record<string, string | undefined>>;
}

/** The records a {@link recordingLogger} kept. */
export interface LogRecord {
  readonly level: number;
  readonly msg: string;
  readonly [k: string]: unknown;
}

/** A pino logger whose records are kept in memory. */
export function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, cb): void {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') records.push(JSON.parse(line) as LogRecord);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), records };
}

/** pino's level number of `warn`. */
export const WARN = 40;

const FACTORY_DEFAULTS: FactorySettings = {
  factoryId: 'apf-lancs',
  factoryAdminEmail: 'atlas-adc-apf@example.org',
  factorySMTPServer: undefined,
  factoryUser: 'apf',
  enablequeues: true,
  cycles: undefined,
  factorySleep: 30,
  baseLogDir: '/var/log/apf',
  baseLogDirUrl: 'http://apf.example.org:25880',
  cleanlogsKeepdays: 14,
  maxPerFactory: undefined,
  cluster: defaultClusterSettings(),
  web: defaultWebSettings(),
  raw: new Map(),
};

/** A whole loaded configuration with one queue, and the submit context of that queue. */
export function submitContext(setup: TestSetup, logger: Logger): SubmitContext {
  const factory: FactorySettings = { ...FACTORY_DEFAULTS, ...setup.factory };
  const raw = entries(setup.section);
  const choice = { id: 'CondorOSGCE', options: {} };
  const queue: QueueConfig = {
    name: setup.queue,
    location: { file: '/etc/autopyfactory/queues.conf', line: 9 },
    enabled: true,
    wmsqueue: raw.get('wmsqueue')?.value,
    batchqueue: raw.get('batchqueue')?.value,
    sleep: 360,
    sched: [],
    wmsstatus: undefined,
    batchstatus: { id: 'Condor', options: {} },
    batchsubmit: choice,
    monitorsections: setup.monitorsections ?? [],
    cleanlogsKeepdays: undefined,
    executable: raw.get('executable')?.value,
    arguments: raw.get('executable.arguments')?.value,
    raw,
  };
  const auth = new Map<string, AuthProfile>();
  for (const [name, proxyfile] of Object.entries(setup.auth ?? {})) auth.set(name, { name, plugin: 'X509', proxyfile, raw: new Map() });
  const monitors = new Map<string, MonitorSection>();
  for (const [name, url] of Object.entries(setup.monitors ?? {})) monitors.set(name, { name, plugin: 'APF', url, raw: new Map() });
  const config: ApfConfig = {
    dir: '/etc/autopyfactory',
    sources: ['/etc/autopyfactory/autopyfactory.conf', '/etc/autopyfactory/queues.conf'],
    factory,
    queues: new Map([[queue.name, queue]]),
    auth,
    monitors,
    mappings: new Map(),
    effective: { factory: [], queues: [], auth: [], monitor: [], mappings: [] },
    hash: 'test',
    warnings: [],
  };
  return { config, factory, queue, logger };
}
