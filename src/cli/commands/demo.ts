/**
 * `apf demo` (`npm run demo`): a whole cluster on this machine with nothing installed but Node and
 * redis-server — a private redis-server, the PanDA simulator with demand that changes over time,
 * one HTCondor simulator per instance (each submit host has its own schedd), three `apf start`
 * instances, and a live summary. Ctrl-C stops everything cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliCommand } from '../command.ts';
import { UsageError, parse } from '../common.ts';
import { cliEntry } from './sim-condor.ts';
import { createLogger } from '../../logging/logger.ts';
import { startEmbeddedRedis } from '../../coordination/embedded-redis.ts';
import { createRedis, waitForRedis } from '../../coordination/redis.ts';
import { Keys } from '../../coordination/keys.ts';
import { loadConfig } from '../../config/load.ts';
import { formatProblem } from '../../config/types.ts';
import { ApfError } from '../../errors.ts';
import { collectStatus, type StatusReport } from '../../core/status.ts';
import { startPandaSim } from '../../sim/panda/index.ts';
import { loadScenario } from '../../sim/panda/scenario.ts';
import { updateState, writeWrappers } from '../../sim/condor/admin.ts';

const EXAMPLE = fileURLToPath(new URL('../../../config/examples/sim/', import.meta.url));
const SCENARIO = fileURLToPath(new URL('../../../config/sim/panda-scenario.json', import.meta.url));

/** The demo's cluster timings: fast enough to watch, slow enough for 2 cores. */
const DEMO_FACTORY_EXTRA = `
# --- demo cluster timings (apf additions) ---
cluster.prefix = apfdemo
cluster.lease_ttl = 10
cluster.heartbeat = 2
cluster.dead_after = 8
cluster.offline_grace = 60
cluster.reconcile_interval = 10
cluster.lock_duration = 10
cluster.stalled_interval = 10
cluster.shutdown_timeout = 15
`;

