/**
 * Option building for Redis clients: URL parsing, the $APF_REDIS_URL override, password files,
 * TLS files, Sentinel, the two client kinds, and that no password ever reaches a description or
 * an error message.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RedisSettings } from '../../../src/config/types.ts';
import { ApfError } from '../../../src/errors.ts';
import {
  buildRedisOptions,
  describeRedis,
  parseRedisUrl,
  parseSentinels,
  readPasswordFile,
  redisRetryDelay,
  resolveRedisSettings,
  usesEmbeddedRedis,
} from '../../../src/coordination/redis.ts';
import { redisSettings } from '../../helpers/redis-settings.ts';

const dir = mkdtempSync(join(tmpdir(), 'apf-redis-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function settings(over: Partial<RedisSettings> = {}): RedisSettings {
  return redisSettings({ commandTimeoutMs: 1500, ...over });
}

/** Runs `fn` and returns the ApfError it throws (fails the test otherwise). */
function thrown(fn: () => unknown): ApfError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApfError);
    return err as ApfError;
  }
  throw new Error('expected an ApfError');
}

const NO_ENV = {};

describe('coordination/redis', () => {
  describe('parseRedisUrl', () => {
    it('reads scheme, host, port, credentials and database', () => {
      expect(parseRedisUrl('redis://redis.example.org:6380/2')).toEqual({
        tls: false, host: 'redis.example.org', port: 6380, username: undefined, password: undefined, db: 2,
      });
      expect(parseRedisUrl('rediss://apf:s%40cret@10.0.0.5')).toEqual({
        tls: true, host: '10.0.0.5', port: 6379, username: 'apf', password: 's@cret', db: 0,
      });
      expect(parseRedisUrl('redis://[::1]:7000').host).toBe('::1');
    });

    it('rejects other schemes and bad paths without repeating the URL', () => {
      const err = thrown(() => parseRedisUrl('http://user:hunter2@example.org'));
      expect(err.code).toBe('APF_ERR_CONFIG_INVALID');
      expect(err.message).not.toContain('hunter2');
      expect(thrown(() => parseRedisUrl('redis://:hunter2@h/abc')).message).not.toContain('hunter2');
      expect(thrown(() => parseRedisUrl('not a url :hunter2')).message).not.toContain('hunter2');
    });
  });

  describe('parseSentinels', () => {
    it('accepts host:port, bare hosts (26379) and bracketed IPv6', () => {
      expect(parseSentinels(['s1:26380', 's2', '[::1]:5000'])).toEqual([
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
        { host: '::1', port: 5000 },
      ]);
    });

    it('names a bad entry', () => {
      const err = thrown(() => parseSentinels(['s1:26379', 's2:99999']));
      expect(err.code).toBe('APF_ERR_CONFIG_INVALID');
      expect(err.message).toContain('s2:99999');
    });
  });

  describe('$APF_REDIS_URL', () => {
    it('overrides redis.url; an empty value is ignored', () => {
      const s = settings({ url: 'redis://config-host:6379' });
      expect(resolveRedisSettings(s, { APF_REDIS_URL: 'redis://env-host:7000' }).url).toBe('redis://env-host:7000');
      expect(resolveRedisSettings(s, { APF_REDIS_URL: '  ' }).url).toBe('redis://config-host:6379');
      expect(resolveRedisSettings(s, NO_ENV).url).toBe('redis://config-host:6379');
      const opts = buildRedisOptions(s, { role: 'state', env: { APF_REDIS_URL: 'redis://env-host:7000/3' } });
      expect(opts).toMatchObject({ host: 'env-host', port: 7000, db: 3 });
    });

    it('decides whether the embedded server is needed', () => {
      expect(usesEmbeddedRedis(settings(), NO_ENV)).toBe(true);
      expect(usesEmbeddedRedis(settings(), { APF_REDIS_URL: 'redis://h' })).toBe(false);
      expect(usesEmbeddedRedis(settings({ sentinels: ['s:1'] }), NO_ENV)).toBe(false);
      expect(thrown(() => buildRedisOptions(settings(), { role: 'x', env: NO_ENV })).code).toBe('APF_ERR_CONFIG_INVALID');
    });
  });

  describe('describeRedis', () => {
    it('never shows a password, from the URL, the env or a file', () => {
      const pw = file('pw-describe', 'filepass\n');
      const s = settings({ url: 'redis://apf:urlpass@h1:6380/1', passwordFile: pw });
      const text = describeRedis(s, NO_ENV);
      expect(text).toBe('redis://apf@h1:6380/1');
      const env = describeRedis(s, { APF_REDIS_URL: 'rediss://:envpass@h2' });
      expect(env).toBe('rediss://h2:6379');
      for (const t of [text, env]) expect(t).not.toMatch(/urlpass|envpass|filepass/);
      expect(describeRedis(settings({ url: 'redis://:x@' }), NO_ENV)).not.toContain(':x');
    });

    it('describes Sentinel and embedded setups', () => {
      expect(describeRedis(settings({ sentinels: ['a:1', 'b:2'], username: 'u' }), NO_ENV)).toBe('sentinel mymaster via a:1,b:2: u@master');
      expect(describeRedis(settings(), NO_ENV)).toBe('embedded redis-server');
    });
  });

  describe('password files', () => {
    it('strips exactly one trailing newline', () => {
      expect(readPasswordFile(file('pw1', 'abc\n'))).toBe('abc');
      expect(readPasswordFile(file('pw2', 'abc\r\n'))).toBe('abc');
      expect(readPasswordFile(file('pw3', 'a b\n\n'))).toBe('a b\n');
      expect(readPasswordFile(file('pw4', 'no-newline'))).toBe('no-newline');
    });

    it('a missing or empty file is a config error naming the file, never the content', () => {
      const missing = join(dir, 'does-not-exist');
      const err = thrown(() => buildRedisOptions(settings({ url: 'redis://h', passwordFile: missing }), { role: 'x', env: NO_ENV }));
      expect(err.code).toBe('APF_ERR_CONFIG_INVALID');
      expect(err.message).toContain(missing);
      expect(err.message).toContain('ENOENT');
      const empty = file('pw-empty', '\n');
      expect(thrown(() => readPasswordFile(empty)).message).toContain(empty);
    });

    it('the file takes precedence over a password in the URL', () => {
      const pw = file('pw-precedence', 'from-file\n');
      expect(buildRedisOptions(settings({ url: 'redis://u:from-url@h' }), { role: 'x', env: NO_ENV })).toMatchObject({ username: 'u', password: 'from-url' });
      expect(buildRedisOptions(settings({ url: 'redis://u:from-url@h', passwordFile: pw, username: 'acl' }), { role: 'x', env: NO_ENV })).toMatchObject({
        username: 'acl',
        password: 'from-file',
      });
    });
  });

  describe('client kinds', () => {
    it('normal clients fail fast with a per-command deadline', () => {
      const o = buildRedisOptions(settings({ url: 'redis://h:1' }), { role: 'lease', env: NO_ENV });
      expect(o).toMatchObject({
        connectionName: 'apf:lease',
        commandTimeout: 1500,
        connectTimeout: 1500,
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        maxRetriesPerRequest: 1,
        protocol: 2,
      });
      expect(typeof o.retryStrategy).toBe('function');
    });

    it('BullMQ clients retry forever and have no commandTimeout (blocking commands get their own deadline)', () => {
      const o = buildRedisOptions(settings({ url: 'redis://h:1' }), { role: 'worker', bullmq: true, env: NO_ENV });
      expect(o.maxRetriesPerRequest).toBeNull();
      expect(o.commandTimeout).toBeUndefined();
      expect(o.enableOfflineQueue).toBe(true);
      expect(o.blockingTimeout).toBeGreaterThan(0);
      expect(o.connectionName).toBe('apf:worker');
    });

    it('reconnect delays grow exponentially and are capped', () => {
      expect(redisRetryDelay(1, () => 0)).toBe(100);
      expect(redisRetryDelay(2, () => 0)).toBe(200);
      expect(redisRetryDelay(4, () => 0)).toBe(800);
      expect(redisRetryDelay(30, () => 0)).toBe(5000);
      expect(redisRetryDelay(30, () => 1)).toBe(5500);
    });
  });

  describe('TLS', () => {
    it('rediss:// reads ca, cert and key files', () => {
      const ca = file('ca.pem', 'CA-PEM');
      const cert = file('cert.pem', 'CERT-PEM');
      const key = file('key.pem', 'KEY-PEM');
      const o = buildRedisOptions(settings({ url: 'rediss://redis.example.org:6380', tls: { ca, cert, key } }), { role: 'x', env: NO_ENV });
      expect(o.tls?.ca?.toString()).toBe('CA-PEM');
      expect(o.tls?.cert?.toString()).toBe('CERT-PEM');
      expect((o.tls?.key as Buffer).toString()).toBe('KEY-PEM');
      expect(o.tls?.servername).toBe('redis.example.org');
    });

    it('rediss:// without a CA uses the system store; redis:// has no TLS', () => {
      const o = buildRedisOptions(settings({ url: 'rediss://127.0.0.1:6380' }), { role: 'x', env: NO_ENV });
      expect(o.tls).toEqual({});
      expect(buildRedisOptions(settings({ url: 'redis://h' }), { role: 'x', env: NO_ENV }).tls).toBeUndefined();
    });

    it('an unreadable TLS file or a cert without key is a config error', () => {
      const missing = join(dir, 'nope.pem');
      const err = thrown(() => buildRedisOptions(settings({ url: 'rediss://h', tls: { ca: missing, cert: undefined, key: undefined } }), { role: 'x', env: NO_ENV }));
      expect(err.code).toBe('APF_ERR_CONFIG_INVALID');
      expect(err.message).toContain(missing);
      const cert = file('only-cert.pem', 'C');
      expect(thrown(() => buildRedisOptions(settings({ url: 'rediss://h', tls: { ca: undefined, cert, key: undefined } }), { role: 'x', env: NO_ENV })).code).toBe(
        'APF_ERR_CONFIG_INVALID',
      );
    });
  });

  describe('Sentinel', () => {
    it('builds sentinel options with the failover detector and the sentinel password file', () => {
      const spw = file('sentinel-pw', 'sentinel-secret\n');
      const pw = file('master-pw', 'master-secret\n');
      const o = buildRedisOptions(
        settings({ sentinels: ['127.0.0.1:26379', '127.0.0.1:26380'], sentinelMaster: 'apfmaster', sentinelPasswordFile: spw, passwordFile: pw }),
        { role: 'state', env: NO_ENV },
      );
      expect(o).toMatchObject({
        sentinels: [
          { host: '127.0.0.1', port: 26379 },
          { host: '127.0.0.1', port: 26380 },
        ],
        name: 'apfmaster',
        failoverDetector: true,
        sentinelPassword: 'sentinel-secret',
        password: 'master-secret',
        sentinelCommandTimeout: 1500,
        commandTimeout: 1500,
      });
      expect(o.host).toBeUndefined();
      expect(o.enableTLSForSentinelMode).toBeUndefined();
    });

    it('TLS to the data nodes when the URL is rediss:// or TLS files are set', () => {
      const ca = file('s-ca.pem', 'CA');
      const o = buildRedisOptions(settings({ sentinels: ['s:1'], tls: { ca, cert: undefined, key: undefined } }), { role: 'x', env: NO_ENV });
      expect(o.enableTLSForSentinelMode).toBe(true);
      expect(o.tls?.ca?.toString()).toBe('CA');
    });
  });
});
