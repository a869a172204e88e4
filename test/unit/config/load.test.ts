import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { LayeredEntries } from '../../../src/config/layered.ts';
import { formatProblem, type ConfigProblem, type ResolvedEntry } from '../../../src/config/types.ts';
import { tempDirs } from '../../helpers/temp-dirs.ts';

const tempDir = tempDirs('apf-load-');

const FACTORY = `[Factory]
factoryId = TEST-factory
factoryAdminEmail = admin@example.org
factoryUser = apf
baseLogDir = /var/log/apf/logs/
baseLogDirUrl = http://factory.example.org:25880
wmsstatus.panda.sleep = 120
batchstatus.condor.maxage = 600
`;

const QUEUES = `[DEFAULT]
enabled = True
wmsstatusplugin = Panda
batchstatusplugin = Condor
batchsubmitplugin = CondorLocal
schedplugin = Ready, Scale, MaxPerCycle
sched.scale.factor = 0.5
sched.maxpercycle.maximum = 40
executable = /usr/libexec/wrapper.sh
wmsqueue = %(__name__)s_PANDA

[ANALY_A]
wmsqueue = ANALY_A
apfqueue.sleep = 120

[PROD_B]
sched.maxpercycle.maximum = 10
batchsubmit.condorlocal.environ = A=1
`;

