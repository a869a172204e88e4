/**
 * `npm run bench:cluster`: what the coordination layer costs, and how fast the cluster fails over.
 *
 * Starts a real redis-server, writes a configuration of M queues that use the in-process fake
 * plugins (Static WMS, Static batch status, Noop submit: bench/cluster/config.ts), and spawns K
 * `apf start` processes — everything between the plugins and Redis is the product: BullMQ job
 * schedulers, leases with fencing tokens, slot claims, contributions, fenced commits. After the
 * reconciler has created every scheduler and a warm-up interval, it measures over `--duration`
 * intervals:
 *   - dispatch lag (cycle start − scheduler slot) from the cycle records in Redis;
 *   - CPU ms per cycle of each instance (/proc/<pid>/stat utime+stime deltas ÷ its cycles);
 *   - RSS per instance (/proc/<pid>/status VmRSS sampled every 5 s: mean and maximum; VmHWM for
 *     the peak), and how much of it is private to the instance and how much shared with the others
 *     (smaps_rollup: the node binary);
 *   - Redis commands per cycle, both the commands clients sent (counted inside each instance by
 *     bench/cluster/count-commands.ts from ioredis' diagnostics channel) and the commands Redis
 *     executed including those inside Lua (INFO commandstats; total_commands_processed as a check).
 * Then it SIGKILLs the instance holding the reconciler lease and measures, per queue, the time
 * from the kill to the next cycle completed elsewhere. Results go to docs/benchmarks.md.
 *
 * Options: --queues N (10000) --instances K (3) --interval S (60) --duration INTERVALS (2)
 * --warmup INTERVALS (1) --lease-ttl S (min(30, interval/2)) --lock-duration S and --stalled-interval S
 * (BullMQ; min(30, interval)) --concurrency N (16) --ready N (4)
 * --quick (1000 queues, interval 15 s) --no-failover --no-write --profile (CPU profile of
 * instance b0, kept) --keep (keep the temp dir with logs and config) --sources (run the sources
 * through type stripping instead of the compiled JavaScript the installed `apf` runs)
 * --node-flags="…" (Node flags for the instances, after the bin's own #! flags)
 * --spread-step S (`cluster.spread_step`; default: apf's, 0.5).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Keys } from '../src/coordination/keys.ts';
import { runCommand } from '../src/util/exec.ts';
import { DEFAULT_SPREAD_STEP_MS, schedulerOffset } from '../src/coordination/dispatch.ts';
import { InstanceRegistry } from '../src/coordination/instances.ts';
import { makeTempDir, removeDir, sleep, spawnTracked, waitUntil, type TrackedProcess } from '../test/helpers/processes.ts';
import { startRedis } from '../test/helpers/redis-server.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { binEnv, binNodeFlags } from '../test/helpers/bin-flags.ts';
import { writeBenchConfig } from './cluster/config.ts';
import { failoverStats, lagOverTime, readHistories, skipTotals, slotsBetween, windowStats, type Rec } from './cluster/history.ts';
import { stalledQueues, summarizeLog } from './cluster/logs.ts';
import { clockTicks, commandCalls, cpuMs, deltas, memory, parseInfo, readClientCounts, residentSplit, total } from './cluster/probes.ts';
import { renderRun, writeRunBlock, type RunResult } from './cluster/report.ts';

const { values: flags } = parseArgs({
  options: {
    queues: { type: 'string' },
    instances: { type: 'string', default: '3' },
    interval: { type: 'string' },
    duration: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1' },
    'lease-ttl': { type: 'string' },
    'lock-duration': { type: 'string' },
    'stalled-interval': { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    ready: { type: 'string', default: '4' },
    quick: { type: 'boolean', default: false },
    'no-failover': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    sources: { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
    keep: { type: 'boolean', default: false },
    'spread-step': { type: 'string' },
  },
});
const QUEUES = Number(flags.queues ?? (flags.quick ? 1000 : 10_000));
const INSTANCES = Number(flags.instances);
// Quick runs use 15 s, not 10: a cycle whose queue was committed less than 10 s earlier re-reads the
// cluster counts (cycle-runner.ts RECENT_COMMIT_MS), which an interval of 10 s hits on nearly every cycle.
const INTERVAL_S = Number(flags.interval ?? (flags.quick ? 15 : 60));
const INTERVAL_MS = INTERVAL_S * 1000;
const LEASE_TTL_S = Number(flags['lease-ttl'] ?? Math.min(30, INTERVAL_S / 2));
const CONCURRENCY = Number(flags.concurrency);
/** BullMQ job lock and stalled-check period: apf's defaults (30 s), shortened to the interval for quick runs. */
const LOCK_DURATION_S = Number(flags['lock-duration'] ?? Math.min(30, INTERVAL_S));
const STALLED_INTERVAL_S = Number(flags['stalled-interval'] ?? Math.min(30, INTERVAL_S));
/** `cluster.spread_step` of the instances (ms): the grid of the schedulers' offsets. */
const SPREAD_STEP_MS = flags['spread-step'] === undefined ? DEFAULT_SPREAD_STEP_MS : Math.round(Number(flags['spread-step']) * 1000);
const WINDOW_MS = Number(flags.duration) * INTERVAL_MS;
const WARMUP_MS = Number(flags.warmup) * INTERVAL_MS + 3000;
const DEFAULT_TUNING = flags['lease-ttl'] === undefined && flags['lock-duration'] === undefined && flags['stalled-interval'] === undefined
  && flags.concurrency === '16' && flags.ready === '4' && !flags.sources && flags['node-flags'] === '' && flags['spread-step'] === undefined;
