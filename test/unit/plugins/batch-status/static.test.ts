import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../../../src/config/options.ts';
import type { ResolvedEntry } from '../../../../src/config/types.ts';
import { staticBatchPlugin } from '../../../../src/plugins/batch-status/static.ts';
import type { SourceContext } from '../../../../src/plugins/define.ts';
import { findPlugin } from '../../../../src/plugins/registry.ts';
import { recordingLogger, submitContext } from '../batch-submit/context.ts';

function parse(values: Record<string, string>) {
  const e = new Map<string, ResolvedEntry>(Object.entries(values).map(([k, v], i) => [k, { file: 'queues.conf', line: i + 1, raw: v, value: v }] as const));
  return parseOptions(staticBatchPlugin.options, (k) => e.get(k), { section: 'Q', prefix: 'batchstatus.static.' }, e);
}

/** A source context over two queues, one of them with a wmsqueue (batch counts are keyed by APF queue name). */
function context(now: () => number): SourceContext {
  const { logger } = recordingLogger();
  const base = submitContext({ queue: 'CERN-PROD-ce503', section: { wmsqueue: 'CERN-PROD' } }, logger);
  return { config: base.config, factory: base.factory, logger, queues: [base.queue, { ...base.queue, name: 'LANCS-arc01', wmsqueue: 'LANCS' }], now };
}

describe('plugins/batch-status/static', () => {
  it('is the batchstatus plugin "Static" (found case-insensitively) with empty defaults', () => {
    expect(findPlugin('batchstatus', 'STATIC')).toBe(staticBatchPlugin);
    const { values, problems } = parse({});
    expect(problems).toEqual([]);
    expect(values).toEqual({ sleep: 60, maxage: 360, pending: 0, running: 0 });
  });

  it('rejects negative counts and a zero maxage, naming the key', () => {
    const { problems } = parse({ 'batchstatus.static.pending': '-3', 'batchstatus.static.maxage': '0' });
    expect(problems.map((p) => p.key).sort()).toEqual(['batchstatus.static.maxage', 'batchstatus.static.pending']);
  });

  it('is one local source per instance whatever the counts (it stands for the local schedd)', () => {
    expect(staticBatchPlugin.sourceKey(parse({ 'batchstatus.static.pending': '1' }).values, {} as never)).toBe('local');
    expect(staticBatchPlugin.sourceKey(parse({ 'batchstatus.static.running': '9' }).values, {} as never)).toBe('local');
  });

  it('reports the configured counts for every queue by APF queue name, with no pilots to retire', async () => {
    const source = staticBatchPlugin.createSource(
      parse({ 'batchstatus.static.pending': '4', 'batchstatus.static.running': '11', 'batchstatus.static.sleep': '30', 'batchstatus.static.maxage': '90' }).values,
      context(() => 1_700_000_000_500),
    );
    expect(source.sleepS).toBe(30);
    expect(source.maxAgeS).toBe(90);
    const snap = await source.fetch(new AbortController().signal);
    expect(snap.at).toBe(1_700_000_000_500);
    expect([...snap.queues.keys()].sort()).toEqual(['CERN-PROD-ce503', 'LANCS-arc01']);
    for (const info of snap.queues.values()) expect(info).toEqual({ pending: 4, running: 11, done: 0, failed: 0 });
    expect(snap.jobs.size).toBe(0);
  });

  it('stamps every poll with the time of that poll', async () => {
    let now = 5000;
    const source = staticBatchPlugin.createSource(parse({}).values, context(() => now));
    expect((await source.fetch(new AbortController().signal)).at).toBe(5000);
    now = 65_000;
    expect((await source.fetch(new AbortController().signal)).at).toBe(65_000);
  });
});
