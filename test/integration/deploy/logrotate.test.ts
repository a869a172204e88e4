/**
 * Log rotation without a restart: the log file destination (in-process), then a real `apf start`
 * logging at debug to a file while logrotate — the real one with deploy/logrotate/apf, or its
 * postrotate script when logrotate is not installed — rotates it. Every cycle the process
 * committed to Redis must appear exactly once across the old and the new file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { isApfError } from '../../../src/errors.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { QueueState } from '../../../src/coordination/queue-state.ts';
import { REOPEN_SIGNAL, openLogFile } from '../../../src/logging/destination.ts';
import { APF_ENTRY } from '../../helpers/cli.ts';
import { isPidAlive, makeTempDir, sleep, spawnTracked, waitUntil } from '../../helpers/processes.ts';
import { useRedis } from '../../helpers/redis-server.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LOGROTATE_CONF = readFileSync(join(ROOT, 'deploy/logrotate/apf'), 'utf8');
const QUEUES = ['LR1', 'LR2', 'LR3', 'LR4', 'LR5', 'LR6'];
const PREFIX = 'lrt';

/** A pino log line. */
interface Rec {
  readonly level: number;
  readonly time: string;
  readonly msg: string;
  readonly queue?: string;
  readonly slot?: number;
  readonly n?: number;
}

/** Every line of a log file parsed as JSON: a torn or merged line fails the test. */
function records(file: string): Rec[] {
  const text = readFileSync(file, 'utf8');
  expect(text === '' || text.endsWith('\n'), `${file} ends in the middle of a record`).toBe(true);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as Rec;
      } catch {
        throw new Error(`${file}:${i + 1} is not a JSON record: ${l.slice(0, 200)}`);
      }
    });
}

/** The shell script between `postrotate` and `endscript`. */
function postrotateScript(conf: string): string {
  const m = /^\s*postrotate\n([\s\S]*?)^\s*endscript$/m.exec(conf);
  if (m === null) throw new Error('deploy/logrotate/apf has no postrotate script');
  return m[1] as string;
}

/** deploy/logrotate/apf pointed at a test directory and pid file, owned by whoever runs the test. */
function testConf(logDir: string, pidFile: string): string {
  const conf = LOGROTATE_CONF.replaceAll('/var/log/apf', logDir)
    .replaceAll('/run/apf/apf.pid', pidFile)
    .replace(/^\s*su apf apf\n/m, '')
    .replace('create 0640 apf apf', 'create 0640');
  expect(conf).not.toMatch(/\/var\/log\/apf|\/run\/apf|apf apf/);
  return conf;
}

const logrotate = await execa('sh', ['-c', 'command -v logrotate'], { reject: false });
const haveLogrotate = logrotate.exitCode === 0;

