/**
 * The keys of `[Factory]` (autopyfactory.conf) that apf reads, with APF's names and defaults.
 * APF made several of them mandatory without a default (`factory.sleep`, the status `sleep`s,
 * `authmanager.enabled`, `factorySMTPServer`); apf gives each a sane default instead.
 */
import { instanceIdProblem } from '../util/instance-id.ts';
import { opt, type OptionSpec } from './options.ts';

/** `instance.id`: an optional string refused unless it is a valid instance id (util/instance-id.ts). */
function instanceIdOption(doc: string): OptionSpec<string | undefined> {
  return {
    ...opt.optString(doc),
    parse: (t) => {
      const problem = instanceIdProblem(t);
      if (problem !== null) throw new Error(`${JSON.stringify(t)} ${problem}`);
      return t;
    },
  };
}

/** `[Factory]` options. Plugin keys such as `wmsstatus.panda.sleep` are read by their plugins. */
export const FACTORY_OPTIONS = {
  factoryId: opt.requiredString('Factory name: pilot env PANDA_JSID/APFFID, pilot tag +APF_FACTORY, monitor id'),
  factoryAdminEmail: opt.requiredString('Admin address: JDL notify_user, monitor registration'),
  factorySMTPServer: opt.optString('SMTP host for alerts (APF: mandatory; apf: optional)'),
  factoryMinEmailRepeatSeconds: opt.int('Minimum gap between two identical alert emails (s)', 3600, { min: 0 }),
  factoryUser: opt.optString('Pilot env FACTORYUSER; the user the daemon runs as'),
  enablequeues: opt.bool('Global queue switch', true),
  abort_no_queues: opt.bool('Stop the factory when no queue is enabled', false),
  cycles: opt.optInt('Cycles per queue (unset = forever; 0 = build queues but never run them)', { min: 0 }),
  'factory.sleep': opt.int('Main loop period (s) (APF: mandatory)', 30, { min: 1 }),
  queueConf: opt.list('Comma list of queue config sources (path, file://path, http(s)://URL); default <config dir>/queues.conf'),
  queueDirConf: opt.optString('Directory of *.conf queue files; default <config dir>/queues.d; None disables'),
  authConf: opt.list('Comma list of auth config sources; default <config dir>/auth.conf'),
  proxyConf: opt.list('Legacy (<=2.4.10) proxy config sources; default <config dir>/proxy.conf'),
  monitorConf: opt.list('Comma list of monitor config sources; default <config dir>/monitor.conf'),
  mappingsConf: opt.list('Comma list of mappings sources; default <config dir>/mappings.conf, built-in tables when absent'),
  'authmanager.enabled': opt.bool('Build the credential manager (APF: effectively mandatory)', false),
  'config.reconfig': opt.bool('Re-read the configuration periodically', false),
  'config.reconfig.interval': opt.int('Re-read period (s)', 3600, { min: 1 }),
  baseLogDir: opt.requiredString('Root of pilot logs and submit files (no trailing /)'),
  baseLogDirUrl: opt.requiredString('URL of baseLogDir for pilots and monitors (no trailing /)'),
  'logserver.enabled': opt.bool('Serve baseLogDir over HTTP', true),
  'logserver.index': opt.bool('Directory listings in the log server', true),
  'logserver.allowrobots': opt.bool('Let robots index the log server', false),
  'cleanlogs.keepdays': opt.int('Days of pilot logs kept (queues may override)', 14, { min: 0 }),
  'cleanlogs.maxdiskpercent': opt.optInt('Remove the oldest day directories while the disk of baseLogDir is fuller than this (%)', { min: 1, max: 100 }),
  'web.port': opt.optInt('Port of the monitor/API/log server (default: the port of baseLogDirUrl, else 25880); --web-port / $APF_WEB_PORT override', { min: 0, max: 65535 }),
  'web.bind': opt.string('Address the web server listens on', '0.0.0.0'),
  'web.admin_token_file': opt.optString('File holding the admin bearer token (unset: admin actions disabled)'),
  'maxperfactory.maximum': opt.optInt('Cap on pending+running pilots of the whole factory (MaxPerFactory)'),

  // --- apf additions: the cluster (docs/operations.md) ---
  'redis.url': opt.optString('Redis URL (redis:// or rediss://); $APF_REDIS_URL overrides; unset = private embedded redis-server'),
  'redis.username': opt.optString('Redis ACL user'),
  'redis.password_file': opt.optString('File holding the Redis password (never put it in the config)'),
  'redis.tls.ca': opt.optString('CA bundle for rediss://'),
  'redis.tls.cert': opt.optString('Client certificate for rediss://'),
  'redis.tls.key': opt.optString('Client key for rediss://'),
  'redis.sentinels': opt.list('Sentinel host:port list (Redis through Sentinel)'),
  'redis.sentinel.master': opt.string('Sentinel master name', 'mymaster'),
  'redis.sentinel.password_file': opt.optString('File holding the Sentinels\' password'),
  'redis.timeout': opt.float('Deadline of one Redis command (s)', 5, { min: 0.05 }),
  'instance.id': instanceIdOption('Stable instance id (default: the hostname); --instance overrides'),
  'state.dir': opt.string('State directory (embedded Redis data)', '/var/lib/apf'),
  'cluster.prefix': opt.string('Prefix of every Redis key of this cluster', 'apf'),
  'cluster.concurrency': opt.int('Queue cycles one instance runs at once', 16, { min: 1 }),
  'cluster.lease_ttl': opt.float('Queue lease TTL (s); a dead holder\'s queue is free after it', 30, { min: 0.2 }),
  'cluster.heartbeat': opt.float('Instance heartbeat period (s)', 10, { min: 0.05 }),
  'cluster.dead_after': opt.float('An instance without heartbeat for this long is offline (s)', 30, { min: 0.1 }),
  'cluster.offline_grace': opt.float('Pilot counts of an offline instance keep counting this long (s)', 7200, { min: 0 }),
  'cluster.history': opt.int('Cycle records kept per queue', 500, { min: 1 }),
  'cluster.spread_step': opt.float('Queue cycles start on steps of this many seconds within their interval, so cycles due together share Redis round trips (0: every queue its own phase)', 0.5, { min: 0 }),
  'cluster.reconcile_interval': opt.float('How often the reconciler re-checks the schedulers (s)', 60, { min: 0.1 }),
  'cluster.lock_duration': opt.float('BullMQ job lock duration (s)', 30, { min: 0.1 }),
  'cluster.stalled_interval': opt.float('BullMQ stalled-job check period (s)', 30, { min: 0.1 }),
  'cluster.shutdown_timeout': opt.float('On SIGTERM, time to finish in-flight cycles (s)', 60, { min: 0 }),
} as const;

/** Keys every queue section may carry (the plugin keys are read by the plugins). */
export const QUEUE_OPTIONS = {
  enabled: opt.bool('Create this queue (a missing key counts as False, as in APF)', false),
  wmsqueue: opt.optString('WMS queue: PanDA queue name, or the Condor-WMS key value'),
  batchqueue: opt.optString('PanDA queue nickname (interpolation only)'),
  'apfqueue.sleep': opt.int('Cycle period (s) (APF: no default; apf: 360)', 360, { min: 1 }),
  schedplugin: opt.list('Sched chain, left to right (mandatory)'),
  wmsstatusplugin: opt.optString('WMS status plugin (None = no WMS)'),
  batchstatusplugin: opt.optString('Batch status plugin (mandatory)'),
  batchsubmitplugin: opt.optString('Batch submit plugin (mandatory)'),
  monitorsection: opt.list('monitor.conf sections to report to'),
  'cleanlogs.keepdays': opt.optInt('Days of this queue\'s pilot logs kept', { min: 0 }),
  executable: opt.optString('Pilot wrapper path (mandatory for the condor submit plugins)'),
  'executable.arguments': opt.optString('Wrapper arguments, verbatim'),
} as const;
