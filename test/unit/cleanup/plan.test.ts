import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { ageInDays, diskCandidates, keepdaysResolver, parseDayName, planAgeRemovals } from '../../../src/cleanup/plan.ts';
import { tempDirs } from '../../helpers/temp-dirs.ts';

const tempDir = tempDirs('apf-cleanplan-');

describe('cleanup/plan', () => {
  it('accepts only real calendar dates as day directories', () => {
    expect(parseDayName('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    for (const bad of ['2023-02-29', '2024-02-30', '2024-13-01', '2024-00-10', '2024-5-1', '2024-05-01x', 'x2024-05-01', 'queues.conf', '2024-05-01.tgz']) {
      expect(parseDayName(bad), bad).toBeUndefined();
    }
  });

  it('counts whole UTC days, across month and year ends', () => {
    expect(ageInDays('2024-05-01', '2024-05-10')).toBe(9);
    expect(ageInDays('2023-12-31', '2024-01-01')).toBe(1);
    expect(ageInDays('2024-02-28', '2024-03-01')).toBe(2);
    expect(ageInDays('2024-05-11', '2024-05-10')).toBe(-1);
  });

  it('chooses the queue directories strictly older than their retention, never today or the future', () => {
    const keep = new Map([['SHORT', 1], ['LONG', 10], ['ZERO', 0]]);
    const removals = planAgeRemovals(
      [
        { name: '2024-05-11', queues: ['ZERO'] },
        { name: '2024-05-10', queues: ['ZERO', 'DEF'] },
        { name: '2024-05-09', queues: ['SHORT', 'ZERO', 'DEF'] },
        { name: '2024-05-08', queues: ['SHORT', 'DEF'] },
        { name: '2024-05-06', queues: ['DEF', 'LONG'] },
        { name: '2024-04-20', queues: ['LONG'] },
      ],
      '2024-05-10',
      (d) => keep.get(d) ?? 3,
    );
    expect(removals.map((r) => `${r.day}/${r.queue} ${r.ageDays}>${r.keepdays}`)).toEqual([
      '2024-05-09/ZERO 1>0',
      '2024-05-08/SHORT 2>1',
      '2024-05-06/DEF 4>3',
      '2024-04-20/LONG 20>10',
    ]);
  });

  it('offers past day directories to the disk rule oldest first, never today', () => {
    expect(diskCandidates(['2024-05-10', '2024-05-02', '2024-05-11', '2023-12-30', '2024-05-09'], '2024-05-10')).toEqual(['2023-12-30', '2024-05-02', '2024-05-09']);
  });

  it("takes a queue's own keepdays, else the factory's, by the queue's directory name", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'autopyfactory.conf'), '[Factory]\nfactoryId = F\nfactoryAdminEmail = a@b.c\nbaseLogDir = /tmp/x\nbaseLogDirUrl = http://h:25880\ncleanlogs.keepdays = 5\n');
    writeFileSync(
      join(dir, 'queues.conf'),
      [
        '[DEFAULT]',
        'enabled = True',
        'batchstatusplugin = Static',
        'batchsubmitplugin = Noop',
        'schedplugin = Fixed',
        '[Q/B:1]',
        'cleanlogs.keepdays = 1',
        '[Q_B_1]',
        'cleanlogs.keepdays = 4',
        '[PLAIN]',
        '',
      ].join('\n'),
    );
    const { config, problems } = await loadConfig({ dir });
    if (config === undefined) throw new Error(JSON.stringify(problems));
    const keepdays = keepdaysResolver(config);
    // `Q/B:1` and `Q_B_1` write to the same directory: the longer retention wins.
    expect(keepdays('Q_B_1')).toBe(4);
    expect(keepdays('PLAIN')).toBe(5);
    expect(keepdays('NOT-CONFIGURED')).toBe(5);
  });
});
