/**
 * compose.yaml, checked without a Docker engine: the file is parsed (YAML merge keys as Compose
 * reads them) and its services, references, ports, volumes, environment, healthchecks and
 * profiles are checked; the demo's configuration is loaded with apf's loader, and the demo's
 * simulator commands and the PanDA simulator's healthcheck are run as written (paths mapped into
 * a temporary directory, ports onto free loopback ports).
 */
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config/load.ts';
import { runCommand } from '../../../src/util/exec.ts';
import { freePort } from '../../helpers/free-port.ts';
import { sleep, spawnTracked } from '../../helpers/processes.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TEXT = readFileSync(join(ROOT, 'compose.yaml'), 'utf8');

interface Healthcheck { test: string[]; interval?: string; retries?: number }
interface Service {
  image?: string; build?: { context: string; dockerfile: string }; profiles?: string[];
  command?: string[]; entrypoint?: string[]; environment?: Record<string, string>;
  ports?: string[]; volumes?: string[]; tmpfs?: string[]; read_only?: boolean; cap_drop?: string[];
  healthcheck?: Healthcheck; depends_on?: Record<string, { condition: string }>; deploy?: { replicas?: number };
}
interface ComposeFile { name?: string; version?: unknown; services: Record<string, Service>; volumes?: Record<string, unknown> }

