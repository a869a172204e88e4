import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtInMappings, MAPPING_SECTIONS } from '../../../../src/config/mappings.ts';
import { parseOptions } from '../../../../src/config/options.ts';
import type { ResolvedEntry } from '../../../../src/config/types.ts';
import { parseCondorXml } from '../../../../src/plugins/batch-status/condor/parse-xml.ts';
import { condorWmsPlugin, countWmsJobs } from '../../../../src/plugins/wms-status/condor.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/htcondor/${name}`, import.meta.url), 'utf8');
const WMS_MAPPING = builtInMappings().get(MAPPING_SECTIONS.condorWms) ?? new Map<string, string>();

function parse(values: Record<string, string>) {
  const e = new Map<string, ResolvedEntry>(
    Object.entries(values).map(([k, v], i) => [k, { file: 'f', line: i + 1, raw: v, value: v }] as const),
  );
  return parseOptions(condorWmsPlugin.options, (k) => e.get(k), { section: 'Q', prefix: 'wmsstatus.condor.' }, e);
}

describe('plugins/wms-status/condor', () => {
  it('is the wmsstatus plugin "Condor" with MATCH_APF_QUEUE as default key', () => {
    expect(condorWmsPlugin.id).toBe('Condor');
    expect(condorWmsPlugin.family).toBe('wmsstatus');
    const { values, problems } = parse({});
    expect(problems).toEqual([]);
    expect(values).toMatchObject({ queueskey: 'MATCH_APF_QUEUE', sleep: 150, maxage: 360, timeout: 60, queryargs: [] });
  });

  it('keys sources by schedd and key attribute', () => {
    expect(condorWmsPlugin.sourceKey(parse({}).values, {} as never)).toBe('local/match_apf_queue');
    const v = parse({ 'wmsstatus.condor.queryargs': '-name s1', 'wmsstatus.condor.queueskey': 'Label' }).values;
    expect(condorWmsPlugin.sourceKey(v, {} as never)).toBe('s1:/label');
  });

  it('groups by the key value and maps idle to ready (CONDORWMSSTATUS-JOBSTATUS2INFO)', () => {
    // condor_q_attributes.xml: CERN 1,2,5 · LANCS 1,5 · BNL 2; held (5) is "failed" in this table
    const ads = parseCondorXml(fixture('condor_q_attributes.xml'), { attributes: ['MATCH_APF_QUEUE', 'JobStatus'] });
    const { queues, unmapped } = countWmsJobs(ads, 'MATCH_APF_QUEUE', WMS_MAPPING);
    expect(queues.get('CERN-ce503.cern.ch')).toEqual({ ready: 1, notready: 0, running: 1, done: 0, failed: 1 });
    expect(queues.get('UKI-NORTHGRID-LANCS-HEP_UCORE-arc01.hec.lancs.ac.uk')).toEqual({
      ready: 1,
      notready: 0,
      running: 0,
      done: 0,
      failed: 1,
    });
    expect(queues.get('BNL_LOCAL-vanilla')).toEqual({ ready: 0, notready: 0, running: 1, done: 0, failed: 0 });
    expect(unmapped.size).toBe(0);
  });

  it('skips jobs without a usable key and reports unmapped statuses', () => {
    const { queues, unmapped } = countWmsJobs(
      [
        { Label: 'a', JobStatus: 1 },
        { Label: 7, JobStatus: 0 },
        { Label: null, JobStatus: 1 },
        { JobStatus: 1 },
        { Label: 'a', JobStatus: 9 },
      ],
      'Label',
      WMS_MAPPING,
    );
    expect([...queues.keys()]).toEqual(['a', '7']);
    expect(queues.get('a')?.ready).toBe(1);
    expect(queues.get('7')?.ready).toBe(1);
    expect(unmapped).toEqual(new Map([['9', 1]]));
  });
});
