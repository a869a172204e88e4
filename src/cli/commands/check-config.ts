/** `apf check-config`: validate the configuration, or print the effective sections. */
import type { CliCommand } from '../command.ts';
import { CONFIG_OPTION, UsageError, loadOrReport, parse } from '../common.ts';
import { CONFIG_FAMILIES, effectiveJson, type ConfigFamily } from '../../config/effective.ts';

const FAMILIES = CONFIG_FAMILIES;
type Family = ConfigFamily;

export const checkConfigCommand: CliCommand = {
  name: 'check-config',
  summary: 'validate the configuration (exit 1 listing every problem), or print its effective sections',
  usage: `apf check-config [--config DIR] [--print [--file factory|queues|auth|monitor|mappings]]

  Reads APF's files from DIR (default /etc/apf, else /etc/autopyfactory): autopyfactory.conf,
  queues.conf + queues.d/*.conf, auth.conf / proxy.conf, monitor.conf, mappings.conf.
  Exit 0 when valid, 1 with every problem (file:line [section] key: message) otherwise.
  --print   print {section: {key: value}} after DEFAULT merge and %(key)s interpolation
            (factory and queue sections; --file picks one family)`,
  async run(args, io) {
    const { values } = parse(args, { ...CONFIG_OPTION, print: { type: 'boolean' }, file: { type: 'string' } });
    if (values.file !== undefined && !(FAMILIES as readonly string[]).includes(values.file)) {
      throw new UsageError(`--file must be one of ${FAMILIES.join(', ')}`);
    }
    const config = await loadOrReport(values.config, io, values.print === true);
    if (config === undefined) return 1;
    if (values.print === true) {
      const families: Family[] = values.file === undefined ? ['factory', 'queues'] : [values.file as Family];
      io.stdout.write(`${JSON.stringify(effectiveJson(config, families), null, 2)}\n`);
      return 0;
    }
    const enabled = [...config.queues.values()].filter((q) => q.enabled).length;
    io.stdout.write(
      `configuration valid: ${config.queues.size} queue section(s), ${enabled} enabled, ${config.warnings.length} warning(s); hash ${config.hash.slice(0, 12)}\n`,
    );
    return 0;
  },
};
