/**
 * Path confinement of the log server, without HTTP: every attack string is decoded and resolved
 * exactly as a request path below the mount would be, against a real tree with symlinks pointing
 * out. The same attacks go through the real server in test/integration/web/logs.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLogPath, isInside, resolveLogPath, type LogPathRejection, type ResolvedLogPath } from '../../../src/logserver/safe-path.ts';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-ROOT';
// Created at load time: the attack table below names the real path of the secret.
const base = realpathSync(mkdtempSync(join(tmpdir(), 'apf-safe-path-')));
const root = join(base, 'logs');

beforeAll(() => {
  mkdirSync(join(base, 'outside'), { recursive: true });
  writeFileSync(join(base, 'outside', 'secret.txt'), SECRET);
  const day = join(root, '2024-05-01');
  mkdirSync(join(day, 'Q_A'), { recursive: true });
  mkdirSync(join(day, 'with space'));
  writeFileSync(join(day, 'Q_A', '1.0.out'), 'pilot output\n');
  writeFileSync(join(day, 'with space', 'a b.out'), 'spaced\n');
  writeFileSync(join(day, '100%.txt'), 'percent\n');
  writeFileSync(join(day, 'ünï©ødé.log'), 'unicode\n');
  symlinkSync(join(base, 'outside'), join(day, 'link-out'));
  symlinkSync(join(base, 'outside', 'secret.txt'), join(day, 'secret-link.out'));
  symlinkSync(join(day, 'Q_A', '1.0.out'), join(day, 'inside-link.out'));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Decode then resolve, as the server does. */
async function resolveRaw(raw: string): Promise<ResolvedLogPath | LogPathRejection> {
  const d = decodeLogPath(raw);
  if (!d.ok) return d;
  return resolveLogPath(realpathSync(root), d.segments);
}

const ATTACKS: ReadonlyArray<readonly [string, string]> = [
  ['plain dot-dot', '/../outside/secret.txt'],
  ['dot-dot after a day', '/2024-05-01/../../outside/secret.txt'],
  ['encoded dot-dot', '/%2e%2e/outside/secret.txt'],
  ['upper-case encoded dot-dot', '/%2E%2E/%2E%2E/etc/passwd'],
  ['mixed encoded dot-dot', '/.%2e/outside/secret.txt'],
  ['double-encoded dot-dot', '/%252e%252e/outside/secret.txt'],
  ['double-encoded slash', '/2024-05-01/..%252f..%252foutside%252fsecret.txt'],
  ['encoded slash', '/..%2foutside%2fsecret.txt'],
  ['encoded backslash', '/..%5coutside%5csecret.txt'],
  ['raw backslash', '/..\\outside\\secret.txt'],
  ['NUL byte', '/2024-05-01/Q_A/1.0.out%00.txt'],
  ['overlong UTF-8 dot (2 bytes)', '/%c0%ae%c0%ae/outside/secret.txt'],
  ['overlong UTF-8 dot (3 bytes)', '/%e0%80%ae%e0%80%ae/outside/secret.txt'],
  ['invalid UTF-8', '/%ff%fe/outside'],
  ['UTF-16 %u escape', '/%u002e%u002e/outside/secret.txt'],
  ['single dot segment', '/2024-05-01/./Q_A/1.0.out'],
  ['trailing dot-dot', '/2024-05-01/Q_A/1.0.out/..'],
  ['encoded newline', '/2024-05-01/%0a'],
  ['symlinked directory pointing out', '/2024-05-01/link-out/secret.txt'],
  ['the out-pointing directory itself', '/2024-05-01/link-out/'],
  ['symlinked file pointing out', '/2024-05-01/secret-link.out'],
  ['absolute path', '//etc/passwd'],
  ['absolute path to the secret', `/${join(base, 'outside', 'secret.txt')}`],
];

describe('logserver/safe-path', () => {
  it.each(ATTACKS)('refuses %s (%s) with 403 or 404, never the file', async (_name, raw) => {
    const r = await resolveRaw(raw);
    if (r.ok) throw new Error(`${raw} was resolved to ${r.real} (${r.kind === 'file' && readFileSync(r.real, 'utf8').includes(SECRET) ? 'the secret' : r.kind})`);
    expect([403, 404]).toContain(r.status);
  });

  it('answers the traversal attempts with 403 (not merely "not found")', async () => {
    for (const raw of ['/../outside/secret.txt', '/%2e%2e/outside', '/%252e%252e/x', '/..%2fx', '/a%00b', '/%c0%ae%c0%ae/x', '/2024-05-01/link-out/secret.txt']) {
      const r = await resolveRaw(raw);
      expect(r.ok ? 200 : r.status, raw).toBe(403);
    }
  });

  it.each([
    ['spaces', '/2024-05-01/with%20space/a%20b.out', 'spaced\n'],
    ['a percent sign', '/2024-05-01/100%25.txt', 'percent\n'],
    ['unicode', `/2024-05-01/${encodeURIComponent('ünï©ødé.log')}`, 'unicode\n'],
    ['a symlink that stays inside', '/2024-05-01/inside-link.out', 'pilot output\n'],
    ['doubled slashes', '/2024-05-01//Q_A/1.0.out', 'pilot output\n'],
  ])('serves a legitimate name with %s', async (_name, raw, content) => {
    const r = await resolveRaw(raw);
    if (!r.ok) throw new Error(`refused ${raw}: ${r.status} ${r.reason}`);
    expect(r.kind).toBe('file');
    expect(readFileSync(r.real, 'utf8')).toBe(content);
  });

  it('resolves directories and reports the trailing slash', async () => {
    const d = decodeLogPath('/2024-05-01/Q_A/');
    expect(d).toEqual({ ok: true, segments: ['2024-05-01', 'Q_A'], trailingSlash: true });
    const r = await resolveRaw('/2024-05-01/Q_A');
    expect(r.ok && r.kind).toBe('dir');
    expect(decodeLogPath('')).toEqual({ ok: true, segments: [], trailingSlash: false });
  });

  it('answers 404 for missing paths and files below files', async () => {
    for (const raw of ['/2024-05-02/', '/2024-05-01/Q_A/9.9.out', '/2024-05-01/Q_A/1.0.out/x']) {
      const r = await resolveRaw(raw);
      expect(r.ok ? 200 : r.status, raw).toBe(404);
    }
  });

  it('checks containment on path boundaries, not string prefixes', () => {
    expect(isInside('/srv/logs', '/srv/logs')).toBe(true);
    expect(isInside('/srv/logs', '/srv/logs/a')).toBe(true);
    expect(isInside('/srv/logs', '/srv/logs-evil/a')).toBe(false);
    expect(isInside('/srv/logs', '/srv')).toBe(false);
  });
});
