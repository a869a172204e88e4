/** The hourly cleanup timer: first pass after a delay, then every interval; no overlap; survives failures; stops. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApfConfig } from '../../../src/config/types.ts';
import { startLogCleanup } from '../../../src/cleanup/log-cleanup.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { capture, pilots, tree } from './tree.ts';

describe('cleanup/log-cleanup', () => {
  /** Polls `probe` until true (2 s at most). */
  async function eventually(probe: () => boolean): Promise<void> {
    const end = Date.now() + 2000;
    while (!probe()) {
      if (Date.now() > end) throw new Error('condition not reached in 2 s');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('runs a first pass after the delay, then every interval, and nothing after stop()', async () => {
    const t = await tree('', 1);
    pilots(t.root, ['2024-05-01/Q_A']);
    const now = (): number => Date.parse('2024-05-10T12:00:00Z');
    const cleanup = startLogCleanup({ config: () => t.config, logger: silentLogger(), now, firstDelayMs: 20, intervalMs: 60 });
    try {
      await eventually(() => !existsSync(join(t.root, '2024-05-01')));
      pilots(t.root, ['2024-05-02/Q_A']);
      await eventually(() => !existsSync(join(t.root, '2024-05-02')));
    } finally {
      await cleanup.stop();
    }
    pilots(t.root, ['2024-05-03/Q_A']);
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(join(t.root, '2024-05-03/Q_A'))).toBe(true);
  });

  it('joins a pass in progress and reads the configuration at every pass', async () => {
    const t = await tree('', 30);
    const shorter = await tree('', 1);
    pilots(t.root, ['2024-05-01/Q_A']);
    let config = t.config;
    const cleanup = startLogCleanup({ config: () => config, logger: silentLogger(), now: () => Date.parse('2024-05-10T12:00:00Z'), firstDelayMs: 3_600_000 });
    try {
      const [a, b] = [cleanup.runOnce(), cleanup.runOnce()];
      expect(a).toBe(b);
      expect((await a).removed).toEqual([]);
      // Same tree, reloaded configuration with a 1-day retention.
      config = { ...shorter.config, factory: { ...shorter.config.factory, baseLogDir: t.root } };
      expect((await cleanup.runOnce()).removed.map((r) => r.reason)).toEqual(['age', 'empty']);
    } finally {
      await cleanup.stop();
    }
  });

  it('survives a failing pass: the next one runs on time', async () => {
    const t = await tree('', 1);
    pilots(t.root, ['2024-05-01/Q_A']);
    let calls = 0;
    const config = (): ApfConfig => {
      calls += 1;
      if (calls === 1) throw new Error('config unavailable');
      return t.config;
    };
    const { logger, records } = capture();
    const cleanup = startLogCleanup({ config, logger, now: () => Date.parse('2024-05-10T12:00:00Z'), firstDelayMs: 10, intervalMs: 40 });
    try {
      await eventually(() => !existsSync(join(t.root, '2024-05-01')));
    } finally {
      await cleanup.stop();
    }
    expect(records.find((r) => r['msg'] === 'log cleanup pass failed')).toMatchObject({ err: 'config unavailable' });
  });
});
