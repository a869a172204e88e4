/**
 * Validating the effective INI sections into the typed, deep-frozen {@link ApfConfig}. Problems of
 * enabled queues are errors; the same problems in disabled queues are warnings (APF only built
 * enabled queues, and an operator enabling one later gets the error then).
 */
import { createHash } from 'node:crypto';
import { FACTORY_OPTIONS, QUEUE_OPTIONS } from './factory-schema.ts';
import { builtInMappings, freezeMappings } from './mappings.ts';
import { parseBool, parseOptions, type OptionValues } from './options.ts';
import { ChoiceInterner, resolvePluginChoice, type ChoiceSite } from './plugin-options.ts';
import { expandUser } from './sources.ts';
import { LayeredEntries } from './layered.ts';
import type {
  ApfConfig,
  AuthProfile,
  ClusterSettings,
  WebSettings,
  ConfigProblem,
  FactorySettings,
  MonitorSection,
  PluginChoice,
  ProblemSeverity,
  QueueConfig,
  ResolvedEntry,
  ResolvedSection,
} from './types.ts';
import type { PluginFamily } from '../plugins/define.ts';

/** What {@link buildConfig} needs from the reader. */
export interface BuildInput {
  readonly dir: string;
  readonly factory: ResolvedSection | undefined;
  readonly factorySections: readonly ResolvedSection[];
  readonly queues: readonly ResolvedSection[];
  readonly auth: readonly ResolvedSection[];
  readonly proxy: readonly ResolvedSection[];
  readonly monitor: readonly ResolvedSection[];
  readonly mappings: readonly ResolvedSection[];
  readonly sources: readonly string[];
  /** Problems found while reading (interpolation problems of disabled queues are downgraded). */
  readonly earlierProblems: ConfigProblem[];
}

const EMPTY: ReadonlyMap<string, ResolvedEntry> = new Map();

/** Entries with `~` expanded (typed reads see expanded values; `--print` shows the raw view). */
function expanded(entries: ReadonlyMap<string, ResolvedEntry>): ReadonlyMap<string, ResolvedEntry> {
  // Nothing to expand (the usual case): the section's own map, not a copy per queue.
  if (![...entries.values()].some((e) => e.value.startsWith('~'))) return entries;
  const out = new Map<string, ResolvedEntry>();
  for (const [k, e] of entries) out.set(k, e.value.startsWith('~') ? { ...e, value: expandUser(e.value) } : e);
  return out;
}

/** Cluster settings from parsed [Factory] values. */
function clusterSettings(v: OptionValues<typeof FACTORY_OPTIONS>): ClusterSettings {
  return {
    redis: {
      url: v['redis.url'],
      username: v['redis.username'],
      passwordFile: v['redis.password_file'],
      tls: { ca: v['redis.tls.ca'], cert: v['redis.tls.cert'], key: v['redis.tls.key'] },
      sentinels: v['redis.sentinels'],
      sentinelMaster: v['redis.sentinel.master'],
      sentinelPasswordFile: v['redis.sentinel.password_file'],
      commandTimeoutMs: Math.round(v['redis.timeout'] * 1000),
    },
    instanceId: v['instance.id'],
    stateDir: v['state.dir'],
    prefix: v['cluster.prefix'],
    concurrency: v['cluster.concurrency'],
    leaseTtlMs: Math.round(v['cluster.lease_ttl'] * 1000),
    heartbeatMs: Math.round(v['cluster.heartbeat'] * 1000),
    deadAfterMs: Math.round(v['cluster.dead_after'] * 1000),
    offlineGraceMs: Math.round(v['cluster.offline_grace'] * 1000),
    history: v['cluster.history'],
    reconcileIntervalMs: Math.round(v['cluster.reconcile_interval'] * 1000),
    spreadStepMs: Math.round(v['cluster.spread_step'] * 1000),
    lockDurationMs: Math.round(v['cluster.lock_duration'] * 1000),
    stalledIntervalMs: Math.round(v['cluster.stalled_interval'] * 1000),
    shutdownTimeoutMs: Math.round(v['cluster.shutdown_timeout'] * 1000),
  };
}

