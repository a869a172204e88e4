/** `apf sim panda`: run the PanDA simulator (a test tool, not PanDA) until interrupted. */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import type { CliCommand } from '../command.ts';
import { loadScenario, startPandaSim } from '../../sim/panda/index.ts';

const USAGE = `apf sim panda --port PORT [--host ADDRESS] --scenario FILE

  Runs the PanDA simulator (a test tool, NOT PanDA) until SIGINT/SIGTERM, and prints its base URL
  on stdout. Point a queue at it with
    wmsstatus.panda.url = <printed URL>
    wmsstatus.panda.sitestatus.url = <printed URL>/cric/api/atlas/pandaqueue/query/?json

  --port PORT        TCP port (0 = any free port)
  --host ADDRESS     listen address (default 127.0.0.1)
  --scenario FILE    scenario JSON (example: config/sim/panda-scenario.json)

  Runtime control: POST/DELETE/GET <url>/_sim/faults, POST <url>/_sim/scenario, GET <url>/_sim/state.`;

function usageError(io: Parameters<CliCommand['run']>[1], message: string): number {
  io.stderr.write(`apf sim panda: ${message}\n\nusage: ${USAGE}\n`);
  return 2;
}

/** The `apf sim panda` command. */
export const simPandaCommand: CliCommand = {
  name: 'sim panda',
  summary: 'run the PanDA simulator (test tool, not PanDA) with a scenario file',
  usage: USAGE,
  async run(args, io) {
    let values: { port?: string; host?: string; scenario?: string };
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: { port: { type: 'string' }, host: { type: 'string' }, scenario: { type: 'string' } },
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      return usageError(io, (err as Error).message);
    }
    if (values.port === undefined) return usageError(io, '--port is required');
    if (values.scenario === undefined) return usageError(io, '--scenario is required');
    if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) return usageError(io, `--port "${values.port}" is not a TCP port`);
    const scenario = await loadScenario(resolve(io.cwd, values.scenario));
    if (io.signal.aborted) return 0;
    const sim = await startPandaSim({ port: Number(values.port), host: values.host ?? '127.0.0.1', scenario });
    io.stdout.write(`${sim.url}\n`);
    io.stderr.write(`PanDA simulator (not PanDA) listening on ${sim.url}; CRIC-like dump at ${sim.cricUrl}\n`);
    await new Promise<void>((done) => {
      if (io.signal.aborted) done();
      else io.signal.addEventListener('abort', () => done(), { once: true });
    });
    await sim.close();
    return 0;
  },
};
