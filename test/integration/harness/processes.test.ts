/**
 * The harness plumbing: free ports, tracked child processes (stop, escalation, crash), cleanup of
 * leftovers when the test process ends, polling with deadlines, and the no-Docker fallback.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/free-port.ts';
import { isPidAlive, makeTempDir, runningTracked, spawnTracked, waitUntil, type TrackedProcess } from '../../helpers/processes.ts';
import { dockerPlausible, redisCall, startRedis } from '../../helpers/redis-server.ts';

const started: TrackedProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.kill()));
});

/** Tracks a process for afterEach. */
async function track(file: string, args: string[], opts?: Parameters<typeof spawnTracked>[2]): Promise<TrackedProcess> {
  const p = await spawnTracked(file, args, opts);
  started.push(p);
  return p;
}

describe('test/helpers/free-port', () => {
  it('returns a loopback port nothing listens on, never 6379', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(1024);
    expect(port).not.toBe(6379);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });

  it('never hands out the same port twice, even to parallel calls', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
  });
});

describe('test/helpers/processes', () => {
  it('tracks a child by PID until it exits, and stop() ends it with SIGTERM', async () => {
    const p = await track('sleep', ['30'], { name: 'sleeper' });
    expect(p.name).toBe('sleeper');
    expect(p.running()).toBe(true);
    expect(isPidAlive(p.pid)).toBe(true);
    expect(runningTracked()).toContain(p);
    expect(await p.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(p.running()).toBe(false);
    expect(isPidAlive(p.pid)).toBe(false);
    expect(runningTracked()).not.toContain(p);
    // Stopping again is harmless and reports the same end.
    expect(await p.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(p.signal('SIGTERM')).toBe(false);
  });

  it('escalates to SIGKILL when the child ignores SIGTERM', async () => {
    const dir = makeTempDir('apf-proc-test-');
    const out = join(dir, 'out.txt');
    const p = await track('sh', ['-c', 'trap "" TERM; echo armed; exec sleep 30'], { outputFile: out });
    // SIGTERM before the trap is set would simply end it.
    await waitUntil('the trap to be set', () => (existsSync(out) && readFileSync(out, 'utf8').includes('armed') ? true : undefined), { timeoutMs: 2000, intervalMs: 5 });
    const t0 = performance.now();
    expect(await p.stop(300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('kill() is a SIGKILL crash', async () => {
    const p = await track('sleep', ['30']);
    expect(await p.kill()).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('sends stdout and stderr to the output file, stdin is empty', async () => {
    const dir = makeTempDir('apf-proc-test-');
    const out = join(dir, 'out.txt');
    const p = await track('sh', ['-c', 'echo to-stdout; echo to-stderr >&2; cat; echo "stdin-closed"'], { outputFile: out });
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(readFileSync(out, 'utf8')).toBe('to-stdout\nto-stderr\nstdin-closed\n');
  });

  it('fails with a coded error naming the program and the install hint when it is missing', async () => {
    await expect(spawnTracked('no-such-program-apf', [], { installHint: 'install it with apt-get install -y foo' })).rejects.toMatchObject({
      code: 'APF_ERR_COMMAND_FAILED',
      message: 'no-such-program-apf was not found on PATH; install it with apt-get install -y foo',
    });
  });

  it('waitUntil resolves with the first defined value and times out with a coded error', async () => {
    let n = 0;
    expect(await waitUntil('n to reach 3', () => (++n >= 3 ? n : undefined), { timeoutMs: 1000, intervalMs: 1 })).toBe(3);
    await expect(
      waitUntil('never', () => undefined, { timeoutMs: 100, intervalMs: 10, describe: () => 'still nothing' }),
    ).rejects.toMatchObject({ code: 'APF_ERR_COMMAND_TIMEOUT', message: expect.stringMatching(/waiting for never \(still nothing\)/) as unknown });
  });

  /** Runs a Node child that starts a Redis through the harness, prints its PID and dir, and then ends as `how` says. */
  async function leftoverAfter(how: 'exit' | 'sigterm'): Promise<{ pid: number; dir: string }> {
    const helper = new URL('../../helpers/redis-server.ts', import.meta.url).href;
    const script = [
      `const { startRedis } = await import(${JSON.stringify(helper)});`,
      'const h = await startRedis({ aof: true });',
      'console.log(JSON.stringify({ pid: h.pid, dir: h.dir }));',
      // Ends without stopping the server once the parent has seen it alive (and says so on stdin).
      how === 'exit' ? "process.stdin.once('data', () => process.exit(0));" : "process.stdin.once('data', () => {});",
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) resolve(buf.split('\n')[0] as string);
        });
        child.once('exit', (code) => reject(new Error(`child exited (${code}) before printing`)));
        setTimeout(() => reject(new Error('child printed nothing in 15 s')), 15_000).unref();
      });
      const seen = JSON.parse(line) as { pid: number; dir: string };
      expect(isPidAlive(seen.pid)).toBe(true);
      if (how === 'sigterm') child.kill('SIGTERM');
      else child.stdin.write('go\n');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      return seen;
    } finally {
      child.kill('SIGKILL');
    }
  }

  it.each(['exit', 'sigterm'] as const)('kills a forgotten redis-server and removes its temp dir when the test process ends (%s)', async (how) => {
    const { pid, dir } = await leftoverAfter(how);
    // The orphan is SIGKILLed at once; init may take a moment to reap it.
    await waitUntil(`pid ${pid} to die`, () => (isPidAlive(pid) ? undefined : true), { timeoutMs: 3000 });
    expect(existsSync(dir)).toBe(false);
  });
});

describe('test/helpers/redis-server container fallback', () => {
  const saved = { DOCKER_HOST: process.env['DOCKER_HOST'], APF_TEST_REDIS: process.env['APF_TEST_REDIS'] };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('tries containers only when a Docker engine plausibly answers', () => {
    expect(dockerPlausible({ DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toBe(true);
    expect(dockerPlausible({ DOCKER_HOST: 'tcp://127.0.0.1:2375', APF_TEST_REDIS: 'process' })).toBe(false);
    expect(dockerPlausible({ APF_TEST_REDIS: 'container' })).toBe(true);
    expect(dockerPlausible({})).toBe(existsSync('/var/run/docker.sock'));
  });

  it('falls back to a spawned redis-server when the Docker engine does not answer', async () => {
    // A port nothing listens on: testcontainers finds no working runtime strategy.
    process.env['DOCKER_HOST'] = `tcp://127.0.0.1:${await freePort()}`;
    delete process.env['APF_TEST_REDIS'];
    expect(dockerPlausible()).toBe(true);
    const h = await startRedis();
    try {
      expect(h.kind).toBe('process');
      expect(typeof h.pid).toBe('number');
      expect(await redisCall(h, ['PING'])).toBe('PONG');
    } finally {
      await h.stop();
    }
  });
});
