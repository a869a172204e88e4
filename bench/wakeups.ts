/**
 * Benchmark: what one Redis round trip costs a Node process in CPU, alone and in bursts
 * (`npm run bench:wakeups`). It explains why cycles that start together on the grid of
 * `cluster.spread_step` cost less per cycle than cycles spread evenly (docs/decisions.md "Cycles on
 * a grid"): a process that is woken for every reply pays the event loop's wake-up each time, and
 * that wake-up, not the command, is most of the cost on a virtual machine.
 *
 * Measures, in this process, on a real redis-server (a free loopback port):
 * 1. an idle event loop woken by a 10 ms timer (CPU per wake-up);
 * 2. one EVALSHA at a time, 100 per second (each reply wakes the process alone);
 * 3. the same commands in bursts of 10 every 10 ms (1,000 per second, replies arrive together).
 * Prints a Markdown block for docs/benchmarks.md. Options: --seconds S per measurement (10).
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedis } from '../test/helpers/redis-server.ts';

const { values: flags } = parseArgs({ options: { seconds: { type: 'string', default: '10' } } });
const SECONDS = Number(flags.seconds);
if (!Number.isFinite(SECONDS) || SECONDS <= 0) throw new Error(`bad --seconds ${flags.seconds}`);

type Tick = (done: () => void) => void;

/** CPU µs of this process per unit of work while `tick` runs every 10 ms for SECONDS. */
async function measure(tick: Tick, units: () => number): Promise<number> {
  const c0 = process.cpuUsage();
  const end = performance.now() + SECONDS * 1000;
  let pending = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (performance.now() < end) {
        pending++;
        tick(() => pending--);
        return;
      }
      clearInterval(timer);
      const wait = setInterval(() => {
        if (pending === 0) {
          clearInterval(wait);
          resolve();
        }
      }, 10);
    }, 10);
  });
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / Math.max(1, units());
}

async function main(): Promise<void> {
  const server = await startRedis({ forceProcess: true });
  const redis = new Redis(server.url, { commandTimeout: 5000, maxRetriesPerRequest: 1 });
  redis.defineCommand('benchSet', { numberOfKeys: 1, lua: "return redis.call('SET', KEYS[1], ARGV[1])" });
  const call = redis as unknown as { benchSet: (key: string, value: string) => Promise<unknown> };
  try {
    await call.benchSet('warm', 'up');
    let ticks = 0;
    const idle = await measure((done) => { ticks++; done(); }, () => ticks);
    let alone = 0;
    const oneEach = await measure((done) => {
      void call.benchSet(`k${alone % 1000}`, 'v'.repeat(64)).then(() => { alone++; done(); });
    }, () => alone);
    let burst = 0;
    const bursts = await measure((done) => {
      void Promise.all(Array.from({ length: 10 }, (_, i) => call.benchSet(`k${i}`, 'v'.repeat(64)))).then(() => { burst += 10; done(); });
    }, () => burst);
    const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`;
    console.log(
      [
        '### Wake-ups and round trips (`npm run bench:wakeups`)',
        '',
        `Command: \`npm run bench:wakeups -- --seconds ${SECONDS}\` · ${new Date().toISOString()}`,
        `Machine: ${machine}`,
        '',
        '| what | CPU µs of the Node process |',
        '| --- | ---: |',
        `| one wake-up of an idle event loop (10 ms timer) | ${idle.toFixed(1)} per wake-up |`,
        `| one EVALSHA at a time, 100 per second | ${oneEach.toFixed(1)} per command |`,
        `| EVALSHA in bursts of 10 every 10 ms | ${bursts.toFixed(1)} per command |`,
      ].join('\n'),
    );
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

await main();
