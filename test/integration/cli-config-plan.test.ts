import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runApf } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp-dirs.ts';

const tempDir = tempDirs('apf-cli-');

/** A config directory with the given files. */
function configDir(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const FACTORY = `[Factory]
factoryId = cli-test
factoryAdminEmail = admin@example.org
baseLogDir = /tmp/apf-cli-test/logs
baseLogDirUrl = http://localhost:25880
wmsstatus.panda.url = http://127.0.0.1:9
`;

const QUEUES = `[DEFAULT]
enabled = True
wmsstatusplugin = Panda
batchstatusplugin = Condor
batchsubmitplugin = CondorLocal
executable = /bin/true
schedplugin = Ready, Scale, MaxPerCycle, StatusTest
sched.scale.factor = 0.5
sched.maxpercycle.maximum = 30
sched.statustest.pilots = 3

[Q_ONLINE]
wmsqueue = SITE_A

[Q_TEST]
wmsqueue = SITE_B
`;

describe('cli: check-config and plan', () => {
  it('check-config: exit 0 for a valid config; --print gives the effective sections as Python does', async () => {
    const dir = configDir({ 'autopyfactory.conf': FACTORY, 'queues.conf': QUEUES });
    const ok = await runApf(['check-config', '--config', dir]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('configuration valid: 2 queue section(s), 2 enabled');
    const printed = await runApf(['check-config', '--config', dir, '--print']);
    expect(printed.code).toBe(0);
    const json = JSON.parse(printed.stdout) as Record<string, Record<string, string>>;
    expect(json['Q_TEST']).toMatchObject({ enabled: 'True', wmsqueue: 'SITE_B', 'sched.scale.factor': '0.5' });
    expect(json['Factory']?.['factoryId']).toBe('cli-test');
  });

  it('check-config: exit 1 printing every problem with file:line, section and key; nothing else runs', async () => {
    const dir = configDir({
      'autopyfactory.conf': FACTORY,
      'queues.conf': `${QUEUES}\n[BROKEN]\nenabled = True\nschedplugin = Ready, NoSuchPlugin\nsched.ready.offset = many\nbatchstatusplugin = Condor\nbatchsubmitplugin = CondorLocal\nexecutable = %(nowhere)s\nwmsqueue = X\n`,
    });
    const r = await runApf(['check-config', '--config', dir]);
    expect(r.code).toBe(1);
    const q = join(dir, 'queues.conf');
    expect(r.stderr).toContain(`error: ${q}:20: [BROKEN] schedplugin: unknown sched plugin "NoSuchPlugin"; known: Ready, Scale`);
    expect(r.stderr).toContain(`error: ${q}:21: [BROKEN] sched.ready.offset: bad int: "many" is not an integer`);
    expect(r.stderr).toMatch(new RegExp(`error: ${q}:24: \\[BROKEN\\] executable: .*nowhere`));
    expect(r.stderr).toContain('configuration invalid: 3 error(s); nothing was run');
    // plan refuses to run on the same config
    const plan = await runApf(['plan', '--config', dir]);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toBe('');
  });

  it('check-config: a malformed INI file is reported with its line', async () => {
    const dir = configDir({ 'autopyfactory.conf': FACTORY, 'queues.conf': `[Q]\nenabled = True\nthis line has no delimiter\n` });
    const r = await runApf(['check-config', '--config', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir, 'queues.conf')}:3:`);
  });

  it('start: a bad --instance is refused before Redis is contacted, naming where it came from', async () => {
    // redis.url names the discard port: a start that got as far as Redis would fail differently.
    const dir = configDir({ 'autopyfactory.conf': `${FACTORY}redis.url = redis://127.0.0.1:9\nstate.dir = ${join(tmpdir(), 'apf-cli-state')}\n`, 'queues.conf': QUEUES });
    const r = await runApf(['start', '--config', dir, '--allow-root', '--instance', 'node "1"'], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('apf start: ');
    expect(r.stderr).toContain('instance id "node \\"1\\"" (from --instance) must start with a letter or digit');
    expect(r.stderr).not.toMatch(/redis|ECONNREFUSED/i);
  });

  it('plan from snapshots: explains every step; unavailable sources block with a reason', async () => {
    const dir = configDir({ 'autopyfactory.conf': FACTORY, 'queues.conf': QUEUES });
    writeFileSync(
      join(dir, 'wms.json'),
      JSON.stringify({ queues: { SITE_A: { ready: 41 }, SITE_B: { ready: 100 } }, sites: { SITE_B: { status: 'test' } } }),
    );
    writeFileSync(join(dir, 'batch.json'), JSON.stringify({ queues: { Q_ONLINE: { pending: 1, running: 7 } } }));
    const r = await runApf(['plan', '--config', dir, '--wms-snapshot', 'wms.json', '--batch-snapshot', 'batch.json', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as Array<{ queue: string; n: number; submit: number; msg: string; blocked: string | null; steps: unknown[] }>;
    const online = plan.find((p) => p.queue === 'Q_ONLINE');
    // Ready: 41 - 1 = 40; Scale 0.5 → 20; MaxPerCycle 30 → 20; StatusTest: not test → 20
    expect(online).toMatchObject({ n: 20, submit: 20, blocked: null });
    expect(online?.msg).toBe(
      'Ready:in=0,activated=41,offset=0,pending=1,ret=40;Scale:in=40,factor=0.5,ret=20;MaxPerCycle:in=20,maxpercycle=30,ret=20;StatusTest:comment=not test,in=20,ret=20',
    );
    expect(online?.steps).toHaveLength(4);
    // Q_TEST is absent from the batch snapshot (zeros) and its site is in test → 3 pilots
    expect(plan.find((p) => p.queue === 'Q_TEST')).toMatchObject({ n: 3, submit: 3 });

    writeFileSync(join(dir, 'null.json'), 'null');
    const blocked = await runApf(['plan', '--config', dir, '--wms-snapshot', 'null.json', '--batch-snapshot', 'batch.json', '--json'], { cwd: dir });
    const b = JSON.parse(blocked.stdout) as Array<{ queue: string; submit: number; blocked: string | null; msg: string }>;
    expect(b.every((p) => p.submit === 0)).toBe(true);
    expect(b[0]?.blocked).toContain('unavailable');
    expect(b[0]?.msg).toContain('Ready:comment=Invalid wmsinfo or batchinfo');

    writeFileSync(join(dir, 'nosites.json'), JSON.stringify({ queues: { SITE_A: { ready: 41 } }, sites: null }));
    const ns = await runApf(['plan', '--config', dir, '--wms-snapshot', 'nosites.json', '--batch-snapshot', 'batch.json', '--json', '--queue', 'Q_ONLINE'], { cwd: dir });
    const n = JSON.parse(ns.stdout) as Array<{ n: number; msg: string }>;
    expect(n[0]?.n).toBe(0); // StatusTest without site info gives 0, as in APF
    expect(n[0]?.msg).toContain('StatusTest:comment=no wms/batch/siteinfo,in=20,ret=0');
  });

  it('plan: a bad snapshot file is rejected naming the field', async () => {
    const dir = configDir({ 'autopyfactory.conf': FACTORY, 'queues.conf': QUEUES });
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ queues: { Q_ONLINE: { pending: -3 } } }));
    writeFileSync(join(dir, 'wms.json'), JSON.stringify({ queues: {} }));
    const r = await runApf(['plan', '--config', dir, '--batch-snapshot', 'bad.json', '--wms-snapshot', 'wms.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('APF_ERR_SNAPSHOT_INVALID');
    expect(r.stderr).toContain('queues.Q_ONLINE.pending');
  });

  it('list-plugins lists every family with keys and defaults; usage errors exit 2', async () => {
    const r = await runApf(['list-plugins', '--json']);
    expect(r.code).toBe(0);
    const listing = JSON.parse(r.stdout) as Array<{ family: string; plugins: Array<{ name: string; keys: Array<{ key: string; default: unknown }> }> }>;
    expect(listing.map((f) => f.family)).toEqual(['sched', 'wmsstatus', 'batchstatus', 'batchsubmit']);
    const scale = listing[0]?.plugins.find((p) => p.name === 'Scale');
    expect(scale?.keys).toContainEqual(expect.objectContaining({ key: 'sched.scale.factor', default: 1 }));
    const bad = await runApf(['plan', '--no-such-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('usage: apf plan');
  });
});