describe('logging/destination + deploy/logrotate', () => {
  describe('openLogFile (in process)', () => {
    const dir = makeTempDir('apf-logfile-');

    it('sends records before a reopen to the renamed file and later ones to the new file, losing none', () => {
      const path = join(dir, 'a.log');
      const file = openLogFile({ path, reopenSignal: null });
      const log = pino({ base: {} }, file.stream);
      const reopened: Array<Error | null> = [];
      file.onReopen((err) => reopened.push(err));
      for (let i = 0; i < 500; i++) {
        if (i === 300) {
          renameSync(path, `${path}.1`);
          file.reopen();
        }
        log.info({ i }, 'tick');
      }
      file.close();
      const old = records(`${path}.1`).map((r) => (r as unknown as { i: number }).i);
      const fresh = records(path).map((r) => (r as unknown as { i: number }).i);
      expect(old).toEqual(Array.from({ length: 300 }, (_, i) => i));
      expect(fresh).toEqual(Array.from({ length: 200 }, (_, i) => 300 + i));
      expect(reopened).toEqual([null]);
      expect(statSync(path).mode & 0o777).toBe(0o640);
    });

    it('reopens on SIGUSR1 until closed', () => {
      const path = join(dir, 'b.log');
      const before = process.listenerCount(REOPEN_SIGNAL);
      const file = openLogFile({ path });
      expect(process.listenerCount(REOPEN_SIGNAL)).toBe(before + 1);
      const log = pino({ base: {} }, file.stream);
      log.info('one');
      renameSync(path, `${path}.1`);
      process.emit(REOPEN_SIGNAL, REOPEN_SIGNAL);
      log.info('two');
      file.close();
      file.close();
      expect(process.listenerCount(REOPEN_SIGNAL)).toBe(before);
      expect(records(`${path}.1`).map((r) => r.msg)).toEqual(['one']);
      expect(records(path).map((r) => r.msg)).toEqual(['two']);
    });

    it('keeps writing to the old file when the path cannot be reopened, and says so', async () => {
      const sub = join(dir, 'gone');
      mkdirSync(sub);
      const path = join(sub, 'c.log');
      const file = openLogFile({ path, reopenSignal: null });
      const errors: Array<Error | null> = [];
      file.onReopen((err) => errors.push(err));
      const log = pino({ base: {} }, file.stream);
      log.info('before');
      renameSync(sub, `${sub}.moved`);
      file.reopen();
      log.info('after');
      await sleep(20);
      expect(errors).toHaveLength(1);
      expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOENT');
      // Once the directory is back, the next reopen works, and nothing else is reported.
      mkdirSync(sub);
      file.reopen();
      log.info('recovered');
      await sleep(20);
      file.close();
      expect(errors.map((e) => (e === null ? null : (e as NodeJS.ErrnoException).code))).toEqual(['ENOENT', null]);
      expect(records(join(`${sub}.moved`, 'c.log')).map((r) => r.msg)).toEqual(['before', 'after']);
      expect(records(path).map((r) => r.msg)).toEqual(['recovered']);
    });

    it('refuses a relative path or one it cannot open, with a coded error', () => {
      for (const bad of ['relative.log', join(dir, 'no', 'such', 'dir', 'x.log')]) {
        let err: unknown;
        try {
          openLogFile({ path: bad, reopenSignal: null }).close();
        } catch (e) {
          err = e;
        }
        expect(isApfError(err, 'APF_ERR_LOG_FILE'), bad).toBe(true);
      }
    });
  });

  describe('apf start --log, rotated by logrotate', () => {
    const redis = useRedis();
    const root = makeTempDir('apf-logrotate-');
    let client: Redis | undefined;
    afterAll(async () => {
      await client?.quit().catch(() => client?.disconnect());
    });

    it('the postrotate script never signals a process that is not apf', async () => {
      const pidFile = join(root, 'other.pid');
      const other = await spawnTracked('sleep', ['30'], { name: 'sleep' });
      writeFileSync(pidFile, `${other.pid}\n`);
      const r = await execa('sh', ['-c', postrotateScript(testConf(root, pidFile))], { reject: false, timeout: 20_000 });
      expect(r.exitCode).toBe(0);
      await sleep(200);
      expect(other.running()).toBe(true); // SIGUSR1's default action would have ended it
      await other.stop();
    });

    it('rotates under a steady stream of records: every committed cycle is logged exactly once across both files', async () => {
      const cfg = join(root, 'etc');
      const logDir = join(root, 'log');
      const bin = join(root, 'bin');
      for (const d of [cfg, logDir, bin]) mkdirSync(d, { recursive: true });
      // The installed bin is named apf; the postrotate script checks that name in the command line.
      symlinkSync(APF_ENTRY, join(bin, 'apf'));
      writeFileSync(
        join(cfg, 'autopyfactory.conf'),
        [
          '[Factory]',
          'factoryId = apf-logrotate-test',
          'factoryAdminEmail = admin@localhost',
          `baseLogDir = ${join(root, 'pilots')}`,
          'baseLogDirUrl = http://localhost:25880',
          `state.dir = ${join(root, 'state')}`,
          `cluster.prefix = ${PREFIX}`,
          'cluster.lease_ttl = 1.5',
          'cluster.heartbeat = 0.5',
          'cluster.dead_after = 3',
          'cluster.lock_duration = 1.5',
          'cluster.stalled_interval = 1.5',
          'cluster.reconcile_interval = 1',
          'cluster.shutdown_timeout = 5',
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(cfg, 'queues.conf'),
        [
          '[DEFAULT]',
          'enabled = True',
          'apfqueue.sleep = 2',
          'wmsstatusplugin = Static',
          'wmsstatus.static.ready = 1',
          'batchstatusplugin = Static',
          'batchsubmitplugin = Noop',
          'schedplugin = Ready, MaxPerCycle',
          'sched.maxpercycle.maximum = 1',
          ...QUEUES.flatMap((q) => [`[${q}]`, `wmsqueue = ${q}`]),
          '',
        ].join('\n'),
      );
      const logFile = join(logDir, 'apf.log');
      const pidFile = join(root, 'apf.pid');
      const proc = await spawnTracked(
        process.execPath,
        [join(bin, 'apf'), 'start', '--config', cfg, '--instance', 'lrt-1', '--log', logFile, '--pid-file', pidFile, '--allow-root'],
        {
          name: 'apf:lrt-1',
          outputFile: join(root, 'stderr.txt'),
          env: { APF_REDIS_URL: redis().url, APF_LOG_LEVEL: 'debug', NODE_COMPILE_CACHE: join(tmpdir(), 'apf-test-compile-cache') },
        },
      );
      const describeRun = (): string => `stderr: ${existsSync(join(root, 'stderr.txt')) ? readFileSync(join(root, 'stderr.txt'), 'utf8').slice(-2000) : ''}`;
      const cyclesIn = (file: string): number => (existsSync(file) ? records(file).filter((r) => r.msg === 'cycle done').length : 0);
      await waitUntil('6 cycles in the log before the rotation', () => (cyclesIn(logFile) >= 6 ? true : undefined), {
        timeoutMs: 45_000,
        intervalMs: 200,
        describe: describeRun,
      });
      expect(readFileSync(pidFile, 'utf8')).toBe(`${proc.pid}\n`);

      // The rotation, while cycles keep logging.
      if (haveLogrotate) {
        const conf = join(root, 'logrotate.conf');
        writeFileSync(conf, testConf(logDir, pidFile), { mode: 0o644 });
        const r = await execa('logrotate', ['-f', '-v', '-s', join(root, 'logrotate.state'), conf], { reject: false, timeout: 30_000 });
        expect(r.exitCode, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/running postrotate script/);
      } else {
        console.warn('logrotate is not installed: renaming the file and running the postrotate script of deploy/logrotate/apf instead');
        renameSync(logFile, `${logFile}.1`);
        const r = await execa('sh', ['-c', postrotateScript(testConf(logDir, pidFile))], { reject: false, timeout: 20_000 });
        expect(r.exitCode, r.stderr).toBe(0);
      }
      const rotated = `${logFile}.1`;
      expect(existsSync(rotated)).toBe(true);
      await waitUntil('6 cycles in the new file', () => (cyclesIn(logFile) >= 6 ? true : undefined), {
        timeoutMs: 45_000,
        intervalMs: 200,
        describe: describeRun,
      });
      expect(proc.running()).toBe(true);
      expect(proc.signal('SIGTERM')).toBe(true);
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(existsSync(pidFile)).toBe(false);

      const old = records(rotated);
      const fresh = records(logFile);
      // The new file starts with the reopen; the process ran on and stopped cleanly into it.
      expect(fresh[0]?.msg).toBe('log file reopened');
      expect(fresh.at(-1)?.msg).toBe('stopped');
      expect(old.some((r) => r.msg === 'instance started')).toBe(true);
      expect(Date.parse((old.at(-1) as Rec).time)).toBeLessThanOrEqual(Date.parse((fresh[0] as Rec).time));
      // A steady debug stream on both sides of the rotation.
      expect(old.filter((r) => r.level === 20).length).toBeGreaterThan(0);
      expect(fresh.filter((r) => r.level === 20).length).toBeGreaterThan(0);

      // What the process did, as Redis recorded it, against what the two files say.
      client = new Redis(redis().url, { maxRetriesPerRequest: 1 });
      const state = new QueueState(client, new Keys(PREFIX), { history: 500 });
      const committed: string[] = [];
      for (const q of QUEUES) for (const rec of await state.history(q)) committed.push(`${rec.queue}@${rec.slot}`);
      const logged = [...old, ...fresh].filter((r) => r.msg === 'cycle done').map((r) => `${r.queue}@${r.slot}`);
      expect(committed.length).toBeGreaterThanOrEqual(12);
      expect(new Set(logged).size).toBe(logged.length);
      expect([...logged].sort()).toEqual([...committed].sort());
      expect(isPidAlive(proc.pid)).toBe(false);
    });
  });
});
