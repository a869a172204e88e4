/**
 * deploy/Dockerfile and .dockerignore, checked without a Docker engine: the instructions are
 * parsed, every COPY source is checked against the build context, the build stage is replayed in
 * a temporary directory (`npm run build` for real; `npm ci` replaced by a link to this checkout's
 * node_modules) and the resulting entrypoint and HEALTHCHECK are run.
 */
import { createServer } from 'node:http';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCommand } from '../../../src/util/exec.ts';
import { binEnv, binNodeFlags } from '../../helpers/bin-flags.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
const DOCKERIGNORE = readFileSync(join(ROOT, '.dockerignore'), 'utf8');

interface Instruction { readonly op: string; readonly args: string }
interface Stage { readonly from: string; readonly name: string | undefined; readonly steps: Instruction[] }

/** Instructions of a Dockerfile: comments dropped, continuation lines joined. */
function instructions(text: string): Instruction[] {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  return joined.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((l) => {
    const [op = '', ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
}

const ALL = instructions(DOCKERFILE);
/** ARGs declared before the first FROM, with their defaults. */
const GLOBAL_ARGS = new Map(ALL.slice(0, ALL.findIndex((i) => i.op === 'FROM')).filter((i) => i.op === 'ARG').map((i) => {
  const [k = '', v = ''] = i.args.split('=');
  return [k, v];
}));
const expand = (s: string): string => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => GLOBAL_ARGS.get(a ?? b ?? '') ?? m);

const STAGES: Stage[] = [];
for (const i of ALL) {
  if (i.op === 'FROM') {
    const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args);
    STAGES.push({ from: expand(m?.[1] ?? ''), name: m?.[2], steps: [] });
  } else STAGES.at(-1)?.steps.push(i);
}
const RUNTIME = STAGES.at(-1) as Stage;
const stage = (name: string): Stage | undefined => STAGES.find((s) => s.name === name);
const stepsOf = (s: Stage, op: string): string[] => s.steps.filter((i) => i.op === op).map((i) => i.args);
const json = (s: string): string[] => JSON.parse(s) as string[];

/** A COPY/ADD: its --from stage (if any), sources and destination. */
function copyOf(args: string): { from: string | undefined; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((w) => !w.startsWith('--'));
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
}

/** True when .dockerignore keeps `path` (relative, posix) in the build context (last match wins, parents count). */
function inContext(path: string): boolean {
  const patterns = DOCKERIGNORE.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let included = true;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = posix.normalize((negated ? raw.slice(1) : raw).replace(/^\//, '')).replace(/\/$/, '');
    const glob = pattern.split('**').map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('.*');
    const re = new RegExp(`^${glob}$`);
    if (candidates.some((c) => re.test(c))) included = negated;
  }
  return included;
}

/** WORKDIR of a stage at the end (COPY destinations are relative to it). */
const workdir = (s: Stage): string => stepsOf(s, 'WORKDIR').at(-1) ?? '/';

let work = '';
afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('deploy/Dockerfile', () => {
  it('every stage uses the same pinned Node base image (exact version or digest) that satisfies engines.node', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(STAGES.length).toBeGreaterThanOrEqual(2);
    const bases = new Set(STAGES.map((s) => s.from));
    expect(bases.size).toBe(1);
    const base = [...bases][0] as string;
    const m = /^node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim(?:@sha256:[0-9a-f]{64})?$|^node(?::[^@]+)?@sha256:[0-9a-f]{64}$/.exec(base);
    expect(m, `unpinned base image "${base}"`).not.toBeNull();
    if (m?.[1] !== undefined) {
      expect(Number(m[1])).toBe(24);
      const [minMajor, minMinor] = (/>=(\d+)\.(\d+)/.exec(pkg.engines.node) ?? []).slice(1).map(Number);
      const [major, minor] = [Number(m[1]), Number(m[2])];
      expect(major > (minMajor ?? 0) || (major === minMajor && minor >= (minMinor ?? 0)), `${base} vs engines ${pkg.engines.node}`).toBe(true);
    }
  });

  it('builds in one stage and ships production dependencies only', () => {
    const build = stage('build');
    expect(build).toBeDefined();
    expect(stepsOf(build as Stage, 'RUN').join('\n')).toMatch(/npm ci\b[\s\S]*npm run build/);
    const runtimeCopies = stepsOf(RUNTIME, 'COPY').map(copyOf);
    const modules = runtimeCopies.find((c) => c.sources.some((s) => s.endsWith('node_modules')));
    expect(modules?.from).toBeDefined();
    const depsRuns = stepsOf(stage(modules?.from ?? '') as Stage, 'RUN').join('\n');
    expect(depsRuns).toMatch(/npm ci\b[^\n]*--omit=dev/);
    expect(runtimeCopies.find((c) => c.sources.includes('/app/dist'))?.from).toBe('build');
    // the runtime installs nothing itself
    expect(stepsOf(RUNTIME, 'RUN').join('\n')).not.toMatch(/npm (ci|install)/);
  });

  it('every COPY source from the build context exists and is let through by .dockerignore', () => {
    const sources = STAGES.flatMap((s) => stepsOf(s, 'COPY').map(copyOf)).filter((c) => c.from === undefined).flatMap((c) => c.sources);
    expect(sources).toContain('src');
    for (const src of sources) {
      expect(existsSync(join(ROOT, src)), `${src} is missing`).toBe(true);
      expect(inContext(src), `${src} is excluded by .dockerignore`).toBe(true);
    }
    for (const keptOut of ['node_modules', 'dist', '.git', 'test', '.tools', 'helm', 'docs']) expect(inContext(keptOut), keptOut).toBe(false);
    expect(inContext('src/cli/main.ts')).toBe(true);
  });

  it('the build stage, replayed, produces the CLI the entrypoint runs: `start --help` works', async () => {
    work = mkdtempSync(join(tmpdir(), 'apf-dockerfile-test-'));
    const build = stage('build') as Stage;
    const app = join(work, workdir(build));
    mkdirSync(app, { recursive: true });
    for (const step of build.steps) {
      if (step.op === 'COPY') {
        const c = copyOf(step.args);
        for (const src of c.sources) {
          const target = c.dest.endsWith('/') || c.sources.length > 1 ? join(app, c.dest, posix.basename(src)) : join(app, c.dest);
          cpSync(join(ROOT, src), target, { recursive: true });
        }
      } else if (step.op === 'RUN' && /^npm ci\b/.test(step.args)) {
        symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'dir'); // stands in for the install
      } else if (step.op === 'RUN') {
        const r = await runCommand('sh', ['-c', step.args], { cwd: app, timeoutMs: 240_000, env: { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` } });
        expect(r.exitCode, `RUN ${step.args}\n${r.stdout}${r.stderr}`).toBe(0);
      }
    }
    // what the runtime copies from the build stage exists there
    for (const c of stepsOf(RUNTIME, 'COPY').map(copyOf).filter((x) => x.from === 'build')) {
      for (const src of c.sources) expect(existsSync(join(work, src)), src).toBe(true);
    }
    const entrypoint = json(stepsOf(RUNTIME, 'ENTRYPOINT').at(-1) ?? '[]');
    const cmd = json(stepsOf(RUNTIME, 'CMD').at(-1) ?? '[]');
    // the same Node flags as the bin's #! line, which `apf` on PATH runs with
    const nodeFlags = binNodeFlags();
    expect(nodeFlags).toContain('--max-semi-space-size=4');
    expect(entrypoint).toEqual(['node', ...nodeFlags, '/app/dist/cli/main.js']);
    // …and the environment the #! line sets before Node starts
    const env = binEnv();
    expect(env).toEqual({ MALLOC_ARENA_MAX: '2' });
    for (const [k, v] of Object.entries(env)) expect(stepsOf(RUNTIME, 'ENV'), k).toContain(`${k}=${v}`);
    expect(cmd).toEqual(['start', '--config', '/etc/apf']);
    const entry = entrypoint.at(-1) as string;
    const main = join(work, entry);
    expect(statSync(main).mode & 0o111).not.toBe(0); // chmod: `apf` on PATH is a link to it
    expect(stepsOf(RUNTIME, 'RUN').join('\n')).toContain(`ln -s ${entry} /usr/local/bin/apf`);
    const help = await runCommand(process.execPath, [main, ...cmd, '--help'], { timeoutMs: 30_000 });
    expect(help.exitCode, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^apf start \[--config DIR\]/);
    const version = await runCommand(process.execPath, [main, '--version'], { timeoutMs: 30_000 });
    expect(version.stdout.trim()).toBe(`apf ${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}`);
  }, 300_000);

  it('runs as a fixed non-root user that owns the state and log volumes (the chart\'s runAsUser)', () => {
    const user = stepsOf(RUNTIME, 'USER').at(-1) ?? '';
    const m = /^(\d+)(?::(\d+))?$/.exec(user);
    expect(m, `USER "${user}" must be a numeric uid[:gid]`).not.toBeNull();
    const uid = Number(m?.[1]);
    expect(uid).toBeGreaterThan(0);
    const runs = stepsOf(RUNTIME, 'RUN').join('\n');
    expect(runs).toContain(`--uid ${uid}`);
    expect(runs).toMatch(new RegExp(`chown ${uid}:\\d+ /var/lib/apf /var/log/apf`));
    expect(json(stepsOf(RUNTIME, 'VOLUME').at(-1) ?? '[]')).toEqual(['/var/lib/apf', '/var/log/apf']);
    const values = parse(readFileSync(join(ROOT, 'helm', 'apf', 'values.yaml'), 'utf8')) as { podSecurityContext: { runAsUser: number; runAsGroup: number } };
    expect(values.podSecurityContext.runAsUser).toBe(uid);
    if (m?.[2] !== undefined) expect(values.podSecurityContext.runAsGroup).toBe(Number(m[2]));
  });

  it('HEALTHCHECK asks /healthz on the web port with Node (no curl), which is the EXPOSEd port', async () => {
    const hc = stepsOf(RUNTIME, 'HEALTHCHECK').at(-1) ?? '';
    const exec = json(hc.slice(hc.indexOf('CMD ') + 4));
    expect(exec.slice(0, 2)).toEqual(['node', '-e']);
    const script = exec[2] as string;
    expect(script).toContain('/healthz');
    expect(script).toContain(`||${stepsOf(RUNTIME, 'EXPOSE').at(-1) ?? '?'})`);
    let status = 200;
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.statusCode = status;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = String((server.address() as { port: number }).port);
    const check = async () => (await runCommand(process.execPath, ['-e', script], { timeoutMs: 20_000, env: { APF_WEB_PORT: port } })).exitCode;
    try {
      expect(await check()).toBe(0);
      status = 503;
      expect(await check()).toBe(1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    expect(await check()).toBe(1); // nothing listening
    expect(paths).toEqual(['/healthz', '/healthz']);
  });
});
