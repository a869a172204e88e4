/**
 * The keys of `[Factory]` (autopyfactory.conf) that apf reads, with APF's names and defaults.
 * APF made several of them mandatory without a default (`factory.sleep`, the status `sleep`s,
 * `authmanager.enabled`, `factorySMTPServer`); apf gives each a sane default instead.
 */
import { opt } from './options.ts';

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
  'maxperfactory.maximum': opt.optInt('Cap on pending+running pilots of the whole factory (MaxPerFactory)'),
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
