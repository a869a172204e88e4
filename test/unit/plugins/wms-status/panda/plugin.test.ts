import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../../../../src/config/options.ts';
import type { FactorySettings, ResolvedEntry } from '../../../../../src/config/types.ts';
import { ApfError } from '../../../../../src/errors.ts';
import { pandaOptions, pandaPlugin } from '../../../../../src/plugins/wms-status/panda/index.ts';
import { statsUrl } from '../../../../../src/plugins/wms-status/panda/source.ts';
import { pandaContext } from './context.ts';

const PREFIX = 'wmsstatus.panda.';

function parse(keys: Record<string, string>) {
  const entries = new Map<string, ResolvedEntry>(
    Object.entries(keys).map(([k, v], i) => [PREFIX + k, { file: 'queues.conf', line: i + 1, raw: v, value: v }]),
  );
  return parseOptions(pandaOptions, (k) => entries.get(k), { section: 'Q', prefix: PREFIX }, entries);
}

const factory = {} as FactorySettings;

describe('plugins/wms-status/panda', () => {
  it('is the wmsstatus plugin Panda', () => {
    expect(pandaPlugin.id).toBe('Panda');
    expect(pandaPlugin.family).toBe('wmsstatus');
  });

  it('has APF defaults and no site-status source unless configured', () => {
    const { values, problems } = parse({});
    expect(problems).toEqual([]);
    expect(values).toEqual({
      sleep: 150,
      maxage: 360,
      url: 'https://pandaserver.cern.ch:25443',
      api: 'v1',
      timeout: 30,
      retries: 2,
      'sitestatus.url': undefined,
      'sitestatus.timeout': 60,
    });
  });

  it('reads every key, the api in any case, None as unset', () => {
    const { values, problems } = parse({
      sleep: '60',
      maxage: '200',
      url: 'http://127.0.0.1:25080/',
      api: 'LABEL',
      timeout: '2.5',
      retries: '0',
      'sitestatus.url': 'None',
      'sitestatus.timeout': '9',
    });
    expect(problems).toEqual([]);
    expect(values.api).toBe('label');
    expect(values.timeout).toBe(2.5);
    expect(values['sitestatus.url']).toBeUndefined();
    expect(values['sitestatus.timeout']).toBe(9);
  });

  it('reports bad values at their key', () => {
    const { problems } = parse({ api: 'v2', retries: '-1', sleep: 'soon' });
    expect(problems.map((p) => p.key).sort()).toEqual([`${PREFIX}api`, `${PREFIX}retries`, `${PREFIX}sleep`]);
    expect(problems.find((p) => p.key === `${PREFIX}api`)?.message).toContain('v1, label, site');
  });

  it('builds the statistics URL of each API, accepting APF\'s /server/panda base', () => {
    expect(statsUrl('https://h:25443/', 'v1')).toBe('https://h:25443/api/v1/statistics/active_job_stats_by_site');
    expect(statsUrl('http://h:25085/server/panda', 'label')).toBe('http://h:25085/server/panda/getJobStatisticsWithLabel');
    expect(statsUrl('http://h:25085', 'site')).toBe('http://h:25085/server/panda/getJobStatisticsPerSite');
  });

  it('shares one source per url + api + site-status url, and never puts credentials in the key', () => {
    const key = (k: Record<string, string>): string => pandaPlugin.sourceKey(parse(k).values, factory);
    expect(key({ url: 'http://p:1/' })).toBe(key({ url: 'http://p:1' }));
    expect(key({ url: 'http://p:1', api: 'v1' })).not.toBe(key({ url: 'http://p:1', api: 'label' }));
    expect(key({ url: 'http://p:1' })).not.toBe(key({ url: 'http://p:1', 'sitestatus.url': 'http://c/x?json' }));
    expect(key({ url: 'http://p:1', timeout: '3' })).toBe(key({ url: 'http://p:1', timeout: '9' }));
    expect(key({ url: 'http://u:pw@p:1', 'sitestatus.url': 'http://u:pw2@c/' })).not.toMatch(/pw/);
  });

  it('creates a source with the configured intervals', () => {
    const src = pandaPlugin.createSource(parse({ sleep: '42', maxage: '99' }).values, pandaContext());
    expect(src.sleepS).toBe(42);
    expect(src.maxAgeS).toBe(99);
    expect(src.key).toBe(pandaPlugin.sourceKey(parse({}).values, factory));
  });

  it('refuses to build without the PANDAWMSSTATUS mapping section', () => {
    let err: unknown;
    try {
      pandaPlugin.createSource(parse({}).values, pandaContext({ mappings: new Map() }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApfError);
    expect((err as ApfError).code).toBe('APF_ERR_CONFIG_INVALID');
    expect((err as ApfError).message).toContain('PANDAWMSSTATUS-JOBSSTATISTICSPERSITE2INFO');
  });
});
