/**
 * The Helm chart helm/apf, rendered by the real helm binary (scripts/helm.sh fetches it once into
 * .tools/): `helm lint --strict`, then assertions on the parsed manifests of the default values
 * and of every ci/*-values.yaml. No cluster is needed or contacted.
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { loadConfig } from '../../../src/config/load.ts';
import type { RedisSettings } from '../../../src/config/types.ts';
import { runCommand, type CommandResult } from '../../../src/util/exec.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHART = join(ROOT, 'helm', 'apf');
const CI = readdirSync(join(CHART, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();
const VARIANTS = ['default', ...CI];
const NS = 'apf-ns';

interface Meta { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface SecurityContext {
  runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[] }; seccompProfile?: { type: string };
}
interface Probe { httpGet?: { path: string; port: string | number }; exec?: { command: string[] }; tcpSocket?: { port: string | number } }
interface Container {
  name: string; image: string; command?: string[]; args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name: string; containerPort: number }[]; livenessProbe?: Probe; readinessProbe?: Probe; startupProbe?: Probe;
  securityContext?: SecurityContext; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string; configMap?: { name: string }; secret?: { secretName: string; items?: { key: string; path: string }[] };
  emptyDir?: object; persistentVolumeClaim?: { claimName: string };
  projected?: { sources: { secret: { name: string; items?: { key: string; path: string }[] } }[] };
}
interface PodSpec { containers: Container[]; volumes?: Volume[]; securityContext?: SecurityContext; enableServiceLinks?: boolean }
interface StatefulSetSpec {
  replicas: number; serviceName: string; selector: { matchLabels: Record<string, string> };
  template: { metadata: Meta; spec: PodSpec }; volumeClaimTemplates?: { metadata: { name: string } }[];
}
interface ServiceSpec { clusterIP?: string; selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] }
interface K8sObject { apiVersion: string; kind: string; metadata: Meta; data?: Record<string, string>; spec?: unknown }

let helm = '';
let work = '';

function helmRun(args: readonly string[]): Promise<CommandResult> {
  const home = join(work, 'helm-home');
  return runCommand(helm, args, {
    timeoutMs: 60_000,
    cwd: ROOT,
    env: { HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') },
  });
}

function valuesArgs(variant: string): string[] {
  return variant === 'default' ? [] : ['-f', join(CHART, 'ci', variant)];
}

let fileCount = 0;
/** Writes `values` to a temporary values file and returns `-f <file>`. */
function valuesFile(values: unknown): string[] {
  const file = join(work, `values-${++fileCount}.yaml`);
  writeFileSync(file, stringify(values));
  return ['-f', file];
}

function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
    if (doc.errors.length > 0) throw doc.errors[0] as Error;
    const obj = doc.toJS() as K8sObject | null;
    if (obj !== null) out.push(obj);
  }
  return out;
}

async function render(extra: readonly string[] = []): Promise<K8sObject[]> {
  const r = await helmRun(['template', 'rel', CHART, '--namespace', NS, ...extra]);
  if (r.exitCode !== 0) throw new Error(`helm template ${extra.join(' ')} failed:\n${r.stderr}`);
  return parseManifests(r.stdout);
}

/** Renders expecting failure; resolves with helm's error output. */
async function renderError(extra: readonly string[]): Promise<string> {
  const r = await helmRun(['template', 'rel', CHART, '--namespace', NS, ...extra]);
  expect(r.exitCode, `expected a render failure, got:\n${r.stdout.slice(0, 400)}`).not.toBe(0);
  return r.stderr;
}

