import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../../../../src/config/options.ts';
import type { QueueConfig, ResolvedEntry } from '../../../../../src/config/types.ts';
import { condorBatchPlugin, throttleWindow } from '../../../../../src/plugins/batch-status/condor/index.ts';

function entries(values: Record<string, string>): Map<string, ResolvedEntry> {
  return new Map(
    Object.entries(values).map(([k, v], i) => [k, { file: 'queues.conf', line: i + 1, raw: v, value: v }] as const),
  );
}

function parse(values: Record<string, string>) {
  const e = entries(values);
  return parseOptions(condorBatchPlugin.options, (k) => e.get(k), { section: 'Q', prefix: 'batchstatus.condor.' }, e);
}

describe('plugins/batch-status/condor/index', () => {
  it('is the batchstatus plugin "Condor"', () => {
    expect(condorBatchPlugin.id).toBe('Condor');
    expect(condorBatchPlugin.family).toBe('batchstatus');
  });

  it('has APF defaults (sleep 150, maxage 360) and apf ones (60 s deadline, history on)', () => {
    const { values, problems } = parse({});
    expect(problems).toEqual([]);
    expect(values).toMatchObject({ sleep: 150, maxage: 360, timeout: 60, history: true, queryargs: [], constraint: undefined });
    expect(values.format).toBe('xml');
    expect(values.condor_q).toBe('condor_q');
  });

  it('reads its keys', () => {
    const { values, problems } = parse({
      'batchstatus.condor.sleep': '30',
      'batchstatus.condor.queryargs': '-name schedd01 -pool "cm.example.org:9618"',
      'batchstatus.condor.format': 'XML',
      'batchstatus.condor.history': 'False',
      'batchstatus.condor.constraint': 'JobUniverse == 9',
      'batchstatus.condor.timeout': '5',
    });
    expect(problems).toEqual([]);
    expect(values).toMatchObject({
      sleep: 30,
      queryargs: ['-name', 'schedd01', '-pool', 'cm.example.org:9618'],
      format: 'xml',
      history: false,
      constraint: 'JobUniverse == 9',
      timeout: 5,
    });
    expect(condorBatchPlugin.sourceKey(values, {} as never)).toBe('schedd01:cm.example.org:9618');
  });

  it('reports bad values with their location', () => {
    const { problems } = parse({ 'batchstatus.condor.format': 'yaml', 'batchstatus.condor.queryargs': '-name "x' });
    expect(problems.map((p) => [p.key, p.line])).toEqual([
      ['batchstatus.condor.queryargs', 2],
      ['batchstatus.condor.format', 1],
    ]);
  });

  it('shares one source per schedd: local without -name/-pool', () => {
    expect(condorBatchPlugin.sourceKey(parse({}).values, {} as never)).toBe('local');
  });

  it("reads a queue's Throttle window from its sched chain (defaults 3600/10)", () => {
    const q = (sched: QueueConfig['sched']): QueueConfig => ({ name: 'q', sched }) as unknown as QueueConfig;
    expect(throttleWindow(q([{ id: 'Ready', options: {} }]))).toEqual({ interval: 3600, maxtime: 10 });
    expect(throttleWindow(q([{ id: 'Throttle', options: { interval: 600, maxtime: 30, ratio: 0.5 } }]))).toEqual({
      interval: 600,
      maxtime: 30,
    });
    expect(throttleWindow(q([{ id: 'throttle', options: { interval: 7200 } }]))).toEqual({ interval: 7200, maxtime: 10 });
  });
});