/** Writes a config directory from {relative path: content}. */
function configDir(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function errors(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return problems.filter((p) => p.severity === 'error');
}

describe('config/load', () => {
  it('loads a valid APF config with defaults, plugin options and [Factory] fallbacks', async () => {
    const dir = configDir({ 'autopyfactory.conf': FACTORY, 'queues.conf': QUEUES });
    const { config, problems } = await loadConfig({ dir });
    expect(errors(problems).map(formatProblem)).toEqual([]);
    if (config === undefined) throw new Error('no config');
    expect(config.factory).toMatchObject({
      factoryId: 'TEST-factory',
      factoryUser: 'apf',
      baseLogDir: '/var/log/apf/logs',
      factorySleep: 30,
      cleanlogsKeepdays: 14,
      enablequeues: true,
    });
    expect([...config.queues.keys()]).toEqual(['ANALY_A', 'PROD_B']);
    const a = config.queues.get('ANALY_A');
    expect(a?.enabled).toBe(true);
    expect(a?.sleep).toBe(120);
    expect(a?.sched.map((c) => c.id)).toEqual(['Ready', 'Scale', 'MaxPerCycle']);
    expect(a?.sched[1]?.options['factor']).toBe(0.5);
    expect(a?.sched[2]?.options['maximum']).toBe(40);
    expect(a?.wmsstatus?.options['sleep']).toBe(120); // from [Factory]
    expect(a?.batchstatus.options['maxage']).toBe(600); // from [Factory]
    const b = config.queues.get('PROD_B');
    expect(b?.sleep).toBe(360);
    expect(b?.wmsqueue).toBe('PROD_B_PANDA'); // %(__name__)s, APF (Python 2) semantics
    expect(b?.sched[2]?.options['maximum']).toBe(10);
    expect(config.mappings.get('CONDORBATCHSTATUS-JOBSTATUS2INFO')?.get('5')).toBe('pending');
    expect(config.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.isFrozen(config.factory)).toBe(true);
    // the cycles' phases on a 0.5 s grid unless set otherwise
    expect(config.factory.cluster.spreadStepMs).toBe(500);
  });

  it('reads cluster.spread_step in seconds (0: no grid) and refuses a negative one', async () => {
    const step = async (v: string) => loadConfig({ dir: configDir({ 'autopyfactory.conf': `${FACTORY}cluster.spread_step = ${v}\n`, 'queues.conf': QUEUES }) });
    expect((await step('0')).config?.factory.cluster.spreadStepMs).toBe(0);
    expect((await step('1.5')).config?.factory.cluster.spreadStepMs).toBe(1500);
    const bad = await step('-1');
    expect(bad.config).toBeUndefined();
    expect(errors(bad.problems).map((p) => p.key)).toEqual(['cluster.spread_step']);
  });

  it('reads instance.id and refuses one that cannot name a batch source or a pilot tag', async () => {
    const id = async (v: string) => loadConfig({ dir: configDir({ 'autopyfactory.conf': `${FACTORY}instance.id = ${v}\n`, 'queues.conf': QUEUES }) });
    expect((await id('node-1.example.org')).config?.factory.cluster.instanceId).toBe('node-1.example.org');
    const bad = await id('node "1"');
    expect(bad.config).toBeUndefined();
    expect(errors(bad.problems).map((p) => [p.key, p.line])).toEqual([['instance.id', 9]]);
    expect(errors(bad.problems)[0]?.message).toContain('only letters, digits');
  });

  it('reports every problem at once, each with file:line, section and key', async () => {
    const dir = configDir({
      'autopyfactory.conf': `[Factory]\nfactoryAdminEmail = a@b\nbaseLogDir = /x\nbaseLogDirUrl = http://h\nfactory.sleep = often\n`,
      'queues.conf': `[Q1]
enabled = True
schedplugin = Ready, MaxPerCycel
batchstatusplugin = Condor
batchsubmitplugin = CondorLocal
executable = /bin/true
sched.maxpercycle.maximum = ten

[Q2]
enabled = yes please
schedplugin = Ready
batchsubmitplugin = CondorLocal
executable = %(missing)s

[Q3]
enabled = True
schedplugin = Fixed
batchstatusplugin = Condor
batchsubmitplugin = CondorLocal
executable = %(a)s
a = %(b)s
b = %(a)s
`,
    });
    const { config, problems } = await loadConfig({ dir });
    expect(config).toBeUndefined();
    const errs = errors(problems);
    const find = (section: string | undefined, key: string | undefined) => errs.find((p) => p.section === section && p.key === key);
    const queues = join(dir, 'queues.conf');
    const factory = join(dir, 'autopyfactory.conf');
    expect(find('Factory', 'factoryId')).toMatchObject({ file: factory, message: 'missing mandatory key' });
    expect(find('Factory', 'factory.sleep')).toMatchObject({ file: factory, line: 5 });
    const unknown = find('Q1', 'schedplugin');
    expect(unknown).toMatchObject({ code: 'APF_ERR_PLUGIN_UNKNOWN', file: queues, line: 3 });
    expect(unknown?.message).toContain('MaxPerCycel');
    expect(unknown?.message).toContain('MaxPerCycle'); // lists the known ones
    expect(find('Q2', 'enabled')).toMatchObject({ file: queues, line: 10 });
    expect(find('Q2', 'batchstatusplugin')?.message).toContain('missing mandatory key');
    expect(find('Q2', 'executable')).toMatchObject({ code: 'APF_ERR_CONFIG_INTERPOLATION', file: queues, line: 13 });
    expect(errs.some((p) => p.section === 'Q3' && p.code === 'APF_ERR_CONFIG_INTERPOLATION')).toBe(true);
    // keys of plugins that are not in the chain are not checked (APF configs carry many such keys)
    expect(errs.some((p) => p.section === 'Q1' && p.key === 'sched.maxpercycle.maximum')).toBe(false);
  });

  it('warns, and does not silently skip, a queue without "enabled"; its errors become warnings', async () => {
    const dir = configDir({
      'autopyfactory.conf': FACTORY,
      'queues.conf': `[NOFLAG]\nschedplugin = Ready\nbatchstatusplugin = Condor\nbatchsubmitplugin = CondorLocal\nexecutable = /bin/true\n\n[OFF]\nenabled = False\nschedplugin = Nope\nbatchstatusplugin = Condor\nbatchsubmitplugin = CondorLocal\n`,
    });
    const { config, problems } = await loadConfig({ dir });
    expect(errors(problems)).toEqual([]);
    expect(config?.queues.get('NOFLAG')?.enabled).toBe(false);
    const warn = problems.find((p) => p.section === 'NOFLAG' && p.key === 'enabled');
    expect(warn?.severity).toBe('warning');
    expect(warn?.message).toContain('no "enabled" key');
    expect(problems.find((p) => p.section === 'OFF' && p.code === 'APF_ERR_PLUGIN_UNKNOWN')?.severity).toBe('warning');
  });

  it('merges queues.d over queues.conf and later queueConf sources over earlier ones', async () => {
    const dir = configDir({
      'autopyfactory.conf': `${FACTORY}queueConf = base.conf, override.conf\n`,
      'base.conf': `[Q]\nenabled = True\nschedplugin = Fixed\nsched.fixed.pilotspercycle = 1\nbatchstatusplugin = Condor\nbatchsubmitplugin = CondorLocal\nexecutable = /bin/true\n`,
      'override.conf': `[Q]\nsched.fixed.pilotspercycle = 2\n`,
      'queues.d/10-a.conf': `[DEFAULT]\napfqueue.sleep = 77\n[Q]\nwmsqueue = FROM_DIR\n`,
    });
    const { config, problems } = await loadConfig({ dir });
    expect(errors(problems)).toEqual([]);
    const q = config?.queues.get('Q');
    expect(q?.sched[0]?.options['pilotspercycle']).toBe(2);
    expect(q?.wmsqueue).toBe('FROM_DIR');
    expect(q?.sleep).toBe(77);
    expect(config?.sources).toEqual([
      join(dir, 'autopyfactory.conf'),
      join(dir, 'base.conf'),
      join(dir, 'override.conf'),
      join(dir, 'queues.d/10-a.conf'),
    ]);
  });

  describe('http sources', () => {
    let server: Server;
    let base = '';
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === '/queues.conf') {
          res.end(`[REMOTE]\nenabled = True\nschedplugin = Null\nbatchstatusplugin = Condor\nbatchsubmitplugin = CondorLocal\nexecutable = /bin/true\n`);
        } else {
          res.statusCode = 404;
          res.end('not found');
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const addr = server.address();
      base = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('reads http(s) queueConf sources', async () => {
      const dir = configDir({ 'autopyfactory.conf': `${FACTORY}queueConf = ${base}/queues.conf\n` });
      const { config, problems } = await loadConfig({ dir });
      expect(errors(problems)).toEqual([]);
      expect(config?.queues.get('REMOTE')?.sched[0]?.id).toBe('Null');
    });

    it('names the URL and status of a failing source', async () => {
      const dir = configDir({ 'autopyfactory.conf': `${FACTORY}queueConf = ${base}/missing.conf\n` });
      const { config, problems } = await loadConfig({ dir });
      expect(config).toBeUndefined();
      expect(errors(problems)[0]).toMatchObject({ code: 'APF_ERR_CONFIG_SOURCE', file: `${base}/missing.conf` });
      expect(errors(problems)[0]?.message).toContain('HTTP 404');
    });
  });

  it('reads auth.conf, proxy.conf, monitor.conf and overlays mappings.conf on the built-in tables', async () => {
    const dir = configDir({
      'autopyfactory.conf': FACTORY,
      'queues.conf': `[Q]\nenabled = True\nschedplugin = Null\nbatchstatusplugin = Condor\nbatchsubmitplugin = CondorLocal\nexecutable = /bin/true\nmonitorsection = apfmon\n`,
      'auth.conf': `[DEFAULT]\nplugin = X509\n[atlas-production]\nx509.proxyfile = ~/prodProxy\n`,
      'proxy.conf': `[old-profile]\nproxyfile = /tmp/oldProxy\n`,
      'monitor.conf': `[apfmon]\nmonitorplugin = APF\nmonitorURL = http://apfmon.example.org/api\n`,
      'mappings.conf': `[CONDORBATCHSTATUS-JOBSTATUS2INFO]\n5 = done\n`,
    });
    const { config, problems } = await loadConfig({ dir });
    expect(errors(problems)).toEqual([]);
    expect(config?.auth.get('atlas-production')?.proxyfile).toBe(`${process.env['HOME'] ?? ''}/prodProxy`);
    expect(config?.auth.get('old-profile')?.proxyfile).toBe('/tmp/oldProxy');
    expect(config?.monitors.get('apfmon')?.url).toBe('http://apfmon.example.org/api');
    expect(config?.mappings.get('CONDORBATCHSTATUS-JOBSTATUS2INFO')?.get('5')).toBe('done');
    expect(config?.mappings.get('CONDORBATCHSTATUS-JOBSTATUS2INFO')?.get('1')).toBe('pending');
    // the effective (printable) view is not ~-expanded, like Python's cp.items()
    expect(config?.effective.auth.find((s) => s.name === 'atlas-production')?.entries.get('x509.proxyfile')?.value).toBe('~/prodProxy');
  });

  it('rejects a queue naming a monitor section that does not exist', async () => {
    const dir = configDir({
      'autopyfactory.conf': FACTORY,
      'queues.conf': `[Q]\nenabled = True\nschedplugin = Null\nbatchstatusplugin = Condor\nbatchsubmitplugin = CondorLocal\nexecutable = /bin/true\nmonitorsection = nowhere\n`,
    });
    const { problems } = await loadConfig({ dir });
    expect(errors(problems)[0]).toMatchObject({ section: 'Q', key: 'monitorsection', line: 7 });
  });

  it('refuses, at its header, a queue name that cannot name a log directory or a record field', async () => {
    const body = 'enabled = True\nschedplugin = Null\nbatchstatusplugin = Condor\nbatchsubmitplugin = CondorLocal\nexecutable = /bin/true\n';
    const dir = configDir({ 'autopyfactory.conf': FACTORY, 'queues.conf': `[OK]\n${body}[A\tB]\n${body}[we/ird:q]\n${body}[..]\n${body}[ANALY SPACE.x-1]\n${body}` });
    const { config, problems } = await loadConfig({ dir });
    expect(config).toBeUndefined();
    expect(errors(problems).map((p) => [p.section, p.line, p.code])).toEqual([
      ['A\tB', 7, 'APF_ERR_CONFIG_INVALID'],
      ['..', 19, 'APF_ERR_CONFIG_INVALID'],
    ]);
    expect(errors(problems).map((p) => p.message)).toEqual([
      'queue name "A\\tB" contains a control character (tab, newline…)',
      'queue name ".." cannot name a directory of the pilot logs',
    ]);
    expect(formatProblem(errors(problems)[0] as ConfigProblem)).toContain(`${join(dir, 'queues.conf')}:7`);
  });

  it('fails with a clear error when the directory has no autopyfactory.conf', async () => {
    const dir = configDir({});
    const { config, problems } = await loadConfig({ dir });
    expect(config).toBeUndefined();
    expect(errors(problems)[0]).toMatchObject({ file: join(dir, 'autopyfactory.conf'), message: 'no such file' });
  });

  it('shares what queues configured alike have in common, and keeps apart what differs', async () => {
    const dir = configDir({
      'autopyfactory.conf': FACTORY,
      'queues.conf': [
        '[DEFAULT]',
        'enabled = True',
        'batchstatusplugin = Condor',
        'batchsubmitplugin = CondorLocal',
        'executable = /bin/true',
        'schedplugin = Ready, MaxPerCycle',
        'sched.maxpercycle.maximum = 5',
        'logdir = /var/log/%(__name__)s',
        '[A]',
        'wmsqueue = A',
        '[B]',
        'wmsqueue = B',
        '[C]',
        'wmsqueue = C',
        'sched.maxpercycle.maximum = 7',
        '',
      ].join('\n'),
    });
    const { config, problems } = await loadConfig({ dir });
    expect(errors(problems)).toEqual([]);
    const [a, b, c] = ['A', 'B', 'C'].map((n) => config?.queues.get(n));
    // equal chains and choices are one object; a different option makes its own
    expect(a?.sched).toBe(b?.sched);
    expect(a?.batchsubmit).toBe(c?.batchsubmit);
    expect(c?.sched).not.toBe(a?.sched);
    expect(c?.sched[0]).toBe(a?.sched[0]);
    expect(c?.sched[1]?.options).toEqual({ maximum: 7 });
    expect(a?.sched[1]?.options).toEqual({ maximum: 5 });
    // an inherited DEFAULT key interpolation leaves alone is one entry; one it changes is per section
    expect(a?.raw.get('executable')).toBe(b?.raw.get('executable'));
    expect(a?.raw.get('logdir')?.value).toBe('/var/log/A');
    expect(b?.raw.get('logdir')?.value).toBe('/var/log/B');
    expect(a?.raw.get('logdir')?.raw).toBe('/var/log/%(__name__)s');
    expect(a?.raw.get('wmsqueue')?.value).toBe('A');
    // the DEFAULT layer is one map for all; each queue's own layer holds only what is its own
    expect(a?.raw).toBeInstanceOf(LayeredEntries);
    const [la, lb, lc] = [a, b, c].map((q) => q?.raw as LayeredEntries<ResolvedEntry>);
    expect(la?.base).toBe(lb?.base);
    expect(lc?.base).toBe(la?.base);
    expect([...(la?.own.keys() ?? [])]).toEqual(['logdir', 'wmsqueue']);
    expect([...(lc?.own.keys() ?? [])]).toEqual(['sched.maxpercycle.maximum', 'logdir', 'wmsqueue']);
    // Python's order: DEFAULT keys (overridden in place), then the section's new keys
    expect([...(c?.raw.keys() ?? [])]).toEqual([
      'enabled',
      'batchstatusplugin',
      'batchsubmitplugin',
      'executable',
      'schedplugin',
      'sched.maxpercycle.maximum',
      'logdir',
      'wmsqueue',
    ]);
    expect(c?.raw.get('sched.maxpercycle.maximum')?.value).toBe('7');
    expect(c?.raw.size).toBe(8);
    expect(Object.isFrozen(a?.raw.get('executable'))).toBe(true);
  });

  it('merges a section defined in two sources key by key, later source winning, in first-definition order', async () => {
    const dir = configDir({
      'queues.conf': ['[DEFAULT]', 'enabled = False', 'x = 1', '[Q]', 'wmsqueue = Q', 'y = 2', ''].join('\n'),
      'queues2.conf': ['[DEFAULT]', 'z = 3', '[Q]', 'y = 20', 'w = 4', ''].join('\n'),
    });
    writeFileSync(join(dir, 'autopyfactory.conf'), `${FACTORY}queueConf = file://${join(dir, 'queues.conf')}, file://${join(dir, 'queues2.conf')}\n`);
    const { config, problems } = await loadConfig({ dir });
    expect(errors(problems)).toEqual([]);
    const raw = config?.effective.queues.find((s) => s.name === 'Q')?.entries;
    expect([...(raw ?? [])].map(([k, e]) => `${k}=${e.value}`)).toEqual(['enabled=False', 'x=1', 'wmsqueue=Q', 'y=20', 'z=3', 'w=4']);
  });
});