function find(objs: readonly K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objs.find((o) => o.kind === kind && o.metadata.name === name);
}
function get(objs: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = find(objs, kind, name);
  if (o === undefined) throw new Error(`no ${kind}/${name} in [${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}]`);
  return o;
}
const sts = (o: K8sObject): StatefulSetSpec => o.spec as StatefulSetSpec;
const svc = (o: K8sObject): ServiceSpec => o.spec as ServiceSpec;
/** Every pod spec of the manifests: StatefulSet templates and bare Pods (the helm test). */
function podSpecs(objs: readonly K8sObject[]): [string, PodSpec][] {
  return objs.flatMap((o): [string, PodSpec][] =>
    o.kind === 'StatefulSet' ? [[o.metadata.name, sts(o).template.spec]] : o.kind === 'Pod' ? [[o.metadata.name, o.spec as PodSpec]] : []);
}
const apfContainer = (objs: readonly K8sObject[]): Container => sts(get(objs, 'StatefulSet', 'rel-apf')).template.spec.containers[0] as Container;
const iniOf = (objs: readonly K8sObject[], file: string): string => get(objs, 'ConfigMap', 'rel-apf').data?.[file] ?? '';

/** Loads the rendered /etc/apf with apf's own loader. */
async function loadRendered(objs: readonly K8sObject[]) {
  const dir = mkdtempSync(join(work, 'etc-'));
  for (const [name, text] of Object.entries(get(objs, 'ConfigMap', 'rel-apf').data ?? {})) writeFileSync(join(dir, name), text);
  return loadConfig({ dir });
}

const rendered = new Map<string, K8sObject[]>();
const variant = (v: string): K8sObject[] => rendered.get(v) ?? [];
const ciValues = (v: string): Record<string, unknown> => parse(readFileSync(join(CHART, 'ci', v), 'utf8')) as Record<string, unknown>;

