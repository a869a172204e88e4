/**
 * The Condor batch and WMS status sources against fake condor_q / condor_history executables
 * (small shell scripts printing fixture outputs, failing, hanging or printing garbage).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtInMappings } from '../../src/config/mappings.ts';
import { parseOptions, type OptionSpecs, type OptionValues } from '../../src/config/options.ts';
import type { ApfConfig, FactorySettings, QueueConfig, ResolvedEntry } from '../../src/config/types.ts';
import { isApfError } from '../../src/errors.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import { condorBatchPlugin } from '../../src/plugins/batch-status/condor/index.ts';
import type { SourceContext } from '../../src/plugins/define.ts';
import { condorWmsPlugin } from '../../src/plugins/wms-status/condor.ts';
import { rejection } from '../helpers/rejection.ts';

const FIX = new URL('../fixtures/htcondor/', import.meta.url).pathname;
const NOW_S = 1_700_000_000;
const CERN = 'CERN-ce503.cern.ch';
const LANCS = 'UKI-NORTHGRID-LANCS-HEP_UCORE-arc01.hec.lancs.ac.uk';

let dir: string;

/** Writes an executable script `name` into the temp dir that records its arguments first. */
function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$@" > "${path}.args"\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const argsOf = (path: string): string[] => readFileSync(`${path}.args`, 'utf8').trimEnd().split('\n');

function queue(name: string, sched: QueueConfig['sched'] = []): QueueConfig {
  return { name, sched, wmsqueue: name } as unknown as QueueConfig;
}

function context(queues: QueueConfig[]): SourceContext {
  const factory = { factoryId: 'apf-lancs' } as FactorySettings;
  const config = { mappings: builtInMappings(), factory } as unknown as ApfConfig;
  return { config, factory, logger: silentLogger(), queues, now: () => NOW_S * 1000 };
}

function options<S extends OptionSpecs>(specs: S, prefix: string, values: Record<string, string>): OptionValues<S> {
  const e = new Map<string, ResolvedEntry>(
    Object.entries(values).map(([k, v]) => [prefix + k, { file: 't', line: 1, raw: v, value: v }] as const),
  );
  const parsed = parseOptions(specs, (k) => e.get(k), { section: 'Q', prefix }, e);
  expect(parsed.problems).toEqual([]);
  return parsed.values;
}

const batchOptions = (values: Record<string, string>) => options(condorBatchPlugin.options, 'batchstatus.condor.', values);


beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'apf-condor-status-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('plugins/batch-status/condor (fetch against fake condor tools)', () => {
  const queues = [queue(CERN, [{ id: 'Throttle', options: { interval: 7200, maxtime: 10 } }]), queue('empty-queue')];

  it.each(['xml', 'json'] as const)('reads condor_q and condor_history in %s form', async (format) => {
    const q = script(`q-${format}`, `cat '${FIX}condor_q_attributes.${format}'`);
    const h = script(`h-${format}`, `cat '${FIX}condor_history${format === 'xml' ? '_attributes' : ''}.${format}'`);
    const opts = batchOptions({ format, condor_q: q, condor_history: h, queryargs: '-name schedd01.example.org' });
    const source = condorBatchPlugin.createSource(opts, context(queues));
    expect(source.key).toBe('schedd01.example.org:');
    const snap = await source.fetch(new AbortController().signal);

    expect(snap.at).toBe(NOW_S * 1000);
    expect(snap.queues.get(CERN)).toEqual({ pending: 2, running: 1, done: 1, failed: 0, recent: { total: 0, short: 0 } });
    expect(snap.queues.get(LANCS)).toMatchObject({ pending: 2, running: 0, done: 0, failed: 1 });
    expect(snap.queues.get('BNL_LOCAL-vanilla')).toMatchObject({ pending: 0, running: 1 });
    expect(snap.queues.get('empty-queue')).toEqual({ pending: 0, running: 0, done: 0, failed: 0, recent: { total: 0, short: 0 } });
    expect(snap.jobs.get(CERN)?.map((j) => j.id)).toEqual(['4367890.0', '4367890.1', '4367891.0']);

    const own = 'MATCH_APF_QUEUE =!= UNDEFINED && APF_FACTORY =?= "apf-lancs"';
    expect(argsOf(q)).toEqual([
      '-allusers',
      `-${format}`,
      '-attributes',
      'ClusterId,ProcId,JobStatus,MATCH_APF_QUEUE,QDate,EnteredCurrentStatus,APF_FACTORY',
      '-constraint',
      own,
      '-name',
      'schedd01.example.org',
    ]);
    // The history window is the widest Throttle interval of the queues served (7200 > 3600).
    expect(argsOf(h)).toEqual([
      `-${format}`,
      '-attributes',
      'ClusterId,ProcId,JobStatus,MATCH_APF_QUEUE,ExitCode,EnteredCurrentStatus,JobStartDate,RemoteWallClockTime',
      '-constraint',
      `${own} && EnteredCurrentStatus > ${NOW_S - 7200}`,
      '-name',
      'schedd01.example.org',
    ]);
  });

  it('skips condor_history when history is off, and ANDs the extra constraint', async () => {
    const q = script('q-nohist', `cat '${FIX}condor_q_attributes.xml'`);
    const h = script('h-nohist', 'echo called > "$0.called"');
    const opts = batchOptions({ format: 'xml', condor_q: q, condor_history: h, history: 'False', constraint: 'JobUniverse == 9' });
    const snap = await condorBatchPlugin.createSource(opts, context([])).fetch(new AbortController().signal);
    expect(snap.queues.get(CERN)).toEqual({ pending: 2, running: 1, done: 0, failed: 0 });
    expect(existsSync(`${h}.called`)).toBe(false);
    expect(argsOf(q)[5]).toBe('MATCH_APF_QUEUE =!= UNDEFINED && APF_FACTORY =?= "apf-lancs" && (JobUniverse == 9)');
  });

  it('reads an empty queue (xml header only, json nothing) as zeros', async () => {
    for (const format of ['xml', 'json'] as const) {
      const q = script(`q-empty-${format}`, `cat '${FIX}condor_q_empty.${format}'`);
      const opts = batchOptions({ format, condor_q: q, history: 'False' });
      const snap = await condorBatchPlugin.createSource(opts, context([queue(CERN)])).fetch(new AbortController().signal);
      expect([...snap.queues]).toEqual([[CERN, { pending: 0, running: 0, done: 0, failed: 0 }]]);
    }
  });

  describe('fails closed', () => {
    const fetchWith = (body: string, extra: Record<string, string> = {}) => {
      const q = script(`q-${Math.random().toString(36).slice(2)}`, body);
      const opts = batchOptions({ format: 'xml', condor_q: q, history: 'False', ...extra });
      return condorBatchPlugin.createSource(opts, context([])).fetch(new AbortController().signal);
    };

    it('non-zero exit: APF_ERR_BATCH_UNAVAILABLE with the first stderr lines', async () => {
      const err = await rejection(
        fetchWith(
          `echo '-- Failed to fetch ads from: <10.0.0.1:9618> : schedd01.example.org' >&2\necho 'AUTHENTICATE:1003:Failed to authenticate with any method' >&2\nexit 1`,
        ),
      );
      expect(isApfError(err, 'APF_ERR_BATCH_UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toContain('exited with status 1');
      expect((err as Error).message).toContain('Failed to fetch ads from');
      expect((err as Error).message).toContain('AUTHENTICATE:1003');
    });

    it('a failure notice on stderr even with exit 0', async () => {
      const err = await rejection(fetchWith(`cat '${FIX}condor_q_empty.xml'\necho '-- Failed to fetch ads from: <10.0.0.1:9618>' >&2`));
      expect(isApfError(err, 'APF_ERR_BATCH_UNAVAILABLE')).toBe(true);
    });

    it('empty json output with complaints on stderr', async () => {
      const err = await rejection(fetchWith(`echo 'Error: out of memory' >&2`, { format: 'json' }));
      expect(isApfError(err, 'APF_ERR_BATCH_UNAVAILABLE')).toBe(true);
    });

    it('a hung condor_q is killed at the deadline and reported', async () => {
      const pidFile = join(dir, 'hang.pid');
      const started = Date.now();
      const err = await rejection(fetchWith(`echo $$ > '${pidFile}'\nexec sleep 30`, { timeout: '1' }));
      expect(isApfError(err, 'APF_ERR_COMMAND_TIMEOUT')).toBe(true);
      expect(Date.now() - started).toBeLessThan(10_000);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(() => process.kill(pid, 0)).toThrow();
    });

    it.each([
      ['garbage', "echo 'Segmentation fault (core dumped)'"],
      ['truncated xml', `head -c 1500 '${FIX}condor_q_attributes.xml'`],
      ['nothing at all in xml form', 'true'],
    ])('%s: APF_ERR_BATCH_OUTPUT', async (_what, body) => {
      const err = await rejection(fetchWith(body));
      expect(isApfError(err, 'APF_ERR_BATCH_OUTPUT')).toBe(true);
      expect((err as Error).message).toMatch(/^condor_q: /);
    });

    it('truncated json: APF_ERR_BATCH_OUTPUT', async () => {
      const err = await rejection(fetchWith(`head -c 900 '${FIX}condor_q_attributes.json'`, { format: 'json' }));
      expect(isApfError(err, 'APF_ERR_BATCH_OUTPUT')).toBe(true);
    });

    it('a failing condor_history fails the whole fetch', async () => {
      const q = script('q-ok', `cat '${FIX}condor_q_attributes.xml'`);
      const h = script('h-bad', "echo 'history file missing' >&2\nexit 2");
      const opts = batchOptions({ format: 'xml', condor_q: q, condor_history: h });
      const err = await rejection(condorBatchPlugin.createSource(opts, context([])).fetch(new AbortController().signal));
      expect(isApfError(err, 'APF_ERR_BATCH_UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toContain('condor_history exited with status 2');
    });

    it('a missing executable: APF_ERR_COMMAND_FAILED', async () => {
      const opts = batchOptions({ condor_q: join(dir, 'no-such-condor_q') });
      const err = await rejection(condorBatchPlugin.createSource(opts, context([])).fetch(new AbortController().signal));
      expect(isApfError(err, 'APF_ERR_COMMAND_FAILED')).toBe(true);
    });

    it('an abort kills the query: APF_ERR_ABORTED', async () => {
      const q = script('q-abort', 'exec sleep 30');
      const opts = batchOptions({ condor_q: q, timeout: '30' });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 200);
      const err = await rejection(condorBatchPlugin.createSource(opts, context([])).fetch(ac.signal));
      expect(isApfError(err, 'APF_ERR_ABORTED')).toBe(true);
    });
  });
});

describe('plugins/wms-status/condor (fetch against a fake condor_q)', () => {
  it.each(['xml', 'json'] as const)('counts idle jobs per key value as ready (%s); sites are ok', async (format) => {
    const q = script(`wms-${format}`, `cat '${FIX}condor_q_attributes.${format}'`);
    const opts = options(condorWmsPlugin.options, 'wmsstatus.condor.', { format, condor_q: q, queryargs: '-pool cm:9618' });
    const source = condorWmsPlugin.createSource(opts, context([queue('configured-only')]));
    const snap = await source.fetch(new AbortController().signal);
    expect(snap.queues.get(CERN)).toEqual({ ready: 1, notready: 0, running: 1, done: 0, failed: 1 });
    expect(snap.queues.get('BNL_LOCAL-vanilla')).toEqual({ ready: 0, notready: 0, running: 1, done: 0, failed: 0 });
    expect(snap.sites?.get('configured-only')).toEqual({ status: 'ok' });
    expect(snap.sites?.get(LANCS)).toEqual({ status: 'ok' });
    expect(argsOf(q)).toEqual([
      '-allusers',
      `-${format}`,
      '-attributes',
      'MATCH_APF_QUEUE,JobStatus',
      '-constraint',
      'MATCH_APF_QUEUE =!= UNDEFINED',
      '-pool',
      'cm:9618',
    ]);
  });

  it('fails closed with WMS codes: failing condor_q, garbage', async () => {
    const bad = script('wms-bad', "echo 'schedd down' >&2\nexit 1");
    const opts = options(condorWmsPlugin.options, 'wmsstatus.condor.', { condor_q: bad });
    const err = await rejection(condorWmsPlugin.createSource(opts, context([])).fetch(new AbortController().signal));
    expect(isApfError(err, 'APF_ERR_WMS_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('schedd down');
    const garbage = script('wms-garbage', "echo '<html>proxy error</html>'");
    const opts2 = options(condorWmsPlugin.options, 'wmsstatus.condor.', { condor_q: garbage, format: 'xml' });
    const err2 = await rejection(condorWmsPlugin.createSource(opts2, context([])).fetch(new AbortController().signal));
    expect(isApfError(err2, 'APF_ERR_WMS_RESPONSE')).toBe(true);
  });
});
