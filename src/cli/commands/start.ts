/** `apf start`: run this host's instance of the factory until SIGTERM/SIGINT; SIGHUP reloads. */
import type { CliCommand } from '../command.ts';
import { CONFIG_OPTION, UsageError, parse } from '../common.ts';
import { createLogger } from '../../logging/logger.ts';
import { defaultConfigDir } from '../../config/load.ts';
import { FactoryDaemon } from '../../core/daemon.ts';
import { describeError } from '../../errors.ts';
import { resolve } from 'node:path';

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'run this instance of the factory (joins the cluster in Redis; SIGHUP reloads, SIGTERM stops)',
  usage: `apf start [--config DIR] [--instance ID] [--web-port P]

  Redis comes from [Factory] redis.url or $APF_REDIS_URL (redis://, rediss://, or Sentinel via
  redis.sentinels + redis.sentinel.master); without either, a private redis-server is started with
  its data under state.dir. The instance id is --instance, else instance.id, else the hostname.
  SIGTERM/SIGINT: stop taking cycles, finish in-flight ones (cluster.shutdown_timeout), release
  leases, deregister; a second signal forces exit. SIGHUP: reload the configuration (an invalid
  one is rejected with every error and the old one keeps running).`,
  async run(args, io) {
    const { values } = parse(args, { ...CONFIG_OPTION, instance: { type: 'string' }, 'web-port': { type: 'string' } });
    const webPort = values['web-port'] ?? io.env['APF_WEB_PORT'];
    if (webPort !== undefined && !/^\d+$/.test(webPort)) throw new UsageError('--web-port must be a port number');
    const logger = createLogger({ level: io.env['APF_LOG_LEVEL'] ?? 'info' });
    const { version } = await import('../main.ts');
    let daemon: FactoryDaemon;
    try {
      daemon = await FactoryDaemon.start({
        configDir: resolve(io.cwd, values.config ?? io.env['APF_CONFIG_DIR'] ?? defaultConfigDir()),
        logger,
        env: io.env,
        version: version(),
        webPort: webPort === undefined ? null : Number(webPort),
        ...(values.instance === undefined ? {} : { instanceId: values.instance }),
      });
    } catch (err) {
      io.stderr.write(`apf start: ${describeError(err)}\n`);
      return 1;
    }
    const onHup = (): void => void daemon.reload();
    process.on('SIGHUP', onHup);
    await new Promise<void>((r) => (io.signal.aborted ? r() : io.signal.addEventListener('abort', () => r(), { once: true })));
    process.off('SIGHUP', onHup);
    await daemon.stop();
    return 0;
  },
};
