/** Temporary log trees and configurations for the cleanup tests. */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import type { ApfConfig } from '../../../src/config/types.ts';
import { createLogger, type Logger } from '../../../src/logging/logger.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export interface Tree {
  readonly base: string;
  readonly root: string;
  readonly outside: string;
  readonly config: ApfConfig;
}

/** A temp dir with `logs/` (baseLogDir), `outside/precious.txt` and a config whose queues have keepdays overrides. */
export async function tree(factoryExtra = '', keepdays = 3): Promise<Tree> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'apf-clean-')));
  dirs.push(base);
  const root = join(base, 'logs');
  const outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'precious.txt'), 'do not delete');
  const etc = join(base, 'etc');
  mkdirSync(etc);
  writeFileSync(
    join(etc, 'autopyfactory.conf'),
    `[Factory]\nfactoryId = F\nfactoryAdminEmail = a@b.c\nbaseLogDir = ${root}/\nbaseLogDirUrl = http://h:25880\ncleanlogs.keepdays = ${keepdays}\n${factoryExtra}`,
  );
  writeFileSync(
    join(etc, 'queues.conf'),
    ['[DEFAULT]', 'enabled = True', 'batchstatusplugin = Static', 'batchsubmitplugin = Noop', 'schedplugin = Fixed', '[Q_A]', '[Q/B:1]', 'cleanlogs.keepdays = 1', '[LONG]', 'cleanlogs.keepdays = 10', ''].join('\n'),
  );
  const { config, problems } = await loadConfig({ dir: etc });
  if (config === undefined) throw new Error(JSON.stringify(problems));
  return { base, root, outside, config };
}

/** Creates `<root>/<day>/<queue>/1.0.out` with `bytes` bytes for each `day/queue`. */
export function pilots(root: string, paths: readonly string[], bytes = 100): void {
  for (const p of paths) {
    mkdirSync(join(root, p), { recursive: true });
    writeFileSync(join(root, p, '1.0.out'), 'x'.repeat(bytes));
  }
}

/** A logger whose JSON records are kept. */
export function capture(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) } });
  return { logger, records };
}

