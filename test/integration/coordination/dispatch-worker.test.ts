/**
 * The cycle worker against a real redis-server: a worker that dies mid-cycle has its job re-run by
 * another instance after the stalled check (delay measured), and what one scheduler iteration
 * costs in Redis commands (measured with MONITOR, printed).
 */
import { connect } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher, queueOfJob, slotOf } from '../../../src/coordination/dispatch.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { sleep, waitUntil } from '../../helpers/processes.ts';
import { useRedis } from '../../helpers/redis-server.ts';

const server = useRedis();
const cleanups: Array<() => Promise<void> | void> = [];
let prefixSeq = 0;

afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function connection(): Redis {
  const c = new Redis({ host: '127.0.0.1', port: server().port, maxRetriesPerRequest: null, protocol: 2, commandTimeout: 5000 });
  c.on('error', () => undefined);
  cleanups.push(() => c.disconnect());
  return c;
}

function dispatcher(keys: Keys): Dispatcher {
  const d = new Dispatcher({ connection: connection(), keys, logger: silentLogger() });
  cleanups.push(() => d.close());
  return d;
}

/**
 * Counts the commands Redis executes while it runs, from a raw MONITOR connection (ioredis's own
 * monitor mode loses track of its replies under this load): per command name for commands sent by
 * clients, and in total for the ones BullMQ's Lua scripts run.
 */
async function startMonitor(port: number): Promise<{ stop(): { client: Map<string, number>; script: number } }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  const client = new Map<string, number>();
  let script = 0;
  let buffer = '';
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 2);
      const m = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
      if (m === null) continue;
      if (m[1] === 'lua') script++;
      else client.set(m[2]!.toLowerCase(), (client.get(m[2]!.toLowerCase()) ?? 0) + 1);
    }
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write('MONITOR\r\n');
  await waitUntil('MONITOR on', () => (buffer.startsWith('+OK') || client.size > 0 || script > 0 ? true : undefined), { timeoutMs: 2000 });
  return {
    stop() {
      socket.destroy();
      return { client: new Map(client), script };
    },
  };
}

/** Sum of `calls` over INFO commandstats. */
async function totalCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(m[1]);
  return total;
}

const LOCK_MS = 1000;
const STALLED_MS = 1000;

describe('coordination/dispatch', () => {
  describe('worker', () => {
    it('re-runs the job of a worker closed without completing it, on another instance, after the stalled check', async () => {
      const keys = new Keys(`w${++prefixSeq}`);
      const delays: number[] = [];
      for (let round = 0; round < 3; round++) {
        const queue = `victim:${round}`;
        // Instance A takes the job and hangs in it.
        const a = dispatcher(keys);
        let releaseA: () => void = () => undefined;
        let startedA = false;
        const workerA = a.createWorker(
          async () => {
            startedA = true;
            await new Promise<void>((resolve) => (releaseA = resolve));
            return { status: 'ok' };
          },
          { concurrency: 1, lockDurationMs: LOCK_MS, stalledIntervalMs: STALLED_MS, owner: `A${round}` },
        );
        await a.runNow(queue);
        await waitUntil('A started the job', () => (startedA ? true : undefined), { timeoutMs: 3000 });

        // Instance B is alive and idle.
        const b = dispatcher(keys);
        let rerun: { at: number; jobId: string; queue: string; slot: number } | undefined;
        b.createWorker(
          (job) => {
            rerun ??= { at: performance.now(), jobId: job.id ?? '', queue: queueOfJob(job), slot: slotOf(job) };
            return Promise.resolve({ status: 'ok' });
          },
          { concurrency: 1, lockDurationMs: LOCK_MS, stalledIntervalMs: STALLED_MS, owner: `B${round}` },
        );
        await sleep(200);

        const killedAt = performance.now();
        await workerA.close(true);
        const seen = await waitUntil('B re-ran the job', () => rerun, { timeoutMs: LOCK_MS + 2 * STALLED_MS + 5000 });
        const delay = Math.round(seen.at - killedAt);
        delays.push(delay);
        expect(seen.queue).toBe(queue);
        const bull = new Queue('cycles', { connection: connection(), prefix: keys.bullPrefix });
        cleanups.push(() => bull.close());
        const job = await waitUntil('the re-run completed', async () => {
          const j = await bull.getJob(seen.jobId);
          return j !== undefined && (await j.isCompleted()) ? j : undefined;
        }, { timeoutMs: 3000 });
        expect(job.attemptsStarted).toBe(2);
        expect(job.stalledCounter).toBe(1);
        expect(job.processedBy).toBe(`B${round}`);
        // The lock A held had at least half its TTL left when A went away: no re-run before that.
        expect(delay).toBeGreaterThan(LOCK_MS / 2 - 100);
        expect(delay).toBeLessThan(LOCK_MS + 2 * STALLED_MS + 1500);
        releaseA();
        await a.close();
        await b.close();
      }
      console.log(
        `[dispatch] stalled re-run after a worker died (lockDuration ${LOCK_MS} ms, stalledInterval ${STALLED_MS} ms): ` +
          `${delays.join(', ')} ms; expected bound lockDuration/2 … lockDuration + 2 × stalledInterval`,
      );
    });

    it('measures the Redis commands one scheduler iteration costs (printed)', async () => {
      const lines: string[] = [];
      for (const [n, every] of [
        [10, 1000],
        [100, 1000],
      ] as const) {
        const keys = new Keys(`c${++prefixSeq}`);
        const d = dispatcher(keys);
        let processed = 0;
        d.createWorker(
          () => {
            processed++;
            return Promise.resolve({ status: 'ok' });
          },
          { concurrency: 16, lockDurationMs: 30_000, stalledIntervalMs: 30_000, owner: 'cost' },
        );
        const queues = Array.from({ length: n }, (_, i) => `cost-${n}-${i}`);
        await d.reconcile(new Map(queues.map((q) => [q, every])));
        await sleep(1500);

        const stats = connection();
        const monitor = await startMonitor(server().port);
        const callsBefore = await totalCalls(stats);
        const before = processed;
        await sleep(4000);
        const iterations = processed - before;
        // INFO commandstats counts commands run inside scripts too, and our two INFO calls.
        const calls = (await totalCalls(stats)) - callsBefore - 1;
        const { client, script } = monitor.stop();
        expect(iterations).toBeGreaterThan(n * 3);
        const sent = [...client.entries()].filter(([c]) => c !== 'info');
        const sentTotal = sent.reduce((a, [, k]) => a + k, 0);
        const top = sent.sort((x, y) => y[1] - x[1]).map(([c, k]) => `${c} ${(k / iterations).toFixed(2)}`);
        lines.push(
          `${n} queues every ${every} ms: ${iterations} iterations; per iteration ${(sentTotal / iterations).toFixed(2)} commands sent ` +
            `(${top.join(', ')}), ${(script / iterations).toFixed(1)} more run inside BullMQ's Lua; ` +
            `INFO commandstats: ${(calls / iterations).toFixed(1)} calls per iteration`,
        );
        await d.close();
      }
      console.log(`[dispatch] Redis cost of one scheduler iteration (BullMQ only, no-op processor):\n  ${lines.join('\n  ')}`);
    });
  });
});