/** The port of an http(s) URL (explicit, or 80/443), as APF's log server took it from baseLogDirUrl. */
export function portOfUrl(url: string): number | undefined {
  try {
    const u = new URL(url);
    if (u.port !== '') return Number(u.port);
    return u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : undefined;
  } catch {
    return undefined;
  }
}

/** Web settings with every default (for tests and tools that build settings by hand). */
export function defaultWebSettings(): WebSettings {
  return { port: 25880, bind: '0.0.0.0', adminTokenFile: undefined, logserver: { enabled: true, index: true, allowRobots: false }, cleanMaxDiskPercent: undefined };
}

/** Cluster settings with every default (for tests and tools that build settings by hand). */
export function defaultClusterSettings(): ClusterSettings {
  return clusterSettings(parseOptions(FACTORY_OPTIONS, () => undefined, { section: 'Factory', prefix: '' }).values);
}

function buildFactory(section: ResolvedSection | undefined): { factory: FactorySettings; problems: ConfigProblem[] } {
  const entries = expanded(section?.entries ?? EMPTY);
  const parsed = parseOptions(FACTORY_OPTIONS, (k) => entries.get(k), {
    section: 'Factory',
    prefix: '',
    ...(section === undefined ? {} : { location: section.location }),
  });
  const v = parsed.values;
  const problems = section === undefined ? [] : [...parsed.problems];
  const factory: FactorySettings = {
    factoryId: v.factoryId,
    factoryAdminEmail: v.factoryAdminEmail,
    factorySMTPServer: v.factorySMTPServer,
    factoryUser: v.factoryUser,
    enablequeues: v.enablequeues,
    cycles: v.cycles,
    factorySleep: v['factory.sleep'],
    baseLogDir: v.baseLogDir.replace(/\/+$/, ''),
    baseLogDirUrl: v.baseLogDirUrl.replace(/\/+$/, ''),
    cleanlogsKeepdays: v['cleanlogs.keepdays'],
    maxPerFactory: v['maxperfactory.maximum'],
    cluster: clusterSettings(v),
    web: {
      port: v['web.port'] ?? portOfUrl(v.baseLogDirUrl) ?? 25880,
      bind: v['web.bind'],
      adminTokenFile: v['web.admin_token_file'],
      logserver: { enabled: v['logserver.enabled'], index: v['logserver.index'], allowRobots: v['logserver.allowrobots'] },
      cleanMaxDiskPercent: v['cleanlogs.maxdiskpercent'],
    },
    raw: entries,
  };
  return { factory, problems };
}

/** Whether a queue section is enabled (APF: a missing `enabled` is false, with our warning). */
function isEnabled(section: ResolvedSection, factory: FactorySettings, problems: ConfigProblem[]): boolean | 'invalid' {
  const e = section.entries.get('enabled');
  if (e === undefined) {
    problems.push({
      severity: 'warning',
      code: 'APF_ERR_CONFIG_INVALID',
      message: 'no "enabled" key: the queue is disabled (APF treats a missing enabled as False); set enabled = True or False',
      file: section.location.file,
      line: section.location.line,
      section: section.name,
      key: 'enabled',
    });
    return false;
  }
  let on: boolean | 'invalid';
  try {
    on = parseBool(e.value);
  } catch (err) {
    on = 'invalid';
    problems.push({
      severity: 'error',
      code: 'APF_ERR_CONFIG_INVALID',
      message: `bad bool: ${(err as Error).message}`,
      file: e.file,
      line: e.line,
      section: section.name,
      key: 'enabled',
    });
  }
  return on === 'invalid' ? on : on && factory.enablequeues;
}

