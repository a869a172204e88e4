/**
 * The control bus and the admin log against a real redis-server: every subscriber receives each
 * message, garbage published with redis-cli is logged and dropped, a failing handler does not
 * stop the others, close() stops delivery; the admin log is capped and read newest first.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_LOG_CAP, ControlBus, adminActions, recordAdminAction, type ControlMessage } from '../../../src/coordination/control.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { createLogger, silentLogger } from '../../../src/logging/logger.ts';
import { runCommand } from '../../../src/util/exec.ts';
import { waitUntil } from '../../helpers/processes.ts';
import { useRedis } from '../../helpers/redis-server.ts';

const server = useRedis();
const clients: Redis[] = [];
const buses: ControlBus[] = [];
let prefixSeq = 0;

afterEach(async () => {
  for (const b of buses.splice(0)) await b.close();
  for (const c of clients.splice(0)) c.disconnect();
});

async function client(protocol: 2 | 3 = 2): Promise<Redis> {
  const c = new Redis({ host: '127.0.0.1', port: server().port, protocol, commandTimeout: 5000, maxRetriesPerRequest: 0, lazyConnect: true });
  c.on('error', () => undefined);
  clients.push(c);
  await c.connect();
  return c;
}

/** A subscribing "instance": its own subscriber connection, recording what it receives. */
async function subscriber(keys: Keys, logLines: string[] = [], protocol: 2 | 3 = 2): Promise<{ bus: ControlBus; got: ControlMessage[] }> {
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void logLines.push(s) } });
  const bus = new ControlBus(await client(protocol), await client(), keys, logger);
  buses.push(bus);
  const got: ControlMessage[] = [];
  await bus.subscribe((m) => got.push(m));
  return { bus, got };
}

async function redisCli(...args: string[]): Promise<string> {
  const r = await runCommand('redis-cli', ['-h', '127.0.0.1', '-p', String(server().port), ...args], { timeoutMs: 5000 });
  expect(r.exitCode).toBe(0);
  return r.stdout.trim();
}

describe('coordination/control', () => {
  it('delivers every message to every subscriber', async () => {
    const keys = new Keys(`k${++prefixSeq}`);
    const a = await subscriber(keys);
    const b = await subscriber(keys, [], 3);
    const sender = new ControlBus(await client(), await client(), keys, silentLogger());
    const msgs: ControlMessage[] = [
      { action: 'drain', instance: 'a', by: 'ops@admin' },
      { action: 'freeze', instance: 'b', durationMs: 600_000, by: 'ops@admin' },
      { action: 'run-now', queue: 'ANALY_X', by: 'ops@admin' },
      { action: 'reload', by: 'ops@admin' },
    ];
    for (const m of msgs) expect(await sender.publish(m)).toBe(2);
    await waitUntil('both subscribers got every message', () => (a.got.length === 4 && b.got.length === 4 ? true : undefined), { timeoutMs: 3000 });
    expect(a.got).toEqual(msgs);
    expect(b.got).toEqual(msgs);
  });

  it('logs and drops garbage published with redis-cli, and keeps working', async () => {
    const keys = new Keys(`k${++prefixSeq}`);
    const lines: string[] = [];
    const a = await subscriber(keys, lines);
    for (const garbage of ['hello', '{"action":"drain"}', '{"action":"freeze","instance":"a","durationMs":-1,"by":"x"}', '[1,2,3]', '']) {
      expect(await redisCli('PUBLISH', keys.controlChannel, garbage)).toBe('1');
    }
    expect(await redisCli('PUBLISH', keys.controlChannel, '{"action":"thaw","instance":"a","by":"cli"}')).toBe('1');
    await waitUntil('the valid message', () => (a.got.length === 1 ? true : undefined), { timeoutMs: 3000 });
    expect(a.got).toEqual([{ action: 'thaw', instance: 'a', by: 'cli' }]);
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string }).filter((l) => l.msg === 'dropping a malformed control message');
    expect(warnings).toHaveLength(5);
    expect(warnings.every((w) => w.level === 40 && typeof w.reason === 'string' && w.reason !== '')).toBe(true);
  });

  it('keeps delivering when a handler throws', async () => {
    const keys = new Keys(`k${++prefixSeq}`);
    const lines: string[] = [];
    const a = await subscriber(keys, lines);
    await a.bus.subscribe(() => {
      throw new Error('handler bug');
    });
    const got2: ControlMessage[] = [];
    await a.bus.subscribe((m) => got2.push(m));
    await a.bus.publish({ action: 'reload', by: 'x' });
    await a.bus.publish({ action: 'undrain', instance: 'a', by: 'x' });
    await waitUntil('both messages', () => (a.got.length === 2 && got2.length === 2 ? true : undefined), { timeoutMs: 3000 });
    expect(lines.filter((l) => l.includes('a control message handler failed'))).toHaveLength(2);
  });

  it('stops delivery at close()', async () => {
    const keys = new Keys(`k${++prefixSeq}`);
    const a = await subscriber(keys);
    const b = await subscriber(keys);
    await a.bus.close();
    expect(await b.bus.publish({ action: 'reload', by: 'x' })).toBe(1);
    await waitUntil('b got it', () => (b.got.length === 1 ? true : undefined), { timeoutMs: 3000 });
    expect(a.got).toEqual([]);
  });

  it('refuses to publish an invalid message', async () => {
    const keys = new Keys(`k${++prefixSeq}`);
    const bus = new ControlBus(await client(), await client(), keys, silentLogger());
    await expect(bus.publish({ action: 'freeze', instance: 'a', durationMs: 0, by: 'x' })).rejects.toMatchObject({ code: 'APF_ERR_USAGE' });
    await expect(bus.publish({ action: 'nuke', by: 'x' } as unknown as ControlMessage)).rejects.toMatchObject({ code: 'APF_ERR_USAGE' });
  });

  it('keeps the last 1,000 admin actions, newest first', async () => {
    const keys = new Keys(`k${++prefixSeq}`);
    const c = await client();
    for (let i = 0; i < ADMIN_LOG_CAP + 5; i++) {
      await recordAdminAction(c, keys, { who: 'ops@admin', action: i % 2 === 0 ? 'drain' : 'undrain', target: `inst${i}`, at: 1000 + i, result: 'ok' });
    }
    expect(await c.llen(keys.adminLog)).toBe(ADMIN_LOG_CAP);
    const latest = await adminActions(c, keys, 3);
    expect(latest).toEqual([
      { who: 'ops@admin', action: 'drain', target: 'inst1004', at: 2004, result: 'ok' },
      { who: 'ops@admin', action: 'undrain', target: 'inst1003', at: 2003, result: 'ok' },
      { who: 'ops@admin', action: 'drain', target: 'inst1002', at: 2002, result: 'ok' },
    ]);
    const all = await adminActions(c, keys, 5000);
    expect(all).toHaveLength(ADMIN_LOG_CAP);
    expect(all.at(-1)?.target).toBe('inst5');
    // Entries written by hand that are not actions are skipped.
    await c.lpush(keys.adminLog, 'garbage', '{"who":"x"}');
    expect((await adminActions(c, keys, 3)).map((a) => a.target)).toEqual(['inst1004']);
    expect(await adminActions(c, keys, 0)).toEqual([]);
  });
});