const LABEL: RunResult['label'] = flags.quick && flags.queues === undefined && flags.interval === undefined && DEFAULT_TUNING ? 'quick'
  : QUEUES === 10_000 && INSTANCES === 3 && INTERVAL_S === 60 && DEFAULT_TUNING ? 'target' : 'custom';
const PREFIX = 'bench';
const ROOT = new URL('..', import.meta.url).pathname;
const COUNTER = new URL('./cluster/count-commands.mjs', import.meta.url).pathname;
/** The Node flags of the `apf` bin's #! line (`#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 …`). */
const BIN_FLAGS = binNodeFlags();
/** The environment the #! line sets (MALLOC_ARENA_MAX), unless the benchmark's own environment sets it. */
const BIN_ENV = Object.fromEntries(Object.entries(binEnv()).filter(([k]) => process.env[k] === undefined));
/** What the instances run with: the bin's flags, then the extra ones of `--node-flags` (which win). */
const NODE_FLAGS = [...BIN_FLAGS, ...(flags['node-flags'] ?? '').split(' ').filter((f) => f !== '')];

/** The #! line's environment as the instances got it, e.g. `MALLOC_ARENA_MAX=2 ` (a value from the benchmark's environment wins). */
function runEnvText(): string {
  return Object.keys(binEnv())
    .map((k) => `${k}=${BIN_ENV[k] ?? process.env[k] ?? ''} `)
    .join('');
}

/**
 * The CLI the instances run: the compiled JavaScript the installed `apf` bin runs, compiled here
 * into .bench-tmp/dist; with `--sources` the sources through Node's type stripping (which costs
 * some 40 MB of RSS per process: the stripper's WebAssembly and its embedded copy).
 */
async function cliEntry(): Promise<string> {
  if (flags.sources) return join(ROOT, 'src/cli/main.ts');
  const out = join(ROOT, '.bench-tmp/dist');
  log(`compiling src into ${out}`);
  // Type errors elsewhere do not stop the emit; a missing entry point below does.
  await runCommand(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { timeoutMs: 600_000 });
  const main = join(out, 'cli/main.js');
  if (!existsSync(main)) throw new Error(`the build produced no ${main}`);
  return main;
}

interface Instance {
  readonly id: string;
  readonly proc: TrackedProcess;
  readonly countsFile: string;
  readonly log: string;
}

interface Snapshot {
  readonly at: number;
  readonly cpu: Map<string, number>;
  readonly counts: Map<string, Map<string, number>>;
  /** `process.memoryUsage()` of each instance. */
  readonly heap: Map<string, Readonly<Record<string, number>>>;
  /** Event-loop delay of each instance since the previous snapshot (ms). */
  readonly loop: Map<string, Readonly<Record<string, number>>>;
  readonly info: Map<string, string>;
  readonly redisCpuMs: number;
}