function buildQueue(
  section: ResolvedSection,
  factory: FactorySettings,
  factoryEntries: ReadonlyMap<string, ResolvedEntry>,
  interner: ChoiceInterner,
): { queue: QueueConfig | undefined; problems: ConfigProblem[]; severity: ProblemSeverity } {
  const problems: ConfigProblem[] = [];
  const bad = badQueueName(section.name);
  if (bad !== null) {
    const { file, line } = section.location;
    problems.push({ severity: 'error', code: 'APF_ERR_CONFIG_INVALID', message: `queue name ${JSON.stringify(section.name)} ${bad}`, section: section.name, file, line });
    return { queue: undefined, problems, severity: 'error' };
  }
  const flag = isEnabled(section, factory, problems);
  const enabled = flag === true;
  // an unreadable `enabled` fails the load anyway: report the rest as errors too
  const severity: ProblemSeverity = flag === false ? 'warning' : 'error';
  const entries = expanded(section.entries);
  const parsed = parseOptions(QUEUE_OPTIONS, (k) => entries.get(k), { section: section.name, prefix: '', location: section.location });
  problems.push(...parsed.problems.filter((p) => p.key !== 'enabled').map((p) => ({ ...p, severity })));
  const v = parsed.values;
  const located = (key: string, message: string): ConfigProblem => {
    const e = entries.get(key);
    return {
      severity,
      code: 'APF_ERR_CONFIG_INVALID',
      message,
      section: section.name,
      key,
      file: e?.file ?? section.location.file,
      line: e?.line ?? section.location.line,
    };
  };
  const choose = (family: PluginFamily, key: string, name: string): PluginChoice | undefined => {
    const site: ChoiceSite = { section: section.name, key, entry: entries.get(key), severity };
    const r = resolvePluginChoice(family, name, entries, factoryEntries, site);
    problems.push(...r.problems);
    return r.choice === undefined ? undefined : interner.choice(r.choice);
  };

  if (v.schedplugin.length === 0) problems.push(located('schedplugin', 'missing mandatory key (the sched chain)'));
  const sched = v.schedplugin.map((n) => choose('sched', 'schedplugin', n));
  const wmsName = v.wmsstatusplugin?.trim();
  const wmsstatus = wmsName === undefined || wmsName === '' ? undefined : choose('wmsstatus', 'wmsstatusplugin', wmsName);
  if (v.batchstatusplugin === undefined) problems.push(located('batchstatusplugin', 'missing mandatory key'));
  if (v.batchsubmitplugin === undefined) problems.push(located('batchsubmitplugin', 'missing mandatory key'));
  const batchstatus = v.batchstatusplugin === undefined ? undefined : choose('batchstatus', 'batchstatusplugin', v.batchstatusplugin);
  const batchsubmit = v.batchsubmitplugin === undefined ? undefined : choose('batchsubmit', 'batchsubmitplugin', v.batchsubmitplugin);
  if (wmsstatus !== undefined && v.wmsqueue === undefined) {
    problems.push(located('wmsqueue', `missing: ${wmsstatus.id} WMS status needs the queue's wmsqueue`));
  }
  if (batchsubmit !== undefined && batchsubmit.id.toLowerCase().startsWith('condor') && v.executable === undefined) {
    problems.push(located('executable', `missing mandatory key for ${batchsubmit.id} (the pilot wrapper)`));
  }
  if (sched.some((c) => c?.id === 'MaxPerFactory') && factory.maxPerFactory === undefined) {
    problems.push({
      ...located('schedplugin', 'MaxPerFactory without [Factory] maxperfactory.maximum always gives 0 (as APF did)'),
      severity: 'warning',
    });
  }
  if (sched.includes(undefined) || batchstatus === undefined || batchsubmit === undefined) {
    return { queue: undefined, problems, severity };
  }
  const queue: QueueConfig = {
    name: section.name,
    location: section.location,
    enabled,
    wmsqueue: v.wmsqueue,
    batchqueue: v.batchqueue,
    sleep: v['apfqueue.sleep'],
    sched: interner.chain(sched as PluginChoice[]),
    wmsstatus,
    batchstatus,
    batchsubmit,
    monitorsections: v.monitorsection,
    cleanlogsKeepdays: v['cleanlogs.keepdays'],
    executable: v.executable,
    arguments: v['executable.arguments'],
    raw: entries,
  };
  return { queue, problems, severity };
}

/**
 * Why a section name cannot name a queue, or null: the name is a field of tab-separated Redis
 * records and of log lines, and (with `/` and `:` replaced) a directory of the pilots' logs
 * (`<baseLogDir>/<date>/<queue>`).
 */
function badQueueName(name: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character (tab, newline…)';
  if (name === '.' || name === '..') return 'cannot name a directory of the pilot logs';
  return null;
}

