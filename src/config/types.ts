/**
 * Types of the loaded configuration. The loader (src/config/load.ts) turns APF's INI files into
 * these deep-frozen values; everything downstream reads them and never the INI text.
 */

/** Where a value came from: file path (or URL) and 1-based line. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

/** One `key = value` as written in a file (before interpolation). */
export interface RawEntry extends SourceLocation {
  /** The value as configparser stores it: continuation lines joined with `\n`, not interpolated. */
  readonly value: string;
}

/** One effective key of a section: DEFAULT merged in, sources merged, `%(x)s` resolved. */
export interface ResolvedEntry extends SourceLocation {
  /** The raw value (what `cp.items(section, raw=True)` gives). */
  readonly raw: string;
  /** The interpolated value (what `cp.items(section)` gives); equals `raw` when interpolation failed. */
  readonly value: string;
}

/** An effective section (the same view as Python's `dict(cp.items(section))`). */
export interface ResolvedSection {
  readonly name: string;
  /** Where the section header was (first source that defined it). */
  readonly location: SourceLocation;
  /** Effective keys in definition order. */
  readonly entries: ReadonlyMap<string, ResolvedEntry>;
}

/** Severity of a configuration problem: errors stop the load, warnings are printed. */
export type ProblemSeverity = 'error' | 'warning';

/** One configuration problem, always located as precisely as possible. */
export interface ConfigProblem {
  readonly severity: ProblemSeverity;
  /** An error code from src/errors.ts (e.g. `APF_ERR_CONFIG_PARSE`). */
  readonly code: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly section?: string;
  readonly key?: string;
}

/** Renders a problem as `file:line: [section] key: message` (parts omitted when unknown). */
export function formatProblem(p: ConfigProblem): string {
  const where = p.file === undefined ? '' : p.line === undefined ? `${p.file}: ` : `${p.file}:${p.line}: `;
  const sec = p.section === undefined ? '' : `[${p.section}] `;
  const key = p.key === undefined ? '' : `${p.key}: `;
  return `${p.severity}: ${where}${sec}${key}${p.message}`;
}

/** Native-state → APF-state tables from mappings.conf (section name → native value → APF state). */
export type Mappings = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** Settings of the `[Factory]` section of autopyfactory.conf that the core reads. */
export interface FactorySettings {
  /** `factoryId`: pilot env PANDA_JSID/APFFID, pilot tag +APF_FACTORY, monitor id. */
  readonly factoryId: string;
  /** `factoryAdminEmail`: JDL `notify_user`, monitor registration. */
  readonly factoryAdminEmail: string;
  /** `factorySMTPServer` (optional here; APF made it mandatory). */
  readonly factorySMTPServer: string | undefined;
  /** `factoryUser`: pilot env FACTORYUSER; also the user the daemon runs as. */
  readonly factoryUser: string | undefined;
  /** `enablequeues` @defaultValue true */
  readonly enablequeues: boolean;
  /** `cycles`: cycles per queue, undefined = forever. */
  readonly cycles: number | undefined;
  /** `factory.sleep` in seconds. @defaultValue 30 */
  readonly factorySleep: number;
  /** `baseLogDir`: root of pilot logs and submit files (no trailing `/`). */
  readonly baseLogDir: string;
  /** `baseLogDirUrl`: URL of the same tree (no trailing `/`). */
  readonly baseLogDirUrl: string;
  /** `cleanlogs.keepdays` @defaultValue 14 */
  readonly cleanlogsKeepdays: number;
  /** `maxperfactory.maximum` (MaxPerFactory). */
  readonly maxPerFactory: number | undefined;
  /** Redis and cluster settings (apf additions). */
  readonly cluster: ClusterSettings;
  /** Web server, log server and log cleanup settings. */
  readonly web: WebSettings;
  /** Every effective key of `[Factory]` (plugins fall back to these, e.g. `wmsstatus.panda.sleep`). */
  readonly raw: ReadonlyMap<string, ResolvedEntry>;
}

/** The web server (monitor, API, pilot logs) and the log cleanup. */
export interface WebSettings {
  /** Port: `web.port`, else the port of `baseLogDirUrl`, else 25880. */
  readonly port: number;
  readonly bind: string;
  readonly adminTokenFile: string | undefined;
  /** `logserver.enabled` / `.index` / `.allowrobots`. */
  readonly logserver: { readonly enabled: boolean; readonly index: boolean; readonly allowRobots: boolean };
  /** `cleanlogs.maxdiskpercent`. */
  readonly cleanMaxDiskPercent: number | undefined;
}

