/**
 * The cleanup pass on real temporary trees: by age (per-queue override), by a simulated disk-usage
 * threshold (the injected disk-usage function measures the tree itself), today's directory kept,
 * symlinks never followed nor removed, other names left alone.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanLogsOnce } from '../../../src/cleanup/clean.ts';
import { treeBytes } from '../../../src/cleanup/disk.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { capture, pilots, tree } from './tree.ts';

const noDisk = (): Promise<number> => Promise.reject(new Error('disk usage must not be asked without cleanlogs.maxdiskpercent'));

describe('cleanup/clean', () => {
  it('removes queue directories past their retention (per-queue override), then emptied day directories', async () => {
    const t = await tree();
    pilots(t.root, [
      '2024-05-10/Q_A',
      '2024-05-09/Q_A',
      '2024-05-09/Q_B_1',
      '2024-05-08/Q_A',
      '2024-05-08/Q_B_1',
      '2024-05-08/LONG',
      '2024-05-05/Q_A',
      '2024-05-05/LONG',
      '2024-05-05/UNKNOWN',
      '2024-05-01/Q_A',
      '2024-04-20/LONG',
    ]);
    pilots(t.root, ['2024-05-01/Q_A/sub'], 50);
    const { logger, records } = capture();
    const report = await cleanLogsOnce({ config: t.config, logger, now: Date.parse('2024-05-10T12:00:00Z'), diskUsage: noDisk });

    expect(report.today).toBe('2024-05-10');
    expect(report.errors).toEqual([]);
    const rel = (p: string): string => p.slice(t.root.length + 1);
    // Oldest day first.
    expect(report.removed.map((r) => `${r.reason} ${rel(r.path)}`)).toEqual([
      'age 2024-04-20/LONG',
      'age 2024-05-01/Q_A',
      'age 2024-05-05/Q_A',
      'age 2024-05-05/UNKNOWN',
      'age 2024-05-08/Q_B_1',
      'empty 2024-04-20',
      'empty 2024-05-01',
    ]);
    expect(report.removed.find((r) => rel(r.path) === '2024-05-01/Q_A')?.bytes).toBe(150);
    for (const kept of ['2024-05-10/Q_A', '2024-05-09/Q_A', '2024-05-09/Q_B_1', '2024-05-08/Q_A', '2024-05-08/LONG', '2024-05-05/LONG']) {
      expect(existsSync(join(t.root, kept, '1.0.out')), kept).toBe(true);
    }
    for (const gone of ['2024-05-08/Q_B_1', '2024-05-05/Q_A', '2024-05-01', '2024-04-20']) expect(existsSync(join(t.root, gone)), gone).toBe(false);
    // Every removal is logged with its path, bytes and reason.
    const logged = records.filter((r) => r['msg'] === 'removed pilot logs');
    expect(logged).toHaveLength(7);
    expect(logged[4]).toMatchObject({ path: join(t.root, '2024-05-08/Q_B_1'), bytes: 100, reason: 'age', keepdays: 1, ageDays: 2 });
    expect(logged[5]).toMatchObject({ path: join(t.root, '2024-04-20'), reason: 'empty' });
  });

  it("never removes today's (UTC) directory, even with keepdays 0 and near midnight in a far time zone", async () => {
    const t = await tree('', 0);
    pilots(t.root, ['2024-05-09/Q_A', '2024-05-10/Q_A', '2024-05-11/Q_A']);
    const tz = process.env['TZ'];
    process.env['TZ'] = 'Pacific/Kiritimati'; // UTC+14: the local date is already 2024-05-11
    try {
      const report = await cleanLogsOnce({ config: t.config, logger: silentLogger(), now: Date.parse('2024-05-10T23:30:00Z'), diskUsage: noDisk });
      expect(report.today).toBe('2024-05-10');
      expect(report.removed.map((r) => r.path)).toEqual([join(t.root, '2024-05-09/Q_A'), join(t.root, '2024-05-09')]);
    } finally {
      if (tz === undefined) delete process.env['TZ'];
      else process.env['TZ'] = tz;
    }
    expect(existsSync(join(t.root, '2024-05-10/Q_A/1.0.out'))).toBe(true);
    expect(existsSync(join(t.root, '2024-05-11/Q_A/1.0.out'))).toBe(true);
  });

  it('leaves other names alone and never follows or removes symlinks', async () => {
    const t = await tree('', 1);
    pilots(t.root, ['2024-05-01/Q_A', '2024-05-02/KEEP']);
    mkdirSync(join(t.root, 'not-a-date', 'Q_A'), { recursive: true });
    mkdirSync(join(t.root, '2024-02-30', 'Q_A'), { recursive: true });
    writeFileSync(join(t.root, '2024-04-01.tgz'), 'archive');
    writeFileSync(join(t.root, 'queues.conf'), '[Q_A]');
    // A day directory that is a symlink out, a queue directory that is a symlink out, and a link inside a removed queue dir.
    symlinkSync(t.outside, join(t.root, '2024-04-02'));
    symlinkSync(t.outside, join(t.root, '2024-05-02', 'Q_A'));
    symlinkSync(join(t.outside, 'precious.txt'), join(t.root, '2024-05-01', 'Q_A', 'link.out'));
    const report = await cleanLogsOnce({ config: t.config, logger: silentLogger(), now: Date.parse('2024-05-10T12:00:00Z'), diskUsage: noDisk });

    expect(report.removed.map((r) => r.path.slice(t.root.length + 1))).toEqual(['2024-05-01/Q_A', '2024-05-02/KEEP', '2024-05-01']);
    expect(readFileSync(join(t.outside, 'precious.txt'), 'utf8')).toBe('do not delete');
    expect(lstatSync(join(t.root, '2024-04-02')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(t.root, '2024-05-02', 'Q_A')).isSymbolicLink()).toBe(true);
    for (const kept of ['not-a-date/Q_A', '2024-02-30/Q_A', '2024-04-01.tgz', 'queues.conf']) expect(existsSync(join(t.root, kept)), kept).toBe(true);
  });

  it('removes the oldest day directories while the disk is fuller than cleanlogs.maxdiskpercent', async () => {
    const t = await tree('cleanlogs.maxdiskpercent = 50\n', 30);
    pilots(t.root, ['2024-05-07/Q_A', '2024-05-08/Q_A', '2024-05-09/Q_A', '2024-05-10/Q_A']);
    // A 800-byte "disk" holding the tree: 4 × 100 bytes = 50 %… plus 300 bytes of other data.
    const usage = async (path: string): Promise<number> => ((300 + (await treeBytes(path))) / 800) * 100;
    const { logger, records } = capture();
    const report = await cleanLogsOnce({ config: t.config, logger, now: Date.parse('2024-05-10T08:00:00Z'), diskUsage: usage });

    expect(report.removed.map((r) => [r.reason, r.path.slice(t.root.length + 1), r.bytes])).toEqual([
      ['disk', '2024-05-07', 100],
      ['disk', '2024-05-08', 100],
      ['disk', '2024-05-09', 100],
    ]);
    expect(report.usedPercent).toBe(50);
    expect(existsSync(join(t.root, '2024-05-10/Q_A/1.0.out'))).toBe(true);
    expect(records.filter((r) => r['reason'] === 'disk')[0]).toMatchObject({ usedPercent: 87.5, maxPercent: 50 });
    expect(records.some((r) => r['level'] === 40)).toBe(false);
  });

  it("stops at today's directory and warns when the disk stays too full", async () => {
    const t = await tree('cleanlogs.maxdiskpercent = 10\n', 30);
    pilots(t.root, ['2024-05-09/Q_A', '2024-05-10/Q_A']);
    const { logger, records } = capture();
    const report = await cleanLogsOnce({ config: t.config, logger, now: Date.parse('2024-05-10T08:00:00Z'), diskUsage: async (p) => (await treeBytes(p)) / 2 });
    expect(report.removed.map((r) => r.path)).toEqual([join(t.root, '2024-05-09')]);
    expect(report.usedPercent).toBe(50);
    expect(existsSync(join(t.root, '2024-05-10/Q_A/1.0.out'))).toBe(true);
    expect(records.find((r) => r['level'] === 40)).toMatchObject({ maxPercent: 10, usedPercent: 50 });
  });

  it('does nothing (and reports nothing) when baseLogDir does not exist', async () => {
    const t = await tree('cleanlogs.maxdiskpercent = 10\n');
    rmSync(t.root, { recursive: true });
    const report = await cleanLogsOnce({ config: t.config, logger: silentLogger(), now: Date.now(), diskUsage: noDisk });
    expect(report).toMatchObject({ removed: [], errors: [] });
  });
});