function value(s: ResolvedSection, key: string): string | undefined {
  const e = s.entries.get(key);
  return e === undefined || e.value.trim() === 'None' ? undefined : expandUser(e.value);
}

/** Deep-freezes plain data (maps are frozen as objects; their contents are already immutable values). */
function deepFreeze<T>(obj: T): T {
  if (obj !== null && typeof obj === 'object' && !Object.isFrozen(obj)) {
    Object.freeze(obj);
    if (obj instanceof Map || obj instanceof LayeredEntries) for (const v of obj.values()) deepFreeze(v);
    else for (const v of Object.values(obj)) deepFreeze(v);
  }
  return obj;
}

/** Validates everything into an {@link ApfConfig}. */
export function buildConfig(input: BuildInput): { config: ApfConfig; problems: ConfigProblem[] } {
  const { factory, problems } = buildFactory(input.factory);
  const queues = new Map<string, QueueConfig>();
  const disabled = new Set<string>();
  const interner = new ChoiceInterner();
  for (const section of input.queues) {
    const r = buildQueue(section, factory, factory.raw, interner);
    problems.push(...r.problems);
    if (r.queue !== undefined) queues.set(section.name, r.queue);
    if (r.severity === 'warning') disabled.add(section.name);
  }
  // Interpolation failures in disabled queues do not stop the factory (APF never read them).
  for (let i = 0; i < input.earlierProblems.length; i++) {
    const p = input.earlierProblems[i] as ConfigProblem;
    if (p.code === 'APF_ERR_CONFIG_INTERPOLATION' && p.section !== undefined && disabled.has(p.section) && p.key !== 'enabled') {
      input.earlierProblems[i] = { ...p, severity: 'warning', message: `${p.message} (queue disabled)` };
    }
  }
  const auth = new Map<string, AuthProfile>();
  for (const s of input.proxy) auth.set(s.name, { name: s.name, plugin: value(s, 'plugin') ?? 'X509', proxyfile: value(s, 'proxyfile'), raw: expanded(s.entries) });
  for (const s of input.auth) auth.set(s.name, { name: s.name, plugin: value(s, 'plugin') ?? 'X509', proxyfile: value(s, 'x509.proxyfile'), raw: expanded(s.entries) });
  const monitors = new Map<string, MonitorSection>();
  for (const s of input.monitor) monitors.set(s.name, { name: s.name, plugin: value(s, 'monitorplugin') ?? 'APF', url: value(s, 'monitorURL'), raw: expanded(s.entries) });
  for (const q of queues.values()) {
    for (const m of q.monitorsections) {
      if (!monitors.has(m)) {
        const e = q.raw.get('monitorsection');
        problems.push({
          severity: q.enabled ? 'error' : 'warning',
          code: 'APF_ERR_CONFIG_INVALID',
          message: `monitor section "${m}" is not in monitor.conf (known: ${[...monitors.keys()].join(', ') || 'none'})`,
          section: q.name,
          key: 'monitorsection',
          ...(e === undefined ? {} : { file: e.file, line: e.line }),
        });
      }
    }
  }
  const mappings = builtInMappings();
  for (const s of input.mappings) {
    const table = mappings.get(s.name) ?? new Map<string, string>();
    for (const [k, e] of s.entries) table.set(k, e.value.trim());
    mappings.set(s.name, table);
  }
  const effective = {
    factory: input.factorySections,
    queues: input.queues,
    auth: [...input.proxy, ...input.auth],
    monitor: input.monitor,
    mappings: input.mappings,
  };
  const config: ApfConfig = {
    dir: input.dir,
    sources: input.sources,
    factory,
    queues,
    auth,
    monitors,
    mappings: freezeMappings(mappings),
    effective,
    hash: hashEffective(effective),
    warnings: [],
  };
  return { config: deepFreeze(config), problems };
}

/** sha256 over the effective values, independent of file names and line numbers. */
export function hashEffective(effective: ApfConfig['effective']): string {
  const h = createHash('sha256');
  for (const [family, sections] of Object.entries(effective)) {
    for (const s of sections) {
      h.update(`${family}\0${s.name}\0`);
      for (const [k, e] of s.entries) h.update(`${k}\0${e.value}\0`);
    }
  }
  return h.digest('hex');
}
