/**
 * deploy/systemd/apf.service and apf.env: `systemd-analyze verify` (and the offline security
 * score) when systemd-analyze is installed, and the required directives read with a small reader
 * of systemd's unit syntax in any case.
 */
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { FACTORY_OPTIONS } from '../../../src/config/factory-schema.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UNIT = join(ROOT, 'deploy/systemd/apf.service');
const ENV_FILE = join(ROOT, 'deploy/systemd/apf.env');

/** A unit file: section → key → every value assigned, in order (systemd lists accumulate). */
type Unit = Map<string, Map<string, string[]>>;

/** Reads systemd unit syntax: `[Section]`, `Key=Value`, `#`/`;` comments, `\` continuation lines. */
function readUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] as string).trim();
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${(lines[++i] as string).trim()}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header !== null) {
      section = new Map();
      unit.set(header[1] as string, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (section === undefined || eq < 1) throw new Error(`line ${i + 1} is not a Key=Value line inside a section: ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

const unitText = readFileSync(UNIT, 'utf8');
const unit = readUnit(unitText);
const service = unit.get('Service') ?? new Map<string, string[]>();
/** The effective (last) value of a [Service] key. */
const last = (key: string): string | undefined => service.get(key)?.at(-1);

const scratch = mkdtempSync(join(tmpdir(), 'apf-systemd-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * A copy of the unit whose ExecStart names an executable that exists here: verify checks that the
 * program is there, and /opt/apf/bin/apf exists only on an installed host.
 */
function verifiableCopy(): string {
  const fakeBin = join(scratch, 'apf');
  writeFileSync(fakeBin, '#!/bin/sh\nexit 0\n');
  chmodSync(fakeBin, 0o755);
  const copy = join(scratch, 'apf.service');
  writeFileSync(copy, unitText.replace(/^ExecStart=\/opt\/apf\/bin\/apf /m, `ExecStart=${fakeBin} `));
  expect(readFileSync(copy, 'utf8')).toContain(`ExecStart=${fakeBin} start`);
  return copy;
}

const analyze = await execa('sh', ['-c', 'command -v systemd-analyze'], { reject: false });
const haveAnalyze = analyze.exitCode === 0;
/** Why the systemd-analyze checks are skipped (the directive checks still run). */
const NO_ANALYZE = 'systemd-analyze is not installed (apt-get install systemd): only the directives were checked';

describe('deploy/systemd', () => {
  it('runs the npm-installed bin as user apf, with the environment files', () => {
    expect(unit.get('Unit')?.get('Description')).toBeDefined();
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
    expect([last('User'), last('Group')]).toEqual(['apf', 'apf']);
    expect(service.get('EnvironmentFile')).toEqual(['-/etc/default/apf', '-/etc/sysconfig/apf']);
    const exec = (last('ExecStart') ?? '').split(/\s+/);
    expect(exec[0]).toBe('/opt/apf/bin/apf');
    expect(exec[1]).toBe('start');
  });

  it('restarts on failure, reloads with SIGHUP, stops with SIGTERM within more than the shutdown timeout', () => {
    expect(last('Restart')).toBe('on-failure');
    expect(last('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(last('KillSignal')).toBe('SIGTERM');
    // SIGTERM to apf alone: its embedded redis-server must outlive the lease release.
    expect(last('KillMode')).toBe('mixed');
    const stopS = Number(last('TimeoutStopSec'));
    const shutdownS = FACTORY_OPTIONS['cluster.shutdown_timeout'].default;
    expect(shutdownS).toBeGreaterThan(0);
    expect(stopS).toBeGreaterThan(shutdownS);
    // Documents SIGUSR1 (log reopen) next to SIGHUP.
    expect(unitText).toMatch(/SIGUSR1\s+reopen the log file/);
  });

  it('is hardened: no privileges, read-only system, private /tmp, writable state and log directories only', () => {
    const expected: Record<string, string> = {
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      CapabilityBoundingSet: '',
      AmbientCapabilities: '',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes',
      RestrictSUIDSGID: 'yes',
      RestrictNamespaces: 'yes',
      LockPersonality: 'yes',
    };
    for (const [key, value] of Object.entries(expected)) expect(last(key), key).toBe(value);
    const rw = (service.get('ReadWritePaths') ?? []).flatMap((v) => v.split(/\s+/));
    expect(rw.sort()).toEqual(['/var/lib/apf', '/var/log/apf']);
    // V8's JIT needs writable+executable pages: this one would kill node at start.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
    expect(last('RestrictAddressFamilies')?.split(/\s+/).sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_UNIX']);
  });

  it('apf.env sets only variables apf (or the unit) reads', () => {
    const sources = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(ROOT, 'src', f), 'utf8'))
      .join('\n');
    const names = [...readFileSync(ENV_FILE, 'utf8').matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string);
    expect(names).toEqual(expect.arrayContaining(['APF_CONFIG_DIR', 'APF_LOG_LEVEL', 'APF_LOG_FILE', 'APF_OPTIONS']));
    for (const name of names) {
      if (name === 'PATH') continue;
      const read = sources.includes(`'${name}'`) || unitText.includes(`$${name}`);
      expect(read, `${name} is neither read by src/ nor used by the unit`).toBe(true);
    }
    // Active (uncommented) lines are plain KEY=value: systemd reads no shell syntax.
    for (const line of readFileSync(ENV_FILE, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line).toMatch(/^[A-Z][A-Z0-9_]*=[^'"`$]*$/);
    }
  });

  it('passes systemd-analyze verify without a single warning', async (ctx) => {
    if (!haveAnalyze) ctx.skip(NO_ANALYZE);
    const r = await execa('systemd-analyze', ['verify', verifiableCopy()], { reject: false, timeout: 30_000 });
    expect({ code: r.exitCode, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('has an offline security exposure of at most 2.5 (systemd-analyze security)', async (ctx) => {
    if (!haveAnalyze) ctx.skip(NO_ANALYZE);
    const copy = verifiableCopy();
    const r = await execa('systemd-analyze', ['security', '--offline=true', '--no-pager', copy], { reject: false, timeout: 30_000 });
    if (/unrecognized option|unknown option/i.test(r.stderr)) {
      ctx.skip(`this systemd-analyze has no --offline (${r.stderr.split('\n')[0]})`);
    }
    const score = /Overall exposure level for apf\.service: ([\d.]+)/.exec(r.stdout);
    expect(score, r.stdout + r.stderr).not.toBeNull();
    expect(Number(score?.[1])).toBeLessThanOrEqual(2.5);
  });
});