/** How to reach Redis. Passwords are never in the config: only the files that hold them. */
export interface RedisSettings {
  /** `redis.url`; undefined = embedded private redis-server (unless sentinels are set). */
  readonly url: string | undefined;
  readonly username: string | undefined;
  readonly passwordFile: string | undefined;
  readonly tls: { readonly ca: string | undefined; readonly cert: string | undefined; readonly key: string | undefined };
  /** Sentinel `host:port` list; empty = no Sentinel. */
  readonly sentinels: readonly string[];
  readonly sentinelMaster: string;
  readonly sentinelPasswordFile: string | undefined;
  /** Per-command deadline, ms. */
  readonly commandTimeoutMs: number;
}

/** Cluster tuning (all durations in ms). */
export interface ClusterSettings {
  readonly redis: RedisSettings;
  /** `instance.id`, if set. */
  readonly instanceId: string | undefined;
  readonly stateDir: string;
  readonly prefix: string;
  readonly concurrency: number;
  readonly leaseTtlMs: number;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  readonly offlineGraceMs: number;
  readonly history: number;
  readonly reconcileIntervalMs: number;
  /** `cluster.spread_step` (ms): the grid of the queues' phases within their interval (0: none). */
  readonly spreadStepMs: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly shutdownTimeoutMs: number;
}

/** The plugin chosen for one role of a queue, with its parsed options. */
export interface PluginChoice {
  /** Canonical plugin id (`MaxPerCycle`), whatever case the INI used. */
  readonly id: string;
  /** Typed options parsed from the plugin's key slice. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** One APF queue (a section of queues.conf), validated. */
export interface QueueConfig {
  /** Section name: the queue's identity (+MATCH_APF_QUEUE, log dir, apfmon label). */
  readonly name: string;
  readonly location: SourceLocation;
  /** `enabled` and the factory's `enablequeues` both true. */
  readonly enabled: boolean;
  /** `wmsqueue`: PanDA queue or Condor-WMS key value. */
  readonly wmsqueue: string | undefined;
  /** `batchqueue` (interpolation only). */
  readonly batchqueue: string | undefined;
  /** `apfqueue.sleep` in seconds. @defaultValue 360 */
  readonly sleep: number;
  /** Sched chain, left to right. */
  readonly sched: readonly PluginChoice[];
  /** WMS status plugin, or undefined for none. */
  readonly wmsstatus: PluginChoice | undefined;
  readonly batchstatus: PluginChoice;
  readonly batchsubmit: PluginChoice;
  /** `monitorsection` names (monitor.conf sections). */
  readonly monitorsections: readonly string[];
  /** `cleanlogs.keepdays` for this queue, if set. */
  readonly cleanlogsKeepdays: number | undefined;
  /** `executable` (pilot wrapper path). */
  readonly executable: string | undefined;
  /** `executable.arguments`, verbatim. */
  readonly arguments: string | undefined;
  /** Every effective key of the section. */
  readonly raw: ReadonlyMap<string, ResolvedEntry>;
}

/** A credential profile of auth.conf / proxy.conf (only what submission needs today). */
export interface AuthProfile {
  readonly name: string;
  /** `plugin`: X509 or SSH. */
  readonly plugin: string;
  /** `x509.proxyfile` (auth.conf) or `proxyfile` (proxy.conf). */
  readonly proxyfile: string | undefined;
  readonly raw: ReadonlyMap<string, ResolvedEntry>;
}

/** A monitor.conf section. */
export interface MonitorSection {
  readonly name: string;
  /** `monitorplugin`: APF or Dummy. */
  readonly plugin: string;
  /** `monitorURL`. */
  readonly url: string | undefined;
  readonly raw: ReadonlyMap<string, ResolvedEntry>;
}

/** The whole loaded configuration. */
export interface ApfConfig {
  /** Directory the config was read from. */
  readonly dir: string;
  /** Every source read, in order. */
  readonly sources: readonly string[];
  readonly factory: FactorySettings;
  /** Every queue section (enabled or not), in config order. */
  readonly queues: ReadonlyMap<string, QueueConfig>;
  readonly auth: ReadonlyMap<string, AuthProfile>;
  readonly monitors: ReadonlyMap<string, MonitorSection>;
  readonly mappings: Mappings;
  /** Effective sections per file family, for `check-config --print`. */
  readonly effective: {
    readonly factory: readonly ResolvedSection[];
    readonly queues: readonly ResolvedSection[];
    readonly auth: readonly ResolvedSection[];
    readonly monitor: readonly ResolvedSection[];
    readonly mappings: readonly ResolvedSection[];
  };
  /** sha256 of the effective configuration (shown per instance; mismatches are warned). */
  readonly hash: string;
  /** Warnings found while loading (the load succeeded). */
  readonly warnings: readonly ConfigProblem[];
}
