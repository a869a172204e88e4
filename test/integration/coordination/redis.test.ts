/**
 * createRedis against real servers: password files and ACL users (and no password in any log
 * line), fail-fast behaviour of normal clients during partitions, a BullMQ worker on a `bullmq`
 * connection, TLS with a throwaway CA (client certificates required), and Sentinel failover.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RedisSettings } from '../../../src/config/types.ts';
import { isApfError } from '../../../src/errors.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { createRedis, waitForRedis, type CreateRedisOptions } from '../../../src/coordination/redis.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { freePort } from '../../helpers/free-port.ts';
import { makeTempDir, sleep, waitUntil } from '../../helpers/processes.ts';
import { redisCall, startRedis, useRedis, type RedisServerHandle } from '../../helpers/redis-server.ts';
import { startSentinelCluster, type SentinelCluster } from '../../helpers/sentinel.ts';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';
import { redisSettings } from '../../helpers/redis-settings.ts';

const PASSWORD = 'Pa55-w0rd-for-tests';
const tmp = makeTempDir('apf-redis-int-');

function settings(over: Partial<RedisSettings> = {}): RedisSettings {
  return redisSettings({ commandTimeoutMs: 1000, ...over });
}

function secretFile(name: string, content: string): string {
  const path = join(tmp, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

const clients: Redis[] = [];
function track(c: Redis): Redis {
  clients.push(c);
  return c;
}
function make(s: RedisSettings, opts: Partial<CreateRedisOptions> = {}): Redis {
  return track(createRedis(s, { role: 'test', env: {}, ...opts }));
}

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

describe('coordination/redis', () => {
  describe('authentication', () => {
    const server = useRedis({ password: PASSWORD });

    it('reads the password from a file (trailing newline stripped) and names the connection', async () => {
      const c = make(settings({ url: `redis://127.0.0.1:${server().port}`, passwordFile: secretFile('pw', `${PASSWORD}\n`) }), { role: 'auth-test' });
      await waitForRedis(c, 5000);
      expect(await c.ping()).toBe('PONG');
      expect(await c.client('GETNAME')).toBe('apf:auth-test');
    });

    it('authenticates an ACL user', async () => {
      await redisCall(server(), ['ACL', 'SETUSER', 'factory', 'on', '>factory-pw', '~*', '+@all']);
      const c = make(settings({ url: `redis://127.0.0.1:${server().port}`, username: 'factory', passwordFile: secretFile('acl-pw', 'factory-pw\n') }));
      await waitForRedis(c, 5000);
      expect(await c.call('ACL', 'WHOAMI')).toBe('factory');
    });

    it('a wrong password is reported and logged without any password', async () => {
      const lines: string[] = [];
      const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
      const wrong = 'Wr0ng-secret-value';
      const c = make(settings({ url: `redis://:${PASSWORD}@127.0.0.1:${server().port}`, passwordFile: secretFile('wrong-pw', `${wrong}\n`) }), { logger });
      let caught: unknown;
      try {
        await waitForRedis(c, 1500);
      } catch (err) {
        caught = err;
      }
      expect(isApfError(caught, 'APF_ERR_REDIS')).toBe(true);
      expect(lines.join('\n')).toMatch(/WRONGPASS/);
      for (const text of [lines.join('\n'), (caught as Error).message]) {
        expect(text).not.toContain(wrong);
        expect(text).not.toContain(PASSWORD);
      }
      // The log names the server, without credentials.
      expect(lines.join('\n')).toContain(`redis://127.0.0.1:${server().port}`);
    });
  });

  describe('normal and BullMQ clients', () => {
    const server = useRedis();
    let proxy: TcpProxy;

    beforeAll(async () => {
      proxy = await startTcpProxy({ host: server().host, port: server().port });
    });
    afterAll(async () => {
      await proxy.close();
    });
    afterEach(() => proxy.mode('pass'));

    it('a normal client rejects at once while disconnected instead of queueing, and recovers', async () => {
      const c = make(settings({ url: proxy.url(), commandTimeoutMs: 300 }));
      await waitForRedis(c, 5000);
      proxy.mode('reset');
      await waitUntil('the client to notice the reset', () => (c.status !== 'ready' ? true : undefined), { timeoutMs: 2000, intervalMs: 5 });
      const t0 = performance.now();
      await expect(c.set('k', 'queued?')).rejects.toThrow();
      expect(performance.now() - t0).toBeLessThan(100);
      proxy.mode('pass');
      await waitUntil('the client to reconnect', async () => ((await c.ping()) === 'PONG' ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
      // The command rejected during the outage was never sent later.
      await sleep(200);
      expect(await redisCall(server(), ['EXISTS', 'k'])).toBe(0);
    });

    it('a command to an unresponsive Redis fails after commandTimeout', async () => {
      const c = make(settings({ url: proxy.url(), commandTimeoutMs: 300 }));
      await waitForRedis(c, 5000);
      proxy.mode('pause');
      const t0 = performance.now();
      await expect(c.get('k')).rejects.toThrow(/timed out/i);
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(280);
      expect(took).toBeLessThan(1500);
    });

    it('waitForRedis rejects at once for a closed client and by its deadline for an unreachable one', async () => {
      const closed = make(settings({ url: server().url }));
      await waitForRedis(closed, 5000);
      closed.disconnect();
      await waitUntil('the client to end', () => (closed.status === 'end' ? true : undefined), { timeoutMs: 2000 });
      await expect(waitForRedis(closed, 5000)).rejects.toMatchObject({ code: 'APF_ERR_REDIS' });
      proxy.mode('reset');
      const t0 = performance.now();
      await expect(waitForRedis(make(settings({ url: proxy.url() })), 400)).rejects.toMatchObject({ code: 'APF_ERR_REDIS' });
      expect(performance.now() - t0).toBeLessThan(1500);
    });

    it('a BullMQ worker and queue run on bullmq connections', async () => {
      const keys = new Keys('apfbull');
      const connection = make(settings({ url: server().url }), { role: 'bullmq-test', bullmq: true });
      const queue = new Queue('cycles', { connection, prefix: keys.bullPrefix });
      const done = new Promise<unknown>((resolve) => {
        const worker = new Worker('cycles', (job) => Promise.resolve({ echoed: (job.data as { v: number }).v }), { connection, prefix: keys.bullPrefix });
        worker.on('completed', (_job, result) => {
          void worker.close().then(() => resolve(result));
        });
      });
      await queue.add('cycle', { v: 42 });
      expect(await done).toEqual({ echoed: 42 });
      await queue.close();
      // BullMQ's extra (blocking) connection inherited the name.
      const list = String(await redisCall(server(), ['CLIENT', 'LIST']));
      expect(list).toContain('name=apf:bullmq-test');
    });
  });

  describe('TLS', () => {
    let server: RedisServerHandle;
    let tlsPort: number;
    const pem = (name: string): string => join(tmp, name);

    beforeAll(async () => {
      // A throwaway CA, a server certificate for localhost/127.0.0.1 and a client certificate.
      const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: tmp, timeout: 20_000, stdio: 'ignore' });
      const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
      run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=apf-test-ca']);
      run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
      writeFileSync(pem('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
      run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext']);
      run(['req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=apf-client']);
      writeFileSync(pem('client.ext'), 'extendedKeyUsage=clientAuth\n');
      run(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2', '-extfile', 'client.ext']);
      tlsPort = await freePort();
      server = await startRedis({
        forceProcess: true,
        args: ['--tls-port', String(tlsPort), '--tls-cert-file', pem('server.crt'), '--tls-key-file', pem('server.key'), '--tls-ca-cert-file', pem('ca.crt'), '--tls-auth-clients', 'yes'],
      });
    });
    afterAll(async () => {
      await server.stop();
    });

    it('rediss:// with the CA and a client certificate works', async () => {
      const c = make(settings({ url: `rediss://localhost:${tlsPort}`, tls: { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') } }));
      await waitForRedis(c, 5000);
      expect(await c.set('tls-key', 'over-tls')).toBe('OK');
      expect(await redisCall(server, ['GET', 'tls-key'])).toBe('over-tls');
    });

    it('the server refuses a client without its certificate; the system store does not trust the test CA', async () => {
      for (const tls of [
        { ca: pem('ca.crt'), cert: undefined, key: undefined },
        { ca: undefined, cert: pem('client.crt'), key: pem('client.key') },
      ]) {
        const c = make(settings({ url: `rediss://localhost:${tlsPort}`, tls }));
        let caught: unknown;
        try {
          await waitForRedis(c, 1500);
        } catch (err) {
          caught = err;
        }
        expect(isApfError(caught, 'APF_ERR_REDIS'), JSON.stringify(tls)).toBe(true);
      }
    });
  });

  describe('Sentinel', () => {
    let cluster: SentinelCluster;
    beforeAll(async () => {
      cluster = await startSentinelCluster();
    });
    afterAll(async () => {
      await cluster.stop();
    });

    it('follows a failover to the new master', { timeout: 90_000 }, async () => {
      const c = make(settings({ sentinels: cluster.sentinels.map((s) => `${s.host}:${s.port}`), sentinelMaster: cluster.masterName, commandTimeoutMs: 1000 }));
      await waitForRedis(c, 10_000);
      expect(await c.set('before', '1')).toBe('OK');
      // Replication is asynchronous: make sure the replica has it before the failover.
      expect(await c.call('WAIT', '1', '2000')).toBe(1);
      const first = await cluster.currentMaster();
      await cluster.failover();
      const second = await cluster.currentMaster();
      expect(second.port).not.toBe(first.port);
      const t0 = performance.now();
      // Normal clients fail fast during the switch; the caller's next attempt reaches the new master.
      await waitUntil(
        'a write to reach the new master',
        async () => {
          await c.set('after', 'written');
          return (await redisCall(second, ['GET', 'after'])) === 'written' ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      expect(performance.now() - t0).toBeLessThan(15_000);
      expect(((await c.call('ROLE')) as unknown[])[0]).toBe('master');
      expect(await c.get('before')).toBe('1');
    });
  });
});
