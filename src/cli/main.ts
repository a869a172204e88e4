#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4 --heap-growing-percent=20
/**
 * The `apf` executable: a static table of commands, one place for signal handling and exit codes.
 * Exit statuses: 0 success, 1 invalid configuration or failed check, 2 usage error, 3 internal
 * error, 4 some queue's cycle failed (run-once), 130 interrupted twice.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError, type CliCommand, type CliIo } from './command.ts';
import { describeError, isApfError } from '../errors.ts';

/** A command of the table: its name and summary, and its module loaded only when it runs. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<CliCommand>;
}

/**
 * Every command, in help order. Modules load lazily so that a quick command (or a simulated
 * condor_q, which runs through this entry) does not pay for the whole program.
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'check-config', summary: 'validate the configuration (exit 1 listing every problem), or print its effective sections', load: async () => (await import('./commands/check-config.ts')).checkConfigCommand },
  { name: 'plan', summary: 'show what each queue would submit now and why (no submission)', load: async () => (await import('./commands/plan.ts')).planCommand },
  { name: 'run-once', summary: 'run one real cycle (submit included) for the given queues, in parallel, each isolated', load: async () => (await import('./commands/run-once.ts')).runOnceCommand },
  { name: 'snapshot', summary: 'write the live WMS and batch status as snapshot files (replay them with apf plan)', load: async () => (await import('./commands/snapshot.ts')).snapshotCommand },
  { name: 'list-plugins', summary: 'list every plugin by family with its keys and defaults', load: async () => (await import('./commands/list-plugins.ts')).listPluginsCommand },
  { name: 'start', summary: 'run this instance of the factory (joins the cluster in Redis; SIGHUP reloads, SIGTERM stops)', load: async () => (await import('./commands/start.ts')).startCommand },
  { name: 'status', summary: 'show instances, queues (last cycle, cluster-wide counts) and batch sources', load: async () => (await import('./commands/status.ts')).statusCommand },
  { name: 'pause', summary: 'pause a queue cluster-wide (its cycles are skipped)', load: async () => (await import('./commands/admin.ts')).pauseCommand },
  { name: 'resume', summary: 'resume a paused queue', load: async () => (await import('./commands/admin.ts')).resumeCommand },
  { name: 'drain', summary: 'stop an instance taking cycles (it stays registered)', load: async () => (await import('./commands/admin.ts')).drainCommand },
  { name: 'undrain', summary: 'let a drained instance take cycles again', load: async () => (await import('./commands/admin.ts')).undrainCommand },
  { name: 'reload', summary: 'make every instance reload its configuration', load: async () => (await import('./commands/admin.ts')).reloadCommand },
  { name: 'decommission', summary: "drop a retired instance's pilot counts and registration at once", load: async () => (await import('./commands/admin.ts')).decommissionCommand },
  { name: 'drill', summary: 'run a failover drill: freeze (or --kill) an instance, measure takeover per queue, count duplicates', load: async () => (await import('./commands/drill.ts')).drillCommand },
  { name: 'demo', summary: 'run a 3-instance cluster on this machine against the simulators, with a live summary', load: async () => (await import('./commands/demo.ts')).demoCommand },
  { name: 'sim panda', summary: 'run the PanDA simulator (an HTTP server speaking PanDA\'s formats; a test tool)', load: async () => (await import('./commands/sim-panda.ts')).simPandaCommand },
  { name: 'sim condor', summary: 'set up / run the HTCondor simulator (condor_submit, condor_q, condor_history, condor_rm; a test tool)', load: async () => (await import('./commands/sim-condor.ts')).simCondorCommand },
];

/** The package version (from package.json next to src/ or dist/). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'apf — a pilot factory for grid computing (AutoPyFactory-compatible)',
    '',
    'usage: apf <command> [options]   (apf <command> --help for details)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

/** Finds the command whose (possibly multi-word) name starts `argv`. */
export function findCommand(argv: readonly string[]): { command: CommandEntry; rest: string[] } | undefined {
  let best: { command: CommandEntry; rest: string[] } | undefined;
  for (const c of COMMANDS) {
    const words = c.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (best === undefined || words.length > best.command.name.split(' ').length)) {
      best = { command: c, rest: argv.slice(words.length) };
    }
  }
  return best;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit status. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    io.stdout.write(help());
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version' || argv[0] === 'version') {
    io.stdout.write(`apf ${version()}\n`);
    return 0;
  }
  const found = findCommand(argv);
  if (found === undefined) {
    io.stderr.write(`apf: unknown command "${argv.join(' ')}"\n\n${help()}`);
    return 2;
  }
  const { rest } = found;
  const command = await found.command.load();
  // --help before any `--`/`exec` word (what follows `exec` belongs to a simulated tool)
  const own = rest.slice(0, [rest.indexOf('exec'), rest.indexOf('--'), rest.length].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b)));
  if (own.includes('--help') || own.includes('-h')) {
    io.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`apf ${command.name}: ${err.message}\n\nusage: ${command.usage}\n`);
      return 2;
    }
    if (isApfError(err)) {
      io.stderr.write(`apf ${command.name}: ${describeError(err)}\n`);
      return err.code === 'APF_ERR_USAGE' ? 2 : 1;
    }
    io.stderr.write(`apf ${command.name}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 3;
  }
}

/** True when this module is the process entry (also through the npm bin symlink). */
function isEntry(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntry()) {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(`apf: ${sig} received, stopping (send again to force)\n`);
    controller.abort(new Error(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`apf: fatal: ${String(err)}\n`);
      process.exitCode = 3;
    },
  );
}