const COMPOSE = parse(TEXT, { merge: true }) as ComposeFile;
const SERVICES = COMPOSE.services;
const service = (name: string): Service => {
  const s = SERVICES[name];
  if (s === undefined) throw new Error(`no service ${name}`);
  return s;
};
/** Compose interpolation with every variable unset: `${X:-default}` → default, `$$` → `$`. */
const interpolate = (s: string): string => s.replace(/\$\$|\$\{(\w+)(?::?-([^}]*))?\}/g, (m, _v: string | undefined, d: string | undefined) => (m === '$$' ? '$' : (d ?? '')));
/** The apf instances: services that run `apf start`. */
const APF = Object.entries(SERVICES).filter(([, s]) => [...(s.command ?? []), ...(s.entrypoint ?? [])].join(' ').includes('apf start') || s.image?.includes('APF_IMAGE') === true);
const PKG_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let work = '';
afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('compose.yaml', () => {
  it('has a project name, no obsolete version key, and declares every named volume it uses', () => {
    expect(COMPOSE.name).toBe('apf');
    expect('version' in COMPOSE).toBe(false);
    const declared = new Set(Object.keys(COMPOSE.volumes ?? {}));
    const used = new Set<string>();
    for (const [name, s] of Object.entries(SERVICES)) {
      for (const v of s.volumes ?? []) {
        const source = interpolate(v).split(':')[0] ?? '';
        if (/^[./]/.test(source)) continue; // a bind mount
        expect(declared.has(source), `${name}: volume ${source} is not declared`).toBe(true);
        used.add(source);
      }
    }
    expect([...declared].filter((d) => !used.has(d))).toEqual([]);
  });

  it('pins every image: Redis to an exact version, apf to this package version', () => {
    expect(service('redis').image).toMatch(/^redis:\d+\.\d+\.\d+-alpine$/);
    for (const [name, s] of Object.entries(SERVICES).filter(([n]) => n !== 'redis')) {
      expect(interpolate(s.image ?? ''), name).toBe(`apf:${PKG_VERSION}`);
    }
    const built = Object.values(SERVICES).filter((s) => s.build !== undefined);
    expect(built.length).toBeGreaterThan(0);
    for (const s of built) expect(existsSync(join(ROOT, s.build?.context ?? '', s.build?.dockerfile ?? ''))).toBe(true);
  });

  it('Redis keeps an append-only file on a named volume and is healthy when redis-cli ping answers', () => {
    const redis = service('redis');
    expect(redis.command?.join(' ')).toMatch(/--appendonly yes/);
    expect(redis.volumes).toContain('redis-data:/data');
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(redis.profiles).toBeUndefined(); // in every profile
  });

  it('every dependency exists, has a healthcheck and is awaited as service_healthy', () => {
    for (const [name, s] of Object.entries(SERVICES)) {
      for (const [dep, how] of Object.entries(s.depends_on ?? {})) {
        const target = SERVICES[dep];
        expect(target, `${name} depends on unknown ${dep}`).toBeDefined();
        expect(target?.healthcheck?.test.length, `${dep} has no healthcheck`).toBeGreaterThan(0);
        expect(how.condition, `${name} -> ${dep}`).toBe('service_healthy');
        // a dependency is started in every profile its dependant runs in
        for (const p of s.profiles ?? []) expect(target?.profiles === undefined || target.profiles.includes(p), `${name} -> ${dep} in ${p}`).toBe(true);
      }
    }
  });

  it('runs three apf instances per profile, each publishing the monitor port from a range', () => {
    expect(APF.map(([n]) => n).sort()).toEqual(['apf', 'apf-demo']);
    const profiles = APF.map(([, s]) => s.profiles ?? []);
    expect(profiles).toEqual([['site'], ['demo']]);
    for (const [name, s] of APF) {
      const replicas = s.deploy?.replicas ?? 1;
      expect(replicas, name).toBe(3);
      expect(s.ports).toHaveLength(1);
      const m = /^(?:[\d.]+:)?(\d+)-(\d+):(\d+)$/.exec(s.ports?.[0] ?? '');
      expect(m, `${name}: ${s.ports?.[0] ?? ''} is not a host port range`).not.toBeNull();
      expect(Number(m?.[2]) - Number(m?.[1]) + 1).toBeGreaterThanOrEqual(replicas);
      expect(m?.[3]).toBe(s.environment?.['APF_WEB_PORT']);
      expect(s.depends_on?.['redis']?.condition).toBe('service_healthy');
      // the configuration read-only; the root filesystem too, with the writable paths on volumes
      const config = s.volumes?.map(interpolate).find((v) => v.split(':')[1] === '/etc/apf');
      expect(config?.endsWith(':ro'), `${name}: ${config ?? 'no /etc/apf mount'}`).toBe(true);
      expect(s.read_only).toBe(true);
      expect(s.tmpfs).toContain('/tmp');
      expect(s.cap_drop).toEqual(['ALL']);
      expect(s.volumes?.some((v) => v.split(':')[1] === '/var/log/apf')).toBe(true);
      // /var/lib/apf stays the image's per-container volume: a named one would be shared by the replicas
      expect(s.volumes?.some((v) => v.split(':')[1] === '/var/lib/apf')).toBe(false);
      expect(s.environment?.['APF_LOG_LEVEL']).toBeDefined();
    }
    expect(service('apf').environment?.['APF_REDIS_URL']).toBe('redis://redis:6379/0');
  });

  it('puts the simulators in the demo profile only, next to the demo instances', () => {
    const demo = Object.entries(SERVICES).filter(([, s]) => s.profiles?.includes('demo')).map(([n]) => n).sort();
    expect(demo).toEqual(['apf-demo', 'panda-sim']);
    const site = Object.entries(SERVICES).filter(([, s]) => s.profiles?.includes('site')).map(([n]) => n);
    expect(site).toEqual(['apf']);
    expect(service('apf-demo').depends_on?.['panda-sim']?.condition).toBe('service_healthy');
  });

  it('the demo configuration is valid and points at the compose Redis and PanDA simulator, with no instance id', async () => {
    const mount = service('apf-demo').volumes?.find((v) => v.split(':')[1] === '/etc/apf') ?? '';
    const dir = join(ROOT, mount.split(':')[0] ?? '');
    const loaded = await loadConfig({ dir });
    expect(loaded.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const factory = loaded.config?.factory;
    expect(factory?.cluster.instanceId).toBeUndefined(); // each container's hostname
    const redis = new URL(factory?.cluster.redis.url ?? '');
    expect(SERVICES[redis.hostname]).toBeDefined();
    expect(redis.port).toBe('6379');
    const panda = new URL(factory?.raw.get('wmsstatus.panda.url')?.value ?? '');
    expect(panda.hostname).toBe('panda-sim');
    const pandaArgs = service('panda-sim').command ?? [];
    expect(panda.port).toBe(pandaArgs[pandaArgs.indexOf('--port') + 1]);
    expect(pandaArgs[pandaArgs.indexOf('--host') + 1]).toBe('0.0.0.0');
    expect(String(factory?.web.port)).toBe(service('apf-demo').environment?.['APF_WEB_PORT']);
    expect(factory?.baseLogDir).toBe('/var/log/apf');
    expect(factory?.cluster.stateDir).toBe('/var/lib/apf');
    expect(loaded.config?.queues.size).toBeGreaterThan(0);
  });

  it('the demo instance command sets up its own HTCondor simulator and puts it first on PATH', async () => {
    work = mkdtempSync(join(tmpdir(), 'apf-compose-test-'));
    const s = service('apf-demo');
    expect(s.entrypoint).toEqual(['/bin/sh', '-c']);
    const script = interpolate(s.command?.[0] ?? '');
    const [setup = '', start = ''] = script.split('&&').map((x) => x.trim());
    const bin = /--bin (\S+)/.exec(setup)?.[1];
    expect(bin).toBeDefined();
    expect(start).toBe(`PATH=${bin ?? ''}:$PATH exec apf start --config /etc/apf`);
    // run the setup as written, with `apf` from this checkout and /var/lib/apf mapped to a temp dir
    const local = setup.replace(/^apf /, `${process.execPath} ${join(ROOT, 'src', 'cli', 'main.ts')} `).replaceAll('/var/lib/apf', work);
    const r = await runCommand('sh', ['-c', local], { timeoutMs: 60_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const localBin = (bin ?? '').replace('/var/lib/apf', work);
    for (const tool of ['condor_submit', 'condor_q', 'condor_history', 'condor_rm']) accessSync(join(localBin, tool), constants.X_OK);
    const q = await runCommand(join(localBin, 'condor_q'), ['-totals'], { timeoutMs: 60_000 });
    expect(q.exitCode, q.stderr).toBe(0);
  });

  it('the PanDA simulator serves the scenario baked into the image, and its healthcheck turns healthy', async () => {
    const s = service('panda-sim');
    const args = [...(s.command ?? [])];
    const scenario = args[args.indexOf('--scenario') + 1] ?? '';
    // the image copies config/ to /app/config (deploy/Dockerfile: WORKDIR /app, COPY config ./config)
    expect(readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8')).toMatch(/^COPY config \.\/config$/m);
    expect(scenario.startsWith('/app/config/')).toBe(true);
    const local = join(ROOT, scenario.slice('/app/'.length));
    expect(existsSync(local)).toBe(true);
    const test = s.healthcheck?.test ?? [];
    expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    const composePort = args[args.indexOf('--port') + 1] ?? '';
    const port = String(await freePort());
    const check = (test[3] ?? '').replaceAll(`:${composePort}/`, `:${port}/`);
    const healthy = async () => (await runCommand(process.execPath, ['-e', check], { timeoutMs: 10_000 })).exitCode === 0;
    expect(await healthy()).toBe(false); // not started yet
    args[args.indexOf('--port') + 1] = port;
    args[args.indexOf('--host') + 1] = '127.0.0.1';
    args[args.indexOf('--scenario') + 1] = local;
    const sim = await spawnTracked(process.execPath, [join(ROOT, 'src', 'cli', 'main.ts'), ...args], { name: 'panda-sim' });
    try {
      let ok = false;
      for (let i = 0; i < 100 && !ok && sim.running(); i++) {
        ok = await healthy();
        if (!ok) await sleep(200);
      }
      expect(ok).toBe(true);
    } finally {
      await sim.stop();
    }
  });
});
