/** `apf start`: run this host's instance of the factory until SIGTERM/SIGINT; SIGHUP reloads, SIGUSR1 reopens the log. */
import type { CliCommand } from '../command.ts';
import { CONFIG_OPTION, UsageError, parse } from '../common.ts';
import { createLogger } from '../../logging/logger.ts';
import { REOPEN_SIGNAL, openLogFile, type LogFile } from '../../logging/destination.ts';
import { defaultConfigDir, loadConfig } from '../../config/load.ts';
import { formatProblem } from '../../config/types.ts';
import { FactoryDaemon } from '../../core/daemon.ts';
import { ApfError, describeError } from '../../errors.ts';
import { loadCommandRunner } from '../../util/exec.ts';
import { loadHttpClient } from '../../util/http.ts';
import { enterRunAs, removePidFile, writePidFile, type RunAsSettings } from '../../util/privileges.ts';
import { resolve } from 'node:path';

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'run this instance of the factory (joins the cluster in Redis; SIGHUP reloads, SIGTERM stops)',
  usage: `apf start [--config DIR] [--instance ID] [--web-port P] [--log FILE] [--pid-file FILE] [--runas USER] [--allow-root]

  Redis comes from [Factory] redis.url or $APF_REDIS_URL (redis://, rediss://, or Sentinel via
  redis.sentinels + redis.sentinel.master); without either, a private redis-server is started with
  its data under state.dir. The instance id is --instance, else instance.id, else the hostname.
  SIGTERM/SIGINT: stop taking cycles, finish in-flight ones (cluster.shutdown_timeout), release
  leases, deregister; a second signal forces exit. SIGHUP: reload the configuration (an invalid
  one is rejected with every error and the old one keeps running).
  --log FILE ($APF_LOG_FILE): log records go to FILE instead of stderr; SIGUSR1 reopens it, for
  logrotate (deploy/logrotate/apf). --pid-file FILE ($APF_PID_FILE): write the process id there.
  Started as root, apf gives the log file, the pid file and state.dir to --runas USER ($APF_RUNAS),
  else to factoryUser, and drops to that user (groups, gid, uid; HOME and the working directory
  are its home). An unknown user exits 1; so does root with no user, unless --allow-root
  ($APF_ALLOW_ROOT=1) asks to run as root deliberately.`,
  async run(args, io) {
    const { values } = parse(args, {
      ...CONFIG_OPTION,
      instance: { type: 'string' },
      'web-port': { type: 'string' },
      log: { type: 'string' },
      'pid-file': { type: 'string' },
      runas: { type: 'string' },
      'allow-root': { type: 'boolean' },
    });
    const webPort = values['web-port'] ?? io.env['APF_WEB_PORT'];
    if (webPort !== undefined && !/^\d+$/.test(webPort)) throw new UsageError('--web-port must be a port number');
    const configDir = resolve(io.cwd, values.config ?? io.env['APF_CONFIG_DIR'] ?? defaultConfigDir());
    const logPath = nonEmpty(values.log ?? io.env['APF_LOG_FILE']);
    const pidPath = nonEmpty(values['pid-file'] ?? io.env['APF_PID_FILE']);
    // SIGUSR1 is handled from here on, log file or not: unhandled, it would open Node's inspector.
    const ignoreUsr1 = (): void => undefined;
    let logFile: LogFile | undefined;
    try {
      logFile = logPath === undefined ? undefined : openLogFile({ path: resolve(io.cwd, logPath) });
    } catch (err) {
      io.stderr.write(`apf start: ${describeError(err)}\n`);
      return 1;
    }
    if (logFile === undefined) process.on(REOPEN_SIGNAL, ignoreUsr1);
    const logger = createLogger({ level: io.env['APF_LOG_LEVEL'] ?? 'info', ...(logFile === undefined ? {} : { destination: logFile.stream }) });
    logFile?.onReopen((err) => {
      if (err === null) logger.info({ file: logFile.path }, 'log file reopened');
      else logger.error({ file: logFile.path, err: err.message }, 'log file not reopened: records still go to the old file');
    });
    const pidFile = pidPath === undefined ? undefined : resolve(io.cwd, pidPath);
    const cleanup = (): void => {
      process.off(REOPEN_SIGNAL, ignoreUsr1);
      if (pidFile !== undefined) removePidFile(pidFile);
      logFile?.close();
    };
    const { version } = await import('../main.ts');
    let daemon: FactoryDaemon;
    try {
      if (pidFile !== undefined) writePidFile(pidFile);
      await enterRunAs({
        runas: nonEmpty(values.runas ?? io.env['APF_RUNAS']),
        allowRoot: values['allow-root'] === true || io.env['APF_ALLOW_ROOT'] === '1',
        settings: () => runAsSettings(configDir, webPort === undefined ? undefined : Number(webPort)),
        files: [logFile?.path, pidFile].filter((f) => f !== undefined),
        logger,
        // The libraries imported on first use are loaded while the install is surely readable.
        beforeDrop: async () => {
          await Promise.all([loadHttpClient(), loadCommandRunner()]);
        },
      });
      daemon = await FactoryDaemon.start({
        configDir,
        logger,
        env: io.env,
        version: version(),
        webPort: webPort === undefined ? null : Number(webPort),
        ...(values.instance === undefined ? {} : { instanceId: values.instance }),
      });
    } catch (err) {
      io.stderr.write(`apf start: ${describeError(err)}\n`);
      if (logFile !== undefined) logger.fatal({ err: describeError(err) }, 'not started');
      cleanup();
      return 1;
    }
    const onHup = (): void => void daemon.reload();
    process.on('SIGHUP', onHup);
    // until SIGTERM/SIGINT, or until the daemon stops by itself (its instance id was taken over)
    await Promise.race([
      daemon.stopped,
      new Promise<void>((r) => (io.signal.aborted ? r() : io.signal.addEventListener('abort', () => r(), { once: true }))),
    ]);
    process.off('SIGHUP', onHup);
    await daemon.stop();
    cleanup();
    return 0;
  },
};

/** `undefined` for an unset or empty value (an empty variable in an environment file means "not set"). */
function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/**
 * What the privilege drop needs from the configuration (read only when started as root). Only
 * an explicit web port (--web-port, web.port) is checked against 1024: one derived from
 * baseLogDirUrl often names the port of a front-end web server.
 */
async function runAsSettings(configDir: string, webPortFlag: number | undefined): Promise<RunAsSettings> {
  const loaded = await loadConfig({ dir: configDir });
  if (loaded.config === undefined) {
    const errors = loaded.problems.filter((p) => p.severity === 'error');
    throw new ApfError('APF_ERR_CONFIG_INVALID', `configuration invalid (${errors.length} error(s)):\n${errors.map(formatProblem).join('\n')}`, {
      details: { problems: errors },
    });
  }
  const f = loaded.config.factory;
  const at = f.raw.get('factoryUser');
  return {
    factoryUser: f.factoryUser,
    factoryUserAt: at === undefined ? undefined : `${at.file}:${at.line}`,
    stateDir: f.cluster.stateDir,
    webPort: webPortFlag ?? (f.raw.has('web.port') ? f.web.port : null),
  };
}