describe('helm/apf', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'apf-helm-test-'));
    mkdirSync(join(work, 'helm-home'));
    const r = await runCommand('sh', [join(ROOT, 'scripts', 'helm.sh')], { timeoutMs: 170_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    helm = r.stdout.trim();
    for (const v of VARIANTS) rendered.set(v, await render(valuesArgs(v)));
  }, 180_000);
  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it.each(VARIANTS)('helm lint --strict passes with %s values', async (v) => {
    const r = await helmRun(['lint', '--strict', CHART, ...valuesArgs(v)]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('0 chart(s) failed');
  });

  it('values.schema.json rejects a wrong type, an unknown key and a Redis URL with a password', async () => {
    const lint = await helmRun(['lint', '--strict', CHART, '--set', 'replicas=two']);
    expect(lint.exitCode).not.toBe(0);
    expect(lint.stdout + lint.stderr).toMatch(/replicas.*want integer/s);
    expect(await renderError(['--set', 'replicaz=3'])).toMatch(/replicaz/);
    expect(await renderError(valuesFile({ redis: { bundled: { enabled: false }, external: { url: 'redis://:hunter2@redis:6379' } } }))).toMatch(/redis\/external\/url/);
  });

  it('every key of values.yaml has a helm-docs `# --` comment (itself or an ancestor)', () => {
    const lines = readFileSync(join(CHART, 'values.yaml'), 'utf8').split('\n');
    const stack: { indent: number; documented: boolean }[] = [];
    const undocumented: string[] = [];
    lines.forEach((line, i) => {
      const m = /^( *)([\w.-]+):(.*)$/.exec(line);
      if (m === null) return;
      const indent = (m[1] ?? '').length;
      while (stack.length > 0 && (stack.at(-1)?.indent ?? 0) >= indent) stack.pop();
      let j = i - 1;
      const comment: string[] = [];
      while (j >= 0 && /^\s*#/.test(lines[j] ?? '')) comment.push(lines[j--] ?? '');
      const documented = comment.some((c) => /^\s*# -- \S/.test(c)) || stack.some((s) => s.documented);
      const next = lines.slice(i + 1).find((l) => !/^\s*(#|$)/.test(l)) ?? '';
      const isParent = (m[3] ?? '').trim() === '' && /^ *[\w.-]+:/.test(next) && (/^ */.exec(next)?.[0].length ?? 0) > indent;
      if (!documented && !isParent) undocumented.push(`${i + 1}: ${line.trim()}`);
      stack.push({ indent, documented });
    });
    expect(undocumented).toEqual([]);
  });

  describe.each(VARIANTS)('rendered with %s values', (v) => {
    it('every object is well-formed and every reference resolves', () => {
      const objs = variant(v);
      const keys = objs.map((o) => `${o.kind}/${o.metadata.name}`);
      expect(new Set(keys).size).toBe(keys.length);
      for (const o of objs) {
        expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        expect(o.metadata.name.length).toBeLessThanOrEqual(63);
        expect(o.metadata.namespace).toBe(NS);
        expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe('rel');
      }
      for (const set of objs.filter((o) => o.kind === 'StatefulSet')) {
        const spec = sts(set);
        // the selector selects the pods, and the governing Service exists
        for (const [k, val] of Object.entries(spec.selector.matchLabels)) expect(spec.template.metadata.labels?.[k]).toBe(val);
        expect(find(objs, 'Service', spec.serviceName)).toBeDefined();
        const claims = new Set((spec.volumeClaimTemplates ?? []).map((c) => c.metadata.name));
        const volumes = new Set((spec.template.spec.volumes ?? []).map((x) => x.name));
        for (const c of spec.template.spec.containers) {
          for (const m of c.volumeMounts ?? []) expect(volumes.has(m.name) || claims.has(m.name), `${set.metadata.name}: mount ${m.name}`).toBe(true);
          const ports = new Set((c.ports ?? []).map((p) => p.name));
          for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
            const port = p?.httpGet?.port ?? p?.tcpSocket?.port;
            if (typeof port === 'string') expect(ports.has(port), `${set.metadata.name}: probe port ${port}`).toBe(true);
          }
        }
        for (const vol of spec.template.spec.volumes ?? []) {
          expect(claims.has(vol.name), `${vol.name} is both a volume and a claim template`).toBe(false);
          if (vol.configMap !== undefined) expect(find(objs, 'ConfigMap', vol.configMap.name)).toBeDefined();
        }
      }
      for (const service of objs.filter((o) => o.kind === 'Service')) {
        const selected = objs.filter((o) => o.kind === 'StatefulSet' && Object.entries(svc(service).selector).every(([k, val]) => sts(o).template.metadata.labels?.[k] === val));
        expect(selected.length, `${service.metadata.name} selects one StatefulSet`).toBe(1);
        const target = selected[0] as K8sObject;
        const portNames = sts(target).template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
        for (const p of svc(service).ports) expect(portNames).toContain(p.targetPort);
      }
    });

    it('every pod runs non-root with a read-only root filesystem, no capabilities and RuntimeDefault seccomp', () => {
      const pods = podSpecs(variant(v));
      expect(pods.length).toBeGreaterThanOrEqual(2); // the instances and the helm test pod
      for (const [name, pod] of pods) {
        expect(pod.securityContext?.runAsNonRoot, name).toBe(true);
        expect(pod.securityContext?.seccompProfile?.type, name).toBe('RuntimeDefault');
        expect(pod.enableServiceLinks, name).toBe(false);
        for (const c of pod.containers) {
          expect(c.securityContext?.readOnlyRootFilesystem, `${name}/${c.name}`).toBe(true);
          expect(c.securityContext?.allowPrivilegeEscalation, `${name}/${c.name}`).toBe(false);
          expect(c.securityContext?.capabilities?.drop, `${name}/${c.name}`).toEqual(['ALL']);
        }
      }
      // the image's apf user (deploy/Dockerfile USER 10001)
      expect(sts(get(variant(v), 'StatefulSet', 'rel-apf')).template.spec.securityContext?.runAsUser).toBe(10001);
    });

    it('each instance is named by its pod, probed on /healthz and /readyz, and has its writable paths on volumes', () => {
      const c = apfContainer(variant(v));
      expect(c.args).toEqual(['start', '--config', '/etc/apf', '--instance', '$(POD_NAME)']);
      expect(c.env?.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
      expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.mountPath, m]));
      for (const path of ['/tmp', '/var/lib/apf', '/var/log/apf']) expect(mounts.get(path)?.readOnly, path).not.toBe(true);
      expect(mounts.get('/etc/apf')?.readOnly).toBe(true);
      expect(c.env?.find((e) => e.name === 'APF_WEB_PORT')?.value).toBe(String(c.ports?.[0]?.containerPort));
    });

    it('the rendered configuration is valid for apf and names this release\'s Redis', async () => {
      const objs = variant(v);
      const loaded = await loadRendered(objs);
      expect(loaded.problems.filter((p) => p.severity === 'error')).toEqual([]);
      const redis = loaded.config?.factory.cluster.redis as RedisSettings;
      const bundled = find(objs, 'StatefulSet', 'rel-apf-redis') !== undefined;
      if (bundled) expect(redis.url).toBe(`redis://rel-apf-redis.${NS}.svc:6379/0`);
      else expect(redis.url !== undefined || redis.sentinels.length > 0).toBe(true);
      expect(loaded.config?.factory.cluster.instanceId).toBeUndefined();
      expect(loaded.config?.factory.cluster.stateDir).toBe('/var/lib/apf');
      expect(loaded.config?.factory.web.port).toBe(apfContainer(objs).ports?.[0]?.containerPort);
    });
  });

  it('replicas: 3 by default, from the values otherwise; the PDB lets one instance go at a time', async () => {
    expect(sts(get(variant('default'), 'StatefulSet', 'rel-apf')).replicas).toBe(3);
    expect(sts(get(variant('five-replicas-values.yaml'), 'StatefulSet', 'rel-apf')).replicas).toBe(5);
    const seven = await render(['--set', 'replicas=7']);
    expect(sts(get(seven, 'StatefulSet', 'rel-apf')).replicas).toBe(7);
    const pdb = get(seven, 'PodDisruptionBudget', 'rel-apf').spec as { maxUnavailable: number; selector: { matchLabels: Record<string, string> } };
    expect(pdb.maxUnavailable).toBe(1);
    expect(pdb.selector.matchLabels).toEqual(sts(get(seven, 'StatefulSet', 'rel-apf')).selector.matchLabels);
    // the helm test asks every instance, by its stable name
    const targets = (get(seven, 'Pod', 'rel-apf-test-readyz').spec as PodSpec).containers[0]?.env?.find((e) => e.name === 'TARGETS')?.value ?? '';
    expect(targets.split(/\s+/)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `http://rel-apf-${i}.rel-apf-headless.${NS}.svc:25880/readyz`));
  });

  it('checksum/config changes when the configuration changes, and only then', async () => {
    const checksum = (objs: readonly K8sObject[]): string => sts(get(objs, 'StatefulSet', 'rel-apf')).template.metadata.annotations?.['checksum/config'] ?? '';
    const base = checksum(variant('default'));
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(await render())).toBe(base);
    expect(checksum(await render(['--set', 'replicas=5', '--set', 'logLevel=debug']))).toBe(base);
    const changed = await render(valuesFile({ config: { ini: { 'autopyfactory.conf': { Factory: { 'cluster.lease_ttl': 20 } } } } }));
    expect(iniOf(changed, 'autopyfactory.conf')).toContain('cluster.lease_ttl = 20');
    expect(checksum(changed)).not.toBe(base);
    // a chart-managed key changes the rendered INI, hence the checksum too
    expect(checksum(await render(['--set', 'web.port=26000']))).not.toBe(base);
  });

  it.each(CI)('secret values of %s end up in the Secret only, referenced by file', (v) => {
    const values = ciValues(v) as {
      web?: { admin?: { token?: string } }; redis?: { auth?: { password?: string }; external?: { sentinel?: { auth?: { password?: string } } } };
      secrets?: { files?: Record<string, string> };
    };
    const secrets = [values.web?.admin?.token, values.redis?.auth?.password, values.redis?.external?.sentinel?.auth?.password, ...Object.values(values.secrets?.files ?? {})]
      .filter((s): s is string => typeof s === 'string' && s !== '');
    expect(secrets.length).toBeGreaterThan(0);
    const objs = variant(v);
    for (const o of objs.filter((x) => x.kind !== 'Secret')) {
      const text = JSON.stringify(o);
      for (const s of secrets) expect(text.includes(s), `${s} in ${o.kind}/${o.metadata.name}`).toBe(false);
    }
    const stored = Object.values(get(objs, 'Secret', 'rel-apf').data ?? {}).map((b) => Buffer.from(b, 'base64').toString('utf8'));
    for (const s of secrets) expect(stored).toContain(s);
    const ini = iniOf(objs, 'autopyfactory.conf');
    if (values.redis?.auth?.password !== undefined) expect(ini).toContain('redis.password_file = /etc/apf-secrets/redis-password');
    if (values.web?.admin?.token !== undefined) expect(ini).toContain('web.admin_token_file = /etc/apf-secrets/admin-token');
    const projected = sts(get(objs, 'StatefulSet', 'rel-apf')).template.spec.volumes?.find((x) => x.name === 'secrets')?.projected;
    const items = projected?.sources.flatMap((s) => s.secret.items ?? []).map((i) => i.path) ?? [];
    for (const name of Object.keys(values.secrets?.files ?? {})) expect(items).toContain(name);
  });

  const leaks: [string, unknown][] = [
    ['a password key in [Factory]', { config: { ini: { 'autopyfactory.conf': { Factory: { 'redis.password': 'pw' } } } } }],
    ['a token key in a queue section', { config: { ini: { 'queues.conf': { Q1: { api_token: 'tk' } } } } }],
    ['a URL with a password in a value', { config: { ini: { 'queues.conf': { Q1: { 'wmsstatus.panda.url': 'https://bob:pw@panda.example.org' } } } } }],
    ['PEM material in a value', { config: { ini: { 'auth.conf': { P: { 'x509.usercert': '-----BEGIN CERTIFICATE-----\nMIIB' } } } } }],
    ['a secret key in a verbatim file', { config: { files: { 'auth.conf': '[P]\n# a comment mentioning a password is fine\nssh.passphrase = pw\n' } } }],
    ['PEM material in a verbatim file', { config: { files: { 'x.pem': '-----BEGIN PRIVATE KEY-----\nAAAA\n' } } }],
  ];
  it.each(leaks)('rendering fails for %s (a ConfigMap-bound value)', async (_what, values) => {
    expect(await renderError(valuesFile(values))).toMatch(/secret|PEM|password/i);
  });

  it('a path to a secret file is fine in the configuration, and the keys the chart owns cannot be set there', async () => {
    const ok = await render(valuesFile({ config: { ini: { 'auth.conf': { P: { plugin: 'X509', 'x509.proxyfile': '/etc/apf-secrets/x509up' } } } } }));
    expect(iniOf(ok, 'auth.conf')).toContain('x509.proxyfile = /etc/apf-secrets/x509up');
    for (const key of ['redis.url', 'instance.id', 'web.port', 'web.admin_token_file', 'state.dir']) {
      const err = await renderError(valuesFile({ config: { ini: { 'autopyfactory.conf': { Factory: { [key]: 'x' } } } } }));
      expect(err).toContain(`"${key}" is set by the chart`);
    }
  });

  it('the bundled Redis exists only when enabled, with AOF and its own claim', () => {
    for (const v of VARIANTS) {
      const objs = variant(v);
      const enabled = (v === 'default' ? true : (ciValues(v) as { redis?: { bundled?: { enabled?: boolean } } }).redis?.bundled?.enabled) !== false;
      const redisObjs = objs.filter((o) => o.metadata.name.startsWith('rel-apf-redis'));
      if (!enabled) {
        expect(redisObjs, v).toEqual([]);
        continue;
      }
      expect(redisObjs.map((o) => o.kind).sort(), v).toEqual(['ConfigMap', 'Service', 'StatefulSet']);
      const conf = get(objs, 'ConfigMap', 'rel-apf-redis').data?.['redis.conf'] ?? '';
      expect(conf).toMatch(/^appendonly yes$/m);
      expect(conf).toMatch(/^appendfsync everysec$/m);
      const spec = sts(get(objs, 'StatefulSet', 'rel-apf-redis'));
      expect(spec.replicas).toBe(1);
      expect(spec.volumeClaimTemplates?.map((c) => c.metadata.name)).toEqual(['data']);
      expect(spec.template.spec.containers[0]?.volumeMounts?.find((m) => m.name === 'data')?.mountPath).toBe('/data');
      expect(spec.template.spec.containers[0]?.readinessProbe?.exec?.command).toEqual(['redis-cli', 'ping']);
    }
  });

  it('the bundled Redis reads its password from the Secret, never from its ConfigMap or command line', () => {
    const objs = variant('bundled-redis-values.yaml');
    const password = 'ci-bundled-redis-password-77f0';
    const redis = sts(get(objs, 'StatefulSet', 'rel-apf-redis')).template.spec;
    const c = redis.containers[0] as Container;
    expect(c.args?.join(' ')).toContain("requirepass '$$(cat /etc/redis-auth/redis-password)'");
    expect(c.env?.find((e) => e.name === 'REDISCLI_AUTH')?.valueFrom?.secretKeyRef).toEqual({ name: 'rel-apf', key: 'redis-password' });
    expect(redis.volumes?.find((x) => x.name === 'auth')?.secret?.secretName).toBe('rel-apf');
    expect(JSON.stringify(get(objs, 'StatefulSet', 'rel-apf-redis'))).not.toContain(password);
  });

  it('external Redis over TLS: the CA and client certificate come from their Secret, the INI names the files', async () => {
    const objs = variant('external-redis-tls-values.yaml');
    const redis = (await loadRendered(objs)).config?.factory.cluster.redis as RedisSettings;
    expect(redis.url).toBe('rediss://redis.example.org:6380/2');
    expect(redis.username).toBe('apf');
    expect(redis.tls).toEqual({ ca: '/etc/apf-secrets/redis-tls/ca.crt', cert: '/etc/apf-secrets/redis-tls/tls.crt', key: '/etc/apf-secrets/redis-tls/tls.key' });
    const sources = sts(get(objs, 'StatefulSet', 'rel-apf')).template.spec.volumes?.find((x) => x.name === 'secrets')?.projected?.sources ?? [];
    const tls = sources.find((s) => s.secret.name === 'apf-redis-tls');
    expect(tls?.secret.items).toEqual([
      { key: 'ca.crt', path: 'redis-tls/ca.crt' },
      { key: 'tls.crt', path: 'redis-tls/tls.crt' },
      { key: 'tls.key', path: 'redis-tls/tls.key' },
    ]);
    // the verbatim queues.conf replaced the (empty) map, the auth.conf map was rendered
    expect(iniOf(objs, 'queues.conf')).toMatch(/^\[ANALY_TEST\]$/m);
    expect(iniOf(objs, 'auth.conf')).toContain('x509.proxyfile = /etc/apf-secrets/x509up');
    expect(sts(get(objs, 'StatefulSet', 'rel-apf')).template.spec.volumes?.find((x) => x.name === 'logs')?.persistentVolumeClaim?.claimName).toBe('apf-pilot-logs');
  });

  it('Sentinel hosts, master and both password files are rendered into the INI', async () => {
    const objs = variant('five-replicas-values.yaml');
    const redis = (await loadRendered(objs)).config?.factory.cluster.redis as RedisSettings;
    expect(redis.sentinels).toEqual(['sentinel-0.sentinel.redis.svc:26379', 'sentinel-1.sentinel.redis.svc:26379', 'sentinel-2.sentinel.redis.svc:26379']);
    expect(redis.sentinelMaster).toBe('apf');
    expect(redis.passwordFile).toBe('/etc/apf-secrets/redis-password');
    expect(redis.sentinelPasswordFile).toBe('/etc/apf-secrets/sentinel-password');
    const items = sts(get(objs, 'StatefulSet', 'rel-apf')).template.spec.volumes?.find((x) => x.name === 'secrets')?.projected?.sources[0]?.secret.items;
    expect(items?.map((i) => i.key)).toEqual(['redis-password', 'sentinel-password']);
  });

  const contradictions: [string, unknown, RegExp][] = [
    ['bundled and external at once', { redis: { external: { url: 'redis://r:6379' } } }, /bundled Redis is enabled and redis.external is set/],
    ['no Redis at all', { redis: { bundled: { enabled: false } } }, /no Redis/],
    ['a CA without rediss://', { redis: { bundled: { enabled: false }, external: { url: 'redis://r:6379', tls: { caSecret: 'ca' } } } }, /needs a rediss:\/\/ URL/],
    ['auth without a password or existing Secret', { redis: { auth: { enabled: true } } }, /redis.auth.enabled needs/],
    ['the admin API without a token', { web: { admin: { enabled: true } } }, /web.admin.enabled needs/],
  ];
  it.each(contradictions)('rendering fails for contradictory settings: %s', async (_what, values, message) => {
    expect(await renderError(valuesFile(values))).toMatch(message);
  });

  it('renders INI from maps: True/False, whole numbers, lists, None, continuation lines and tpl strings', async () => {
    const objs = await render(valuesFile({
      config: {
        ini: {
          'queues.conf': {
            DEFAULT: { enabled: true, 'apfqueue.sleep': 10000000, 'sched.scale.factor': 0.25 },
            'CERN-ce503': { enabled: false, schedplugin: ['Ready', 'MaxPerCycle'], monitorsection: null, 'executable.arguments': 'line one\nline two', wmsqueue: '{{ .Release.Name }}-q' },
          },
        },
      },
    }));
    const ini = iniOf(objs, 'queues.conf');
    expect(ini).toMatch(/^\[DEFAULT\]\napfqueue\.sleep = 10000000\nenabled = True\nsched\.scale\.factor = 0\.25$/m);
    expect(ini).toContain('enabled = False');
    expect(ini).toContain('schedplugin = Ready, MaxPerCycle');
    expect(ini).toContain('monitorsection = None');
    expect(ini).toContain('executable.arguments = line one\n    line two');
    expect(ini).toContain('wmsqueue = rel-q');
    // a nested map is no INI value: refused by values.schema.json (and by _config.tpl behind it)
    expect(await renderError(valuesFile({ config: { ini: { 'queues.conf': { Q: { nested: { too: 'deep' } } } } } }))).toMatch(/queues\.conf\/Q\/nested/);
  });

  it('the helm test pod passes only when every instance answers /readyz with 200', async () => {
    const pod = get(await render(['--set', 'replicas=2']), 'Pod', 'rel-apf-test-readyz');
    expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test');
    const c = (pod.spec as PodSpec).containers[0] as Container;
    expect(c.command).toEqual(['node', '-e']);
    const script = c.args?.[0] ?? '';
    const status = [200, 200];
    const servers: Server[] = [];
    const urls: string[] = [];
    for (const i of [0, 1]) {
      const server = createServer((req, res) => {
        res.statusCode = req.url === '/readyz' ? (status[i] as number) : 404;
        res.end(JSON.stringify({ ok: res.statusCode === 200 }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
      urls.push(`http://127.0.0.1:${(server.address() as { port: number }).port}/readyz`);
    }
    const run = (targets: string[]) => runCommand(process.execPath, ['-e', script], { timeoutMs: 20_000, env: { TARGETS: targets.join(' ') } });
    try {
      const ok = await run(urls);
      expect(ok.exitCode, ok.stdout).toBe(0);
      expect(ok.stdout).toContain('2/2 instances ready');
      status[1] = 503;
      const notReady = await run(urls);
      expect(notReady.exitCode).toBe(1);
      expect(notReady.stdout).toContain('1/2 instances ready');
      status[1] = 200;
      await new Promise<void>((r) => servers[1]?.close(() => r()));
      expect((await run(urls)).exitCode).toBe(1);
    } finally {
      for (const s of servers) s.close();
    }
  });

  it('NOTES explain how to open the monitor, check readiness and run a failover drill', async () => {
    const r = await helmRun(['install', 'rel', CHART, '--namespace', NS, '--dry-run=client']);
    expect(r.exitCode, r.stderr).toBe(0);
    const notes = r.stdout.slice(r.stdout.indexOf('NOTES:'));
    expect(notes).toContain(`kubectl -n ${NS} port-forward svc/rel-apf 25880:25880`);
    expect(notes).toContain('helm test rel');
    expect(notes).toContain(`kubectl -n ${NS} exec rel-apf-0 -- apf drill --instance rel-apf-2`);
    expect(notes).toContain('--set replicas=N');
  });
});
