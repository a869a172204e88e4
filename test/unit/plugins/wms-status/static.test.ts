import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../../../src/config/options.ts';
import type { QueueConfig, ResolvedEntry } from '../../../../src/config/types.ts';
import type { SourceContext } from '../../../../src/plugins/define.ts';
import { findPlugin } from '../../../../src/plugins/registry.ts';
import { staticWmsPlugin } from '../../../../src/plugins/wms-status/static.ts';
import { recordingLogger, submitContext } from '../batch-submit/context.ts';

function parse(values: Record<string, string>) {
  const e = new Map<string, ResolvedEntry>(Object.entries(values).map(([k, v], i) => [k, { file: 'queues.conf', line: i + 1, raw: v, value: v }] as const));
  return parseOptions(staticWmsPlugin.options, (k) => e.get(k), { section: 'Q', prefix: 'wmsstatus.static.' }, e);
}

/** A source context over two queues: one with a wmsqueue, one without (APF then uses the queue name). */
function context(now: number): { ctx: SourceContext; queues: QueueConfig[] } {
  const { logger } = recordingLogger();
  const base = submitContext({ queue: 'CERN-PROD-ce503', section: { wmsqueue: 'CERN-PROD' } }, logger);
  const queues = [base.queue, { ...base.queue, name: 'BNL_ATLAS_2-gk05', wmsqueue: undefined }];
  return { ctx: { config: base.config, factory: base.factory, logger, queues, now: () => now }, queues };
}

describe('plugins/wms-status/static', () => {
  it('is the wmsstatus plugin "Static" (found case-insensitively) with idle defaults', () => {
    expect(findPlugin('wmsstatus', 'static')).toBe(staticWmsPlugin);
    const { values, problems } = parse({});
    expect(problems).toEqual([]);
    expect(values).toEqual({ sleep: 60, maxage: 360, ready: 0, running: 0, status: 'online' });
  });

  it('rejects negative demand and a zero sleep, naming the key', () => {
    const { problems } = parse({ 'wmsstatus.static.ready': '-1', 'wmsstatus.static.sleep': '0' });
    expect(problems.map((p) => p.key).sort()).toEqual(['wmsstatus.static.ready', 'wmsstatus.static.sleep']);
    expect(problems.every((p) => p.severity === 'error')).toBe(true);
  });

  it('shares one source between queues with the same demand and status, not otherwise', () => {
    const a = staticWmsPlugin.sourceKey(parse({ 'wmsstatus.static.ready': '5' }).values, {} as never);
    const b = staticWmsPlugin.sourceKey(parse({ 'wmsstatus.static.ready': '5', 'wmsstatus.static.sleep': '30' }).values, {} as never);
    const c = staticWmsPlugin.sourceKey(parse({ 'wmsstatus.static.ready': '6' }).values, {} as never);
    const d = staticWmsPlugin.sourceKey(parse({ 'wmsstatus.static.ready': '5', 'wmsstatus.static.status': 'offline' }).values, {} as never);
    expect(a).toBe(b);
    expect(new Set([a, c, d]).size).toBe(3);
  });

  it('reports the configured demand and site status for every queue of the source, keyed by wmsqueue', async () => {
    const { ctx } = context(1_700_000_123_000);
    const options = parse({ 'wmsstatus.static.ready': '7', 'wmsstatus.static.running': '3', 'wmsstatus.static.status': 'test', 'wmsstatus.static.maxage': '120' }).values;
    const source = staticWmsPlugin.createSource(options, ctx);
    expect(source.sleepS).toBe(60);
    expect(source.maxAgeS).toBe(120);
    const snap = await source.fetch(new AbortController().signal);
    expect(snap.at).toBe(1_700_000_123_000);
    expect([...snap.queues.keys()].sort()).toEqual(['BNL_ATLAS_2-gk05', 'CERN-PROD']);
    expect(snap.queues.get('CERN-PROD')).toEqual({ ready: 7, notready: 0, running: 3, done: 0, failed: 0 });
    expect(snap.queues.get('BNL_ATLAS_2-gk05')).toEqual({ ready: 7, notready: 0, running: 3, done: 0, failed: 0 });
    expect(snap.sites?.get('CERN-PROD')).toEqual({ status: 'test' });
    expect(snap.sites?.get('BNL_ATLAS_2-gk05')).toEqual({ status: 'test' });
  });

  it('stamps every fetch with the time of that fetch', async () => {
    let now = 1000;
    const { ctx } = context(0);
    const source = staticWmsPlugin.createSource(parse({}).values, { ...ctx, now: () => now });
    expect((await source.fetch(new AbortController().signal)).at).toBe(1000);
    now = 61_000;
    expect((await source.fetch(new AbortController().signal)).at).toBe(61_000);
  });
});
