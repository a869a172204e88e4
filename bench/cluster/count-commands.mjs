// Preloaded into every benchmarked instance (`node --import ./bench/cluster/count-commands.mjs
// src/cli/main.ts start …`): counts the Redis commands this process *sends*, by name, through
// ioredis' own diagnostics channel (`ioredis:command`, published once per command on the write
// path, pipelines and MULTI included; nothing is patched). Redis' INFO commandstats cannot tell
// these apart from the commands run inside Lua scripts.
//
// Plain JavaScript on purpose: when the benchmark measures the built product (`--built`), a
// TypeScript preload would load Node's type stripper and inflate the memory being measured.
//
// On SIGUSR2 the totals so far are written synchronously to `$APF_BENCH_COUNTS` as
// `{"seq":<signals received>,"counts":{"evalsha":…},"memory":<process.memoryUsage()>,
// "loopDelayMs":{"p50","p99","max"}}` (the event-loop delay since the previous signal), so the
// benchmark can take exact snapshots at the start and end of its measurement window.
import { tracingChannel } from 'node:diagnostics_channel';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { renameSync, writeFileSync } from 'node:fs';
import process from 'node:process';

const file = process.env['APF_BENCH_COUNTS'];
if (file !== undefined && file !== '') {
  /** @type {Map<string, number>} */
  const counts = new Map();
  let seq = 0;
  const ignore = () => undefined;
  tracingChannel('ioredis:command').subscribe({
    start(ctx) {
      const name = typeof ctx.command === 'string' ? ctx.command.toLowerCase() : '?';
      counts.set(name, (counts.get(name) ?? 0) + 1);
    },
    end: ignore,
    asyncStart: ignore,
    asyncEnd: ignore,
    error: ignore,
  });
  // Event-loop delay since the previous snapshot: a blocked loop delays every cycle of the instance.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  process.on('SIGUSR2', () => {
    seq++;
    const delayMs = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
    loop.reset();
    // Written to a temp file and renamed, so the reader never sees half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify({ seq, counts: Object.fromEntries(counts), memory: process.memoryUsage(), loopDelayMs: delayMs }));
    renameSync(`${file}.tmp`, file);
  });
}
