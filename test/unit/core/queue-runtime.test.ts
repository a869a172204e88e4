import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { buildQueueRuntime } from '../../../src/core/queue-runtime.ts';
import { buildRuntimes } from '../../../src/core/runtimes.ts';
import { recordingLogger, WARN } from '../plugins/batch-submit/context.ts';
import { tempDirs } from '../../helpers/temp-dirs.ts';

const tempDir = tempDirs('apf-qrt-');

const FACTORY = ['[Factory]', 'factoryId = t', 'factoryAdminEmail = a@example.org', 'baseLogDir = /tmp/apf-logs', 'baseLogDirUrl = http://localhost:25880', ''].join('\n');

/** A `[DEFAULT]` section whose queues build without external tools (Condor status is only polled later). */
const NOOP_DEFAULTS = ['[DEFAULT]', 'enabled = True', 'batchstatusplugin = Condor', 'batchsubmitplugin = Noop', 'wmsstatusplugin = Static', 'schedplugin = Ready'];

async function loaded(queues: string): Promise<NonNullable<Awaited<ReturnType<typeof loadConfig>>['config']>> {
  const dir = tempDir();
  writeFileSync(join(dir, 'autopyfactory.conf'), FACTORY);
  writeFileSync(join(dir, 'queues.conf'), queues);
  const { config, problems } = await loadConfig({ dir });
  if (config === undefined) throw new Error(JSON.stringify(problems));
  return config;
}

describe('buildQueueRuntime', () => {
  it("gives a plugin's queues one shared logger, and each log line still names its queue", async () => {
    const config = await loaded(
      [
        '[DEFAULT]',
        'batchstatusplugin = Condor',
        'batchsubmitplugin = CondorCE',
        'executable = /bin/true',
        'schedplugin = Ready',
        '[Q1]',
        'wmsqueue = Q1',
        '[Q2]',
        'wmsqueue = Q2',
        '[N1]',
        'wmsqueue = N1',
        'batchsubmitplugin = Noop',
        '',
      ].join('\n'),
    );
    const { logger, records } = recordingLogger();
    const child = vi.spyOn(logger, 'child');
    const rts = ['Q1', 'Q2', 'N1'].map((q) => buildQueueRuntime(config, config.queues.get(q)!, logger));
    // one child per plugin, bound to the plugin only, not one per queue
    expect(child.mock.calls.map((c) => c[0])).toEqual([{ plugin: 'CondorCE' }, { plugin: 'Noop' }]);
    // CondorCE without a grid_resource warns once per queue, when the submitter is built
    const warned = records.filter((r) => r.level === WARN && String(r.msg).startsWith('CondorCE writes no grid_resource'));
    expect(warned.map((r) => [r['plugin'], r['queue']])).toEqual([
      ['CondorCE', 'Q1'],
      ['CondorCE', 'Q2'],
    ]);
    const n = await rts[2]!.submitter.submit({ n: 2, cycleId: 'N1:1:7', now: new Date() }, new AbortController().signal);
    expect(n.jobIds).toHaveLength(2);
    expect(records.find((r) => r.msg === 'noop submit')).toMatchObject({ plugin: 'Noop', queue: 'N1', n: 2, cycle: 'N1:1:7' });
  });

  it('gives queues with the same status sources one keys object, and apart those that differ', async () => {
    const config = await loaded(
      [
        ...NOOP_DEFAULTS,
        '[Q1]',
        'wmsqueue = Q1',
        '[Q2]',
        'wmsqueue = Q2',
        '[R1]',
        'wmsqueue = R1',
        'batchstatus.condor.queryargs = -name other@schedd.example.org -pool pool.example.org',
        '',
      ].join('\n'),
    );
    const { logger } = recordingLogger();
    const rt = buildRuntimes(config, 'i1', logger);
    const [q1, q2, r1] = ['Q1', 'Q2', 'R1'].map((q) => rt.sources.keysOf(q));
    expect(q1?.batch).toMatch(/^Condor:/);
    expect(q1).toBe(q2);
    expect(Object.isFrozen(q1)).toBe(true);
    expect(r1).not.toBe(q1);
    expect(r1?.batch).not.toBe(q1?.batch);
    expect(r1?.wms).toBe(q1?.wms);
    const runnable = ['Q1', 'Q2', 'R1'].map((q) => rt.queues.get(q));
    expect(runnable.map((r) => [r?.batchStatusKey, r?.batchSource])).toEqual([
      [q1?.batch, 'condor:local@i1'],
      [q1?.batch, 'condor:local@i1'],
      [r1?.batch, expect.stringContaining('other@schedd.example.org') as unknown],
    ]);
  });
});

describe('buildRuntimes desired schedulers', () => {
  it('holds every enabled queue with its interval, and no disabled one', async () => {
    const config = await loaded(
      [
        ...NOOP_DEFAULTS,
        'apfqueue.sleep = 90',
        '[A]',
        'wmsqueue = A',
        '[B]',
        'wmsqueue = B',
        'apfqueue.sleep = 30',
        '[OFF]',
        'wmsqueue = OFF',
        'enabled = False',
        '',
      ].join('\n'),
    );
    const { logger } = recordingLogger();
    const rt = buildRuntimes(config, 'i1', logger);
    expect([...rt.desired]).toEqual([
      ['A', 90_000],
      ['B', 30_000],
    ]);
    expect([...rt.desired.keys()]).toEqual([...rt.queues.keys()]);
  });
});
