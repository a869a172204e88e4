/**
 * The embedded redis-server: private data dir, password, AOF persistence across restarts on the
 * same state dir, stop by PID, dying with its parent (SIGTERM, normal exit), reaping an orphan a
 * SIGKILLed parent left behind, and the install hint when the binary is missing.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisSettings } from '../../../src/config/types.ts';
import { isApfError } from '../../../src/errors.ts';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../../src/coordination/embedded-redis.ts';
import { createRedis, describeRedis, waitForRedis } from '../../../src/coordination/redis.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { isPidAlive, makeTempDir, waitUntil } from '../../helpers/processes.ts';
import { redisSettings } from '../../helpers/redis-settings.ts';

const MODULE = fileURLToPath(new URL('../../../src/coordination/embedded-redis.ts', import.meta.url));
const LOGGER = fileURLToPath(new URL('../../../src/logging/logger.ts', import.meta.url));
const log = silentLogger();

function settings(url: string): RedisSettings {
  return redisSettings({ url });
}

/** PIDs this file saw started; any still alive at the end of a test is killed (by PID). */
const started = new Set<number>();
const servers: EmbeddedRedis[] = [];

async function start(stateDir: string): Promise<EmbeddedRedis> {
  const s = await startEmbeddedRedis({ stateDir, logger: log });
  started.add(s.pid);
  servers.push(s);
  return s;
}

async function connect(url: string): Promise<Redis> {
  const c = createRedis(settings(url), { role: 'embedded-test', env: {} });
  await waitForRedis(c, 5000);
  return c;
}

/**
 * Runs a Node child that starts an embedded server on `stateDir`, prints its PID and port, then
 * does `then` (`wait`: stay alive, `exit`: return normally). Resolves with the child and what it printed.
 */
async function childWithServer(stateDir: string, then: 'wait' | 'exit'): Promise<{ child: ReturnType<typeof spawn>; pid: number; port: number }> {
  const script = `
    import { startEmbeddedRedis } from ${JSON.stringify(MODULE)};
    import { silentLogger } from ${JSON.stringify(LOGGER)};
    const s = await startEmbeddedRedis({ stateDir: ${JSON.stringify(stateDir)}, logger: silentLogger() });
    console.log(JSON.stringify({ pid: s.pid, port: s.port }));
    ${then === 'wait' ? 'setInterval(() => undefined, 1000);' : ''}
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const info = await waitUntil(
    'the child to report its server',
    () => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined && child.exitCode !== null) throw new Error(`child exited: ${err}`);
      return line === undefined ? undefined : (JSON.parse(line) as { pid: number; port: number });
    },
    { timeoutMs: 20_000, intervalMs: 20 },
  );
  started.add(info.pid);
  return { child, ...info };
}

describe('coordination/embedded-redis', () => {
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    for (const pid of started) {
      if (isPidAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    started.clear();
  });

  it('starts a private, password-protected server whose data survives a stop/start on the same state dir', async () => {
    const stateDir = makeTempDir('apf-embedded-');
    const first = await start(stateDir);
    expect(first.dir).toBe(join(stateDir, 'redis'));
    expect(statSync(first.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(first.dir, 'redis.conf')).mode & 0o777).toBe(0o600);
    expect(describeRedis(settings(first.url), {})).toBe(`redis://127.0.0.1:${first.port}`);

    // Without the password nothing can be read or written.
    const anonymous = new Redis({ host: '127.0.0.1', port: first.port, lazyConnect: true, protocol: 2, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    anonymous.on('error', () => undefined);
    await anonymous.connect();
    await expect(anonymous.get('k')).rejects.toThrow(/NOAUTH/);
    anonymous.disconnect();

    const c = await connect(first.url);
    expect(await c.set('survives', 'restart')).toBe('OK');
    expect(await c.rpush('list', 'a', 'b')).toBe(2);
    expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await c.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    c.disconnect();

    await first.stop();
    expect(isPidAlive(first.pid)).toBe(false);
    await first.stop(); // idempotent

    const second = await start(stateDir);
    expect(second.pid).not.toBe(first.pid);
    const c2 = await connect(second.url);
    expect(await c2.get('survives')).toBe('restart');
    expect(await c2.lrange('list', 0, -1)).toEqual(['a', 'b']);
    c2.disconnect();
  });

  it('a missing redis-server names the install command', async () => {
    let caught: unknown;
    try {
      await startEmbeddedRedis({ stateDir: makeTempDir('apf-embedded-'), logger: log, bin: 'apf-no-such-redis-server' });
    } catch (err) {
      caught = err;
    }
    expect(isApfError(caught, 'APF_ERR_COMMAND_FAILED')).toBe(true);
    expect((caught as Error).message).toContain('apt-get install redis-server');
    expect((caught as Error).message).toContain('dnf install redis');
  });

  it('the server dies with its parent: on SIGTERM and on a normal exit', async () => {
    const stateDir = makeTempDir('apf-embedded-');
    const viaSignal = await childWithServer(stateDir, 'wait');
    expect(isPidAlive(viaSignal.pid)).toBe(true);
    viaSignal.child.kill('SIGTERM');
    await waitUntil('the server to stop after the parent\'s SIGTERM', () => (isPidAlive(viaSignal.pid) ? undefined : true), { timeoutMs: 10_000 });

    const viaExit = await childWithServer(stateDir, 'exit');
    await waitUntil('the server to stop after the parent exited', () => (isPidAlive(viaExit.pid) ? undefined : true), { timeoutMs: 10_000 });
  });

  it('an orphan left by a SIGKILLed parent is stopped by the next start on the same state dir', async () => {
    const stateDir = makeTempDir('apf-embedded-');
    const orphan = await childWithServer(stateDir, 'wait');
    const c = await connect(`redis://:${readPassword(stateDir)}@127.0.0.1:${orphan.port}`);
    expect(await c.set('from-orphan', 'kept')).toBe('OK');
    c.disconnect();
    orphan.child.kill('SIGKILL');
    await waitUntil('the parent to die', () => (orphan.child.exitCode !== null || orphan.child.signalCode !== null ? true : undefined), { timeoutMs: 5000 });
    // Nothing could stop the server: it is still running, orphaned.
    expect(isPidAlive(orphan.pid)).toBe(true);

    const next = await start(stateDir);
    expect(isPidAlive(orphan.pid)).toBe(false);
    const c2 = await connect(next.url);
    expect(await c2.get('from-orphan')).toBe('kept');
    c2.disconnect();
  });
});

/** The password the embedded server of `stateDir` runs with (from its 0600 config file). */
function readPassword(stateDir: string): string {
  const conf = readFileSync(join(stateDir, 'redis', 'redis.conf'), 'utf8');
  return /^requirepass (\S+)$/m.exec(conf)?.[1] ?? '';
}
