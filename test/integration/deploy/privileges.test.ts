/**
 * `apf start` started as root, as APF's init script did: it drops to --runas or factoryUser after
 * giving that user the log file, the pid file and the state directory. Checked from outside, in
 * /proc/<pid>/status and on the files. Needs root (CI runs as root) and creates a temporary
 * system user, removed afterwards.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APF_ENTRY, runApf } from '../../helpers/cli.ts';
import { makeTempDir, spawnTracked, waitUntil, type TrackedProcess } from '../../helpers/processes.ts';

const IS_ROOT = process.getuid?.() === 0;
const NOT_ROOT = 'privilege drop tests need root (CI runs them as root): skipped';
const USER = `apft${process.pid % 1_000_000}`;
const COMPILE_CACHE = join(tmpdir(), 'apf-test-compile-cache');

/** Uid, Gid (real, effective, saved, fs) and Groups of a live process. */
function procIds(pid: number): { uid: number[]; gid: number[]; groups: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const nums = (field: string): number[] =>
    (new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  return { uid: nums('Uid'), gid: nums('Gid'), groups: nums('Groups') };
}

interface Rec {
  readonly msg: string;
  readonly [k: string]: unknown;
}

function logRecords(file: string): Rec[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Rec);
}

describe('util/privileges: apf start as root', () => {
  const root = makeTempDir('apf-privileges-');
  let uid = -1;
  let gid = -1;
  const home = join(root, 'home');

  /** A configuration with in-process fake plugins and an embedded Redis under its own state dir. */
  const writeConfig = (name: string, factoryUser?: string): { cfg: string; state: string } => {
    const cfg = join(root, name, 'etc');
    const state = join(root, name, 'state');
    mkdirSync(cfg, { recursive: true });
    writeFileSync(
      join(cfg, 'autopyfactory.conf'),
      [
        '[Factory]',
        'factoryId = apf-privileges-test',
        'factoryAdminEmail = admin@localhost',
        ...(factoryUser === undefined ? [] : [`factoryUser = ${factoryUser}`]),
        `baseLogDir = ${join(root, name, 'pilots')}`,
        'baseLogDirUrl = http://localhost:25880',
        `state.dir = ${state}`,
        `cluster.prefix = priv${name}`,
        'cluster.shutdown_timeout = 5',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(cfg, 'queues.conf'),
      ['[Q1]', 'wmsqueue = Q1', 'apfqueue.sleep = 60', 'wmsstatusplugin = Static', 'batchstatusplugin = Static', 'batchsubmitplugin = Noop', 'schedplugin = Ready', ''].join('\n'),
    );
    return { cfg, state };
  };

  const start = async (name: string, args: readonly string[]): Promise<{ proc: TrackedProcess; log: string }> => {
    const log = join(root, name, 'apf.log');
    const proc = await spawnTracked(process.execPath, [APF_ENTRY, 'start', '--log', log, ...args], {
      name: `apf:${name}`,
      outputFile: join(root, name, 'stderr.txt'),
      env: { APF_LOG_LEVEL: 'info', NODE_COMPILE_CACHE: COMPILE_CACHE },
    });
    await waitUntil('"instance started" in the log', () => (logRecords(log).some((r) => r.msg === 'instance started') ? true : undefined), {
      timeoutMs: 45_000,
      intervalMs: 100,
      describe: () => `process ${proc.running() ? 'running' : 'exited'}; stderr: ${readFileSync(join(root, name, 'stderr.txt'), 'utf8').slice(-1500)}`,
    });
    return { proc, log };
  };

  beforeAll(async () => {
    if (!IS_ROOT) return;
    // Every directory on the way must be traversable by the user, as /etc/apf and /var/lib are.
    chmodSync(root, 0o755);
    await execa('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', home, '--shell', '/usr/sbin/nologin', USER], { timeout: 30_000 });
    uid = Number((await execa('id', ['-u', USER])).stdout);
    gid = Number((await execa('id', ['-g', USER])).stdout);
    mkdirSync(home);
    chownSync(home, uid, gid);
  });

  afterAll(async () => {
    if (!IS_ROOT) return;
    await execa('userdel', [USER], { reject: false, timeout: 30_000 });
    const gone = await execa('id', [USER], { reject: false });
    expect(gone.exitCode).not.toBe(0);
  });

  it('--runas USER: the process, its redis-server child, the log, pid and state files all belong to the user', async (ctx) => {
    if (!IS_ROOT) ctx.skip(NOT_ROOT);
    const { cfg, state } = writeConfig('runas');
    const run = join(root, 'runas', 'run');
    mkdirSync(run);
    chownSync(run, uid, gid); // /run/apf, made by the admin for the pid file
    // A state directory that root wrote to before (an earlier run as root): it is given away whole.
    mkdirSync(join(state, 'redis'), { recursive: true });
    writeFileSync(join(state, 'redis', 'leftover'), 'x');
    const pidFile = join(run, 'apf.pid');
    const { proc, log } = await start('runas', ['--config', cfg, '--runas', USER, '--pid-file', pidFile, '--instance', 'priv-1']);

    const ids = procIds(proc.pid);
    expect(ids.uid).toEqual([uid, uid, uid, uid]);
    expect(ids.gid).toEqual([gid, gid, gid, gid]);
    expect(ids.groups).toEqual([gid]);
    expect(readlinkSync(`/proc/${proc.pid}/cwd`)).toBe(home);
    for (const path of [log, pidFile, state, join(state, 'redis'), join(state, 'redis', 'leftover')]) {
      expect([statSync(path).uid, statSync(path).gid], path).toEqual([uid, gid]);
    }
    expect(readFileSync(pidFile, 'utf8')).toBe(`${proc.pid}\n`);
    const records = logRecords(log);
    expect(records.find((r) => r.msg === 'privileges dropped')).toMatchObject({ user: USER, uid, gid, home, from: '--runas' });
    const redis = records.find((r) => r.msg === 'embedded redis-server started');
    expect(procIds(Number(redis?.['pid'])).uid).toEqual([uid, uid, uid, uid]);

    expect(proc.signal('SIGTERM')).toBe(true);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(pidFile)).toBe(false);
    expect(logRecords(log).at(-1)?.msg).toBe('stopped');
  });

  it('factoryUser: the same drop without --runas', async (ctx) => {
    if (!IS_ROOT) ctx.skip(NOT_ROOT);
    const { cfg } = writeConfig('factoryuser', USER);
    const { proc, log } = await start('factoryuser', ['--config', cfg, '--instance', 'priv-2']);
    expect(procIds(proc.pid).uid).toEqual([uid, uid, uid, uid]);
    expect(logRecords(log).find((r) => r.msg === 'privileges dropped')).toMatchObject({ user: USER, from: 'factoryUser' });
    expect(proc.signal('SIGTERM')).toBe(true);
    expect((await proc.exited).code).toBe(0);
  });

  it('an unknown user: exit 1 naming it, nothing started', async (ctx) => {
    if (!IS_ROOT) ctx.skip(NOT_ROOT);
    const { cfg, state } = writeConfig('unknown', 'apf-no-such-user');
    const viaConfig = await runApf(['start', '--config', cfg], { timeoutMs: 45_000 });
    expect(viaConfig.code).toBe(1);
    expect(viaConfig.stderr).toContain(`unknown user "apf-no-such-user" (factoryUser (${join(cfg, 'autopyfactory.conf')}:4))`);
    const viaFlag = await runApf(['start', '--config', cfg, '--runas', 'apf-no-such-user2'], { timeoutMs: 45_000 });
    expect(viaFlag.code).toBe(1);
    expect(viaFlag.stderr).toContain('unknown user "apf-no-such-user2" (--runas)');
    expect(existsSync(state)).toBe(false);
  });

  it('root with no user: refuses to run (exit 1), unless --allow-root', async (ctx) => {
    if (!IS_ROOT) ctx.skip(NOT_ROOT);
    const { cfg } = writeConfig('nouser');
    const r = await runApf(['start', '--config', cfg], { timeoutMs: 45_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refusing to run as root: set factoryUser or --runas');
    const { proc } = await start('nouser', ['--config', cfg, '--allow-root', '--instance', 'priv-3']);
    expect(procIds(proc.pid).uid).toEqual([0, 0, 0, 0]);
    expect(proc.signal('SIGTERM')).toBe(true);
    expect((await proc.exited).code).toBe(0);
  });

  it('not root: --runas naming another user is refused (only root can switch)', async (ctx) => {
    if (!IS_ROOT) ctx.skip(NOT_ROOT);
    // The user must be able to run this node and read the checkout (.ci/run installs Node where
    // it can; a node under /root cannot be run by anyone else).
    const probe = await execa(process.execPath, ['-e', `require('node:fs').accessSync(${JSON.stringify(APF_ENTRY)})`], {
      uid,
      gid,
      cwd: home,
      reject: false,
      timeout: 30_000,
      stdin: 'ignore',
    });
    if (probe.exitCode !== 0) ctx.skip(`user ${USER} cannot run ${process.execPath} on ${APF_ENTRY}: ${(probe.message ?? probe.stderr).split('\n')[0] ?? ''}`);
    const { cfg } = writeConfig('asuser');
    const r = await execa(process.execPath, [APF_ENTRY, 'start', '--config', cfg, '--runas', 'root'], {
      uid,
      gid,
      cwd: home,
      reject: false,
      timeout: 45_000,
      env: { APF_LOG_LEVEL: 'warn', HOME: home },
      stdin: 'ignore',
    });
    expect(r.exitCode, r.message).toBe(1);
    expect(r.stderr).toContain(`--runas root needs root: apf runs as ${USER}`);
  });
});