const log = (msg: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function main(): Promise<void> {
  for (const [name, v] of Object.entries({ QUEUES, INSTANCES, INTERVAL_S, LEASE_TTL_S, CONCURRENCY, WINDOW_MS })) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`bad value for ${name}: ${v}`);
  }
  const ticks = await clockTicks();
  const main = await cliEntry();
  // --keep: a plain temp dir (makeTempDir's are removed when the process exits)
  const dir = flags.keep ? mkdtempSync(join(tmpdir(), 'apf-bench-cluster-')) : makeTempDir('apf-bench-cluster-');
  const profDir = flags.profile ? mkdtempSync(join(tmpdir(), 'apf-bench-cluster-prof-')) : undefined;
  const server = await startRedis({ forceProcess: true });
  const keys = new Keys(PREFIX);
  const redis = new Redis(server.url, { protocol: 2, commandTimeout: 60_000, maxRetriesPerRequest: 1 });
  const bullConnection = redis.duplicate({ maxRetriesPerRequest: null });
  const bull = new Queue('cycles', { connection: bullConnection, prefix: keys.bullPrefix }); // the Dispatcher's queue name
  const instances: Instance[] = [];
  const t = { started: Date.now() };
  try {
    const cfg = join(dir, 'config');
    const queues = writeBenchConfig({
      dir: cfg, queues: QUEUES, intervalS: INTERVAL_S, leaseTtlS: LEASE_TTL_S,
      lockDurationS: LOCK_DURATION_S, stalledIntervalS: STALLED_INTERVAL_S,
      ready: Number(flags.ready), maxPerCycle: 2, prefix: PREFIX, concurrency: CONCURRENCY, spreadStepS: SPREAD_STEP_MS / 1000,
    });
    log(`redis-server ${server.url}; ${QUEUES} queues, ${INSTANCES} instances, interval ${INTERVAL_S} s, lease TTL ${LEASE_TTL_S} s, lock ${LOCK_DURATION_S} s, stalled check ${STALLED_INTERVAL_S} s; dir ${dir}`);
    for (let i = 0; i < INSTANCES; i++) {
      const id = `b${i}`;
      const countsFile = join(dir, `${id}.counts.json`);
      const out = join(dir, `${id}.log`);
      const prof = i === 0 && profDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
      const web = ['--web-port', String(await freePort())];
      const proc = await spawnTracked(process.execPath, [...NODE_FLAGS, ...prof, '--import', COUNTER, main, 'start', '--config', cfg, '--instance', id, ...web], {
        name: id,
        // As root (CI containers) apf refuses to run unless told to: the benchmark drops no privileges.
        env: { ...BIN_ENV, APF_LOG_LEVEL: 'warn', APF_REDIS_URL: server.url, APF_BENCH_COUNTS: countsFile, ...(process.getuid?.() === 0 ? { APF_ALLOW_ROOT: '1' } : {}) },
        outputFile: out,
      });
      instances.push({ id, proc, countsFile, log: out });
    }
    const registry = new InstanceRegistry(redis, keys, { deadAfterMs: 30_000 });
    const alive = (): void => {
      const dead = instances.filter((i) => !i.proc.running());
      if (dead.length > 0) throw new Error(`instance(s) ${dead.map((i) => `${i.id} (${summarizeLog(i.log)})`).join(', ')} exited early`);
    };
    // alive() throws at once: an instance that failed to start ends the run with its log.
    const until = async (what: string, done: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
      for (const deadline = performance.now() + timeoutMs; !(await done()); await sleep(250)) {
        alive();
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      }
    };
    await until('every instance registered', async () => (await registry.list()).filter((i) => i.alive).length >= INSTANCES, 120_000);
    const tSched = performance.now();
    await until(`${QUEUES} job schedulers`, async () => (await bull.getJobSchedulersCount()) >= QUEUES, 300_000);
    const schedulersS = (performance.now() - tSched) / 1000;
    log(`instances up, ${QUEUES} schedulers after ${schedulersS.toFixed(1)} s; warming up ${(WARMUP_MS / 1000).toFixed(0)} s`);
    await sleep(WARMUP_MS);
    alive();

    // ---- measurement window: no bench traffic to Redis except one INFO at each end
    let seq = 0;
    const snapshot = async (): Promise<Snapshot> => {
      seq++;
      const at = Date.now();
      const cpu = new Map(instances.map((i) => [i.id, cpuMs(i.proc.pid, ticks)]));
      for (const i of instances) i.proc.signal('SIGUSR2');
      const info = parseInfo(await redis.info('all'));
      const redisCpuMs = cpuMs(server.pid ?? 0, ticks);
      const counts = new Map<string, Map<string, number>>();
      const heap = new Map<string, Readonly<Record<string, number>>>();
      const loop = new Map<string, Readonly<Record<string, number>>>();
      for (const i of instances) {
        const c = await waitUntil(`${i.id} command counts`, () => {
          const r = readClientCounts(i.countsFile);
          return r !== undefined && r.seq >= seq ? r : undefined;
        }, { timeoutMs: 10_000, intervalMs: 20 });
        counts.set(i.id, c.counts);
        heap.set(i.id, c.memory);
        loop.set(i.id, c.loopDelayMs);
      }
      return { at, cpu, counts, heap, loop, info, redisCpuMs };
    };
    const skips0 = await skipTotals(redis, keys, queues); // read just before the window opens
    const s0 = await snapshot();
    log(`measuring for ${WINDOW_MS / 1000} s`);
    const rss = new Map(instances.map((i) => [i.id, 0]));
    /** Sum and count of each instance's RSS samples (the mean is steadier than the maximum, which depends on where the collections fall). */
    const rssSum = new Map(instances.map((i) => [i.id, { sum: 0, n: 0 }]));
    /** Private resident memory at the sample of each instance's highest RSS. */
    const own = new Map(instances.map((i) => [i.id, { privateMiB: 0, sharedMiB: 0, pssMiB: 0 }]));
    while (Date.now() < s0.at + WINDOW_MS) {
      await sleep(Math.min(5000, Math.max(0, s0.at + WINDOW_MS - Date.now())));
      for (const i of instances) {
        const now = memory(i.proc.pid).rssMiB;
        const acc = rssSum.get(i.id);
        if (acc !== undefined) {
          acc.sum += now;
          acc.n++;
        }
        if (now < (rss.get(i.id) ?? 0)) continue;
        rss.set(i.id, now);
        own.set(i.id, residentSplit(i.proc.pid));
      }
    }
    const s1 = await snapshot();
    const load = loadavg()[0] ?? NaN;
    const skipsInWindow = deltas(skips0, await skipTotals(redis, keys, queues));
    alive();

    // ---- analysis of the window
    const limit = (): number => Math.min(500, Math.ceil((Date.now() - t.started) / INTERVAL_MS) + 5);
    const slotsOf = (q: string, from: number, to: number): number[] => slotsBetween(schedulerOffset(q, INTERVAL_MS, SPREAD_STEP_MS), INTERVAL_MS, from, to);
    const hist = await readHistories(redis, keys, queues, limit());
    const w = windowStats(hist, s0.at, s1.at, slotsOf);
    for (const line of lagOverTime(hist, s0.at, s1.at, INTERVAL_MS / 12)) log(`  ${line}`);
    log(`skips in the window: ${JSON.stringify(Object.fromEntries(skipsInWindow))}`);
    const executed = deltas(commandCalls(s0.info), commandCalls(s1.info));
    executed.set('info', (executed.get('info') ?? 0) - 1); // the bench's own INFO at the start
    const sent = new Map<string, number>();
    const perInstance = instances.map((i) => {
      const d = deltas(s0.counts.get(i.id) ?? new Map(), s1.counts.get(i.id) ?? new Map());
      for (const [k, v] of d) sent.set(k, (sent.get(k) ?? 0) + v);
      const mem = memory(i.proc.pid);
      return {
        id: i.id,
        cycles: w.perInstance.get(i.id) ?? 0,
        cpuMs: (s1.cpu.get(i.id) ?? 0) - (s0.cpu.get(i.id) ?? 0),
        rssMiB: Math.max(rss.get(i.id) ?? 0, mem.rssMiB),
        rssMeanMiB: (rssSum.get(i.id)?.sum ?? NaN) / (rssSum.get(i.id)?.n ?? NaN),
        privateMiB: own.get(i.id)?.privateMiB ?? NaN,
        sharedMiB: own.get(i.id)?.sharedMiB ?? NaN,
        pssMiB: own.get(i.id)?.pssMiB ?? NaN,
        peakMiB: mem.peakMiB,
        heapMiB: (s1.heap.get(i.id)?.['heapUsed'] ?? NaN) / 2 ** 20,
        loopDelayMs: { p99: s1.loop.get(i.id)?.['p99'] ?? NaN, max: s1.loop.get(i.id)?.['max'] ?? NaN },
        clientCommands: total(d),
      };
    });
    const processed = Number(s1.info.get('total_commands_processed')) - Number(s0.info.get('total_commands_processed')) - 1;
    const top = (m: Map<string, number>): Array<[string, number]> =>
      [...m].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, v]) => [k, v / w.cycles]);
    const usedMemory = Number(s1.info.get('used_memory')) / 2 ** 20;

    // ---- failover
    let failover: RunResult['failover'] = null;
    if (!flags['no-failover']) failover = await killAndWatch(redis, keys, instances, queues, limit);
    const skips = await skipTotals(redis, keys, queues);

    const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}, redis-server ${s1.info.get('redis_version') ?? '?'}`;
    const result: RunResult = {
      label: LABEL,
      command: LABEL === 'target' ? 'npm run bench:cluster' : LABEL === 'quick' ? 'npm run bench:cluster -- --quick' : `node bench/cluster.ts ${process.argv.slice(2).join(' ')}`,
      date: new Date().toISOString(),
      machine,
      queues: QUEUES,
      instances: INSTANCES,
      intervalS: INTERVAL_S,
      leaseTtlS: LEASE_TTL_S,
      runtime: `${flags.sources ? 'sources through Node type stripping (--sources)' : 'compiled JavaScript, as the installed bin'}${NODE_FLAGS.length > 0 ? `, ${runEnvText()}node ${NODE_FLAGS.join(' ')}` : ''}`,
      lockDurationS: LOCK_DURATION_S,
      stalledIntervalS: STALLED_INTERVAL_S,
      concurrency: CONCURRENCY,
      spreadStepS: SPREAD_STEP_MS / 1000,
      windowS: (s1.at - s0.at) / 1000,
      setup: { schedulersS, warmupS: WARMUP_MS / 1000 },
      window: w,
      perInstance,
      clientPerCycle: total(sent) / w.cycles,
      executedPerCycle: total(executed) / w.cycles,
      totalProcessedPerCycle: processed / w.cycles,
      topClient: top(sent),
      topExecuted: top(executed),
      redisCpuMsPerCycle: (s1.redisCpuMs - s0.redisCpuMs) / w.cycles,
      redisMemoryMiB: usedMemory,
      loadAverage: load,
      failover,
      skips,
      skipsInWindow,
    };
    const md = renderRun(result);
    console.log(`\n${md}\n`);
    if (!flags['no-write']) {
      const file = new URL('../docs/benchmarks.md', import.meta.url);
      writeRunBlock(file, LABEL, md);
      log(`wrote ${file.pathname} (${LABEL})`);
    }
  } finally {
    await Promise.all(instances.map((i) => i.proc.stop(20_000).catch(() => undefined)));
    await bull.close().catch(() => undefined);
    bullConnection.disconnect(); // a connection passed in is not closed by BullMQ
    redis.disconnect();
    await server.stop();
    for (const i of instances) log(`${i.id} log: ${summarizeLog(i.log)}`);
    if (profDir !== undefined) log(`CPU profile of b0 in ${profDir}`);
    if (flags.keep) log(`kept ${dir}`);
    else {
      removeDir(dir);
      removeDir(server.dir);
    }
  }
}

/**
 * SIGKILLs the instance that holds the reconciler lease (not the profiled b0), then waits until
 * every queue has completed a cycle after the kill (or 2 intervals + lease TTL + 30 s passed).
 */
async function killAndWatch(
  redis: Redis,
  keys: Keys,
  instances: readonly Instance[],
  queues: readonly string[],
  limit: () => number,
): Promise<NonNullable<RunResult['failover']>> {
  const holder = ((await redis.get(keys.reconcilerLease)) ?? '').split(':')[0];
  const victim = instances.find((i) => i.id === holder && !(flags.profile && i.id === 'b0')) ?? instances.at(-1);
  if (victim === undefined) throw new Error('no instance to kill');
  const killAt = Date.now();
  await victim.proc.kill();
  log(`SIGKILLed ${victim.id} (reconciler lease holder: ${holder === '' ? 'none' : holder}); waiting for every queue to cycle again`);
  const deadline = killAt + 2 * INTERVAL_MS + LEASE_TTL_S * 1000 + 30_000;
  for (;;) {
    await sleep(3000);
    const pipe = redis.pipeline();
    for (const q of queues) pipe.hget(keys.queueState(q), 'last');
    const last = ((await pipe.exec()) ?? []).map(([, v]) => (typeof v === 'string' ? (JSON.parse(v) as Rec).at : 0));
    const waiting = last.filter((at) => at <= killAt).length;
    if (waiting === 0 || Date.now() > deadline) {
      log(`${waiting} queue(s) without a cycle after the kill, ${((Date.now() - killAt) / 1000).toFixed(0)} s after it`);
      break;
    }
  }
  const hist = await readHistories(redis, keys, queues, limit());
  const stats = failoverStats(hist, victim.id, killAt, stalledQueues(instances.filter((i) => i !== victim).map((i) => i.log), killAt));
  return { ...stats, victim: victim.id, boundMs: INTERVAL_MS + 10_000 };
}

await main();
