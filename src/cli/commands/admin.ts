/**
 * The admin commands (`apf pause|resume QUEUE`, `apf drain|undrain|decommission INSTANCE`,
 * `apf reload`): thin wrappers over src/core/admin.ts, which the web admin API shares.
 */
import type { CliCommand } from '../command.ts';
import { CONFIG_OPTION, UsageError, loadOrReport, parse } from '../common.ts';
import { withCluster } from '../cluster.ts';
import * as admin from '../../core/admin.ts';

type Op = (ctx: admin.AdminContext, target: string) => Promise<admin.AdminResult>;

function adminCommand(name: string, what: 'QUEUE' | 'INSTANCE' | null, summary: string, op: Op): CliCommand {
  const usage = `apf ${name} [--config DIR]${what === null ? '' : ` ${what}`}`;
  return {
    name,
    summary,
    usage,
    async run(args, io) {
      const { values, positionals } = parse(args, CONFIG_OPTION, true);
      if (positionals.length !== (what === null ? 0 : 1)) throw new UsageError(what === null ? 'no argument expected' : `name one ${what.toLowerCase()}`);
      const config = await loadOrReport(values.config, io, true);
      if (config === undefined) return 1;
      const result = await withCluster(config, io, (h) => op({ redis: h.redis, keys: h.keys, config, who: h.who }, positionals[0] ?? '*'));
      io.stdout.write(`${result.message}\n`);
      return 0;
    },
  };
}

export const pauseCommand = adminCommand('pause', 'QUEUE', 'pause a queue cluster-wide (its cycles are skipped)', admin.pauseQueue);
export const resumeCommand = adminCommand('resume', 'QUEUE', 'resume a paused queue', admin.resumeQueue);
export const drainCommand = adminCommand('drain', 'INSTANCE', 'stop an instance taking cycles (it stays registered)', admin.drainInstance);
export const undrainCommand = adminCommand('undrain', 'INSTANCE', 'let a drained instance take cycles again', admin.undrainInstance);
export const decommissionCommand = adminCommand(
  'decommission',
  'INSTANCE',
  "drop a retired instance's pilot counts and registration at once",
  admin.decommissionInstance,
);
export const reloadCommand = adminCommand('reload', null, 'make every instance reload its configuration', (ctx) => admin.reloadCluster(ctx));