function summary(s: StatusReport, started: number): string {
  const age = (ms: number): string => `${Math.round(ms / 1000)}s`;
  const lines = [`apf demo — ${age(Date.now() - started)} — Ctrl-C stops everything`, ''];
  lines.push('instance      state      heartbeat  last cycle  monitor');
  for (const i of s.instances) {
    lines.push(
      `${i.id.padEnd(13)} ${(i.alive ? i.state : 'OFFLINE').padEnd(10)} ${age(i.heartbeatAgeMs).padStart(9)}  ${(i.lastCycleAt === null ? '—' : `${age(Date.now() - i.lastCycleAt)} ago`).padEnd(10)}  ${i.webPort === null ? '—' : `http://127.0.0.1:${i.webPort}/`}`,
    );
  }
  lines.push('', 'queue          pending running  last: n → submit  on        outcome');
  for (const q of s.queues) {
    const l = q.lastCycle;
    lines.push(
      `${q.name.padEnd(14)} ${String(q.pending ?? '?').padStart(7)} ${String(q.running ?? '?').padStart(7)}  ${l === null ? '(waiting for its first cycle)' : `${String(l.n).padStart(4)} → ${String(l.submit).padEnd(6)}  ${l.instance.padEnd(9)} ${l.outcome}${l.blocked === null ? '' : ` (${l.blocked.slice(0, 60)})`}`}`,
    );
  }
  lines.push('', 'batch source (one schedd per instance)   state');
  for (const src of s.sources) lines.push(`${src.source.padEnd(40)} ${src.state}`);
  return lines.join('\n');
}

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'run a 3-instance cluster on this machine against the simulators, with a live summary',
  usage: `apf demo [--instances N] [--dir DIR] [--duration SECONDS] [--web-port P]

  Starts a private redis-server, the PanDA simulator (config/sim/panda-scenario.json), one HTCondor
  simulator per instance and N (default 3) apf instances, then shows a live summary. Ctrl-C (or
  --duration) stops everything. Logs and state stay in DIR (default a new temporary directory).
  Instance i serves its monitor on port P+i-1 (default 25880…; 0 picks free ports).
  Try, in another terminal: apf status / apf pause QUEUE / apf drill, with --config DIR/etc.`,
  async run(args, io) {
    const { values } = parse(args, { instances: { type: 'string' }, dir: { type: 'string' }, duration: { type: 'string' }, 'web-port': { type: 'string' } });
    const basePort = Number(values['web-port'] ?? '25880');
    if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65000) throw new UsageError('--web-port must be a port (0: any free ports)');
    const n = Number(values.instances ?? '3');
    if (!Number.isInteger(n) || n < 1 || n > 9) throw new UsageError('--instances must be 1..9');
    const duration = values.duration === undefined ? undefined : Number(values.duration) * 1000;
    const dir = resolve(io.cwd, values.dir ?? join(tmpdir(), `apf-demo-${process.pid}`));
    const etc = join(dir, 'etc');
    mkdirSync(etc, { recursive: true });
    const logger = createLogger({ level: 'warn', destination: undefined });
    const started = Date.now();

    const redis = await startEmbeddedRedis({ stateDir: join(dir, 'state'), logger });
    const panda = await startPandaSim({ port: 0, scenario: await loadScenario(SCENARIO) });
    const factory = readFileSync(join(EXAMPLE, 'autopyfactory.conf'), 'utf8')
      .replaceAll('http://127.0.0.1:25080/cric/api/atlas/pandaqueue/query/?json', panda.cricUrl)
      .replaceAll('http://127.0.0.1:25080', panda.url)
      .replace('/tmp/apf-sim/logs', join(dir, 'logs'));
    writeFileSync(join(etc, 'autopyfactory.conf'), `${factory}\nstate.dir = ${join(dir, 'state')}\n${DEMO_FACTORY_EXTRA}`);
    // cycles every 20 s instead of 60: something to watch within the first minute
    writeFileSync(join(etc, 'queues.conf'), readFileSync(join(EXAMPLE, 'queues.conf'), 'utf8').replace(/^apfqueue\.sleep = \d+$/m, 'apfqueue.sleep = 20'));

    const loaded = await loadConfig({ dir: etc });
    if (loaded.config === undefined) {
      await panda.close();
      await redis.stop();
      throw new ApfError('APF_ERR_CONFIG_INVALID', `demo configuration invalid: ${loaded.problems.map(formatProblem).join('; ')}`);
    }
    const config = loaded.config;
    const children: ChildProcess[] = [];
    for (let i = 1; i <= n; i++) {
      const state = join(dir, `condor-${i}`);
      const bin = join(dir, `bin-${i}`);
      await updateState(state, { set: { idleSeconds: 20, runSeconds: 180 } });
      writeWrappers(bin, state, process.execPath, cliEntry());
      const log = openSync(join(dir, `instance-${i}.log`), 'a');
      children.push(
        spawn(process.execPath, [cliEntry(), 'start', '--config', etc, '--instance', `demo-${i}`, '--web-port', String(basePort === 0 ? 0 : basePort + i - 1)], {
          env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, APF_REDIS_URL: redis.url, APF_LOG_LEVEL: 'info', APF_ALLOW_ROOT: '1' },
          stdio: ['ignore', log, log],
        }),
      );
    }
    io.stderr.write(`demo in ${dir} (config ${etc}, logs instance-N.log); PanDA simulator ${panda.url}\n`);

    const client = createRedis({ ...config.factory.cluster.redis, url: redis.url }, { role: 'demo', env: {} });
    await waitForRedis(client, 10_000);
    const keys = new Keys('apfdemo');
    const tty = (io.stdout as { isTTY?: boolean }).isTTY === true;
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    io.signal.addEventListener('abort', onAbort, { once: true });
    const timer = duration === undefined ? undefined : setTimeout(() => stop.abort(), duration);
    let last = '';
    while (!stop.signal.aborted) {
      try {
        last = summary(await collectStatus(client, keys, config), started);
        io.stdout.write(tty ? `\x1b[2J\x1b[H${last}\n` : '');
      } catch (err) {
        io.stderr.write(`status: ${String(err)}\n`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, 2000);
        stop.signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
      });
    }
    if (timer !== undefined) clearTimeout(timer);
    io.signal.removeEventListener('abort', onAbort);
    if (!tty) io.stdout.write(`${last}\n`);
    io.stderr.write('stopping the instances…\n');
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null) return r();
            c.once('exit', () => r());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 30_000).unref();
          }),
      ),
    );
    await client.quit().catch(() => client.disconnect());
    await panda.close();
    await redis.stop();
    io.stderr.write(`stopped; logs and state kept in ${dir}\n`);
    return 0;
  },
};
