import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApfError } from '../../../../../src/errors.ts';
import {
  mapCounts,
  parseLabelPickle,
  parseSitePickle,
  parseV1Stats,
  type SiteCounts,
} from '../../../../../src/plugins/wms-status/panda/parse.ts';

const FIX = new URL('../../../../fixtures/panda/', import.meta.url);
const text = (name: string, enc: BufferEncoding = 'utf8'): string => readFileSync(new URL(name, FIX), enc);
const decoded = (name: string): Record<string, Record<string, unknown>> =>
  JSON.parse(text(name)) as Record<string, Record<string, unknown>>;

/** APF's mappings.conf [PANDAWMSSTATUS-JOBSSTATISTICSPERSITE2INFO] (apf-behaviour.md §2.7). */
const APF_TABLE = new Map<string, string>([
  ...['pending', 'defined', 'assigned', 'waiting', 'throttled'].map((s): [string, string] => [s, 'notready']),
  ['activated', 'ready'],
  ...['starting', 'sent', 'running', 'holding', 'transferring'].map((s): [string, string] => [s, 'running']),
  ['finished', 'done'],
  ['failed', 'failed'],
  ['cancelled', 'failed'],
]);

function wmsError(fn: () => unknown): ApfError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApfError && err.code === 'APF_ERR_WMS_RESPONSE') return err;
    throw new Error(`expected APF_ERR_WMS_RESPONSE, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a rejection');
}

const asObject = (c: SiteCounts): Record<string, Record<string, number>> =>
  Object.fromEntries([...c].map(([k, v]) => [k, Object.fromEntries(v)]));

describe('plugins/wms-status/panda/parse', () => {
  describe('api v1', () => {
    it('reads the active_job_stats_by_site envelope', () => {
      const body = text('api_v1_statistics_active_job_stats_by_site.json');
      const expected = (JSON.parse(body) as { data: unknown }).data;
      expect(asObject(parseV1Stats(body))).toEqual(expected);
    });

    it('success:false carries PanDA\'s message (empty statistics = "Database failure")', () => {
      const err = wmsError(() => parseV1Stats(text('api_v1_error_db_failure.json')));
      expect(err.message).toContain('success:false: Database failure getting the job statistics');
      const err2 = wmsError(() => parseV1Stats(text('api_v1_error_wrong_method.json')));
      expect(err2.message).toContain('expecting GET, received POST');
    });

    it('a nested statistics shape is refused, naming the field', () => {
      const err = wmsError(() => parseV1Stats(text('api_v1_statistics_active_job_detailed_stats_by_site.json')));
      expect(err.message).toContain('data.CERN.SCORE');
      expect(err.message).toMatch(/expected number/);
    });

    it('the Python str(dict) text a server sends without Accept: application/json is not JSON', () => {
      const err = wmsError(() => parseV1Stats("{'success': True, 'message': '', 'data': {'CERN': {'activated': 1}}}"));
      expect(err.message).toContain('not JSON');
      expect(err.message).toContain("{'success': True");
    });

    it('an HTML error page is not JSON', () => {
      expect(wmsError(() => parseV1Stats('<html><body>Proxy Error</body></html>')).message).toContain('<html>');
    });

    it('an envelope without success is refused naming the field', () => {
      expect(wmsError(() => parseV1Stats('{"data": {}}')).message).toContain('success');
      expect(wmsError(() => parseV1Stats('[1,2]')).message).toContain('(root)');
    });

    it('negative or string counts are refused naming the site and state', () => {
      const err = wmsError(() => parseV1Stats('{"success": true, "message": "", "data": {"BNL": {"running": "12"}}}'));
      expect(err.message).toContain('data.BNL.running');
      expect(wmsError(() => parseV1Stats('{"success":true,"data":{"BNL":{"running":-1}}}')).message).toContain('data.BNL.running');
    });

    it('skips the "null" site and accepts an empty data dict', () => {
      const c = parseV1Stats('{"success":true,"message":"","data":{"null":{"defined":5},"X":{"activated":2}}}');
      expect([...c.keys()]).toEqual(['X']);
      expect(parseV1Stats('{"success":true,"message":"","data":{}}').size).toBe(0);
    });
  });

  describe('legacy pickles', () => {
    it('getJobStatisticsPerSite (Python 3) gives the decoded counts', () => {
      const c = parseSitePickle(text('getJobStatisticsPerSite.py3.pickle0', 'latin1'));
      expect(asObject(c)).toEqual(decoded('getJobStatisticsPerSite.decoded.json')['py3']);
    });

    it('getJobStatisticsPerSite (Python 2, 2011) skips the None site', () => {
      const c = parseSitePickle(text('getJobStatisticsPerSite.py2-2011.pickle0', 'latin1'));
      expect([...c.keys()]).toEqual(['AGLT2']);
      expect(c.get('AGLT2')?.get('activated')).toBe(495);
    });

    it('getJobStatisticsWithLabel sums every label per site and state', () => {
      const c = parseLabelPickle(text('getJobStatisticsWithLabel.py2-2011.pickle0', 'latin1'));
      // FZK-LCG2: prod_test 8 + managed 6684 + rc_test 1 activated.
      expect(c?.get('FZK-LCG2')?.get('activated')).toBe(6693);
      expect(c?.get('FZK-LCG2')?.get('holding')).toBe(71);
      expect(c?.get('BU_ATLAS_Tier2o')?.get('activated')).toBe(1365);
      const c3 = parseLabelPickle(text('getJobStatisticsWithLabel.py3.pickle0', 'latin1'));
      expect(Object.fromEntries(c3.get('CERN') ?? [])).toEqual({ activated: 412, running: 5125, starting: 37, holding: 88 });
      expect(Object.fromEntries(c3.get('UKI-NORTHGRID-LANCS-HEP_UCORE') ?? [])).toEqual({ running: 3, holding: 1 });
    });

    it('a label body given to the per-site parser is refused naming the field', () => {
      const err = wmsError(() => parseSitePickle(text('getJobStatisticsWithLabel.py3.pickle0', 'latin1')));
      expect(err.message).toContain('CERN.managed');
    });

    it('a GLOBAL opcode becomes APF_ERR_WMS_RESPONSE with the pickle error as cause', () => {
      const body = '(dp0\nVCERN\np1\n(dp2\nVactivated\np3\ncdecimal\nDecimal\np4\n(V412\ntRss.';
      const err = wmsError(() => parseSitePickle(body));
      expect(err.message).toContain('GLOBAL');
      expect(err.message).toContain('decimal.Decimal');
      expect((err.cause as ApfError).code).toBe('APF_ERR_PICKLE');
    });

    it('a truncated pickle is a body error', () => {
      const body = text('getJobStatisticsWithLabel.py3.pickle0', 'latin1');
      expect(wmsError(() => parseLabelPickle(body.slice(0, 100))).message).toContain('truncated');
    });

    it('a pickle that is not a dict is refused', () => {
      expect(wmsError(() => parseSitePickle('N.')).message).toContain('None');
      expect(wmsError(() => parseSitePickle('I01\n(dI1\nI2\nss.')).message).toContain('not a dict');
    });

    it('booleans are not counts', () => {
      expect(wmsError(() => parseSitePickle('(dVX\n(dVrunning\nI01\nss.')).message).toContain('X.running');
    });
  });

  describe('mapCounts', () => {
    it('adds native states into APF states through the mapping', () => {
      const c = parseV1Stats(text('api_v1_statistics_active_job_stats_by_site.json'));
      const { queues, unmapped } = mapCounts(c, APF_TABLE);
      // CERN: activated 412; assigned 0 + defined 3; running 5123 + starting 37 + holding 88 + transferring 21.
      expect(queues.get('CERN')).toEqual({ ready: 412, notready: 3, running: 5269, done: 0, failed: 0 });
      expect(queues.get('BNL')).toEqual({ ready: 1210, notready: 14, running: 10218, done: 0, failed: 0 });
      expect(unmapped.size).toBe(0);
    });

    it('archived states go to done/failed', () => {
      const c = parseSitePickle(text('getJobStatisticsPerSite.py2-2011.pickle0', 'latin1'));
      expect(mapCounts(c, APF_TABLE).queues.get('AGLT2')).toEqual({ ready: 495, notready: 170, running: 367, done: 114, failed: 16 });
    });

    it('ignores unknown states and states mapped outside APF WMS states, reporting them', () => {
      const counts: SiteCounts = new Map([['Q', new Map([['activated', 5], ['merging', 7], ['weird', 1], ['sent', 2]])]]);
      const table = new Map([...APF_TABLE, ['merging', 'unknown']]);
      const { queues, unmapped } = mapCounts(counts, table);
      expect(queues.get('Q')).toEqual({ ready: 5, notready: 0, running: 2, done: 0, failed: 0 });
      expect([...unmapped].sort()).toEqual(['merging', 'weird']);
    });

    it('follows a custom table (several native states into one, spaces and case in values)', () => {
      const counts: SiteCounts = new Map([['Q', new Map([['activated', 5], ['assigned', 3]])]]);
      const { queues } = mapCounts(counts, new Map([['activated', ' Ready '], ['assigned', 'ready']]));
      expect(queues.get('Q')?.ready).toBe(8);
    });
  });
});
