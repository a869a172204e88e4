/**
 * The apfmon client against a fake apfmon server on 127.0.0.1 that records every request: the
 * start-up registration and label query, label registration only for labels the server does not
 * know, jobs and status reports with the fixtures' bodies; a hanging server never delays
 * onCycle and its calls time out; a 500 counts as a failure; a full queue drops calls.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import type { ApfConfig } from '../../src/config/types.ts';
import type { CycleRecord } from '../../src/coordination/records.ts';
import { createLogger, silentLogger, type Logger } from '../../src/logging/logger.ts';
import { createApfmon, type Apfmon } from '../../src/monitor/apfmon.ts';
import { closeHttpAgent } from '../../src/util/http.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'apfmon');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

/** One request the fake apfmon received. */
interface Seen {
  readonly scenario: string;
  readonly method: string;
  /** Path below `/<scenario>/api`, with the query. */
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: string;
}

type Behaviour = 'ok' | 'hang' | 'fail';

const seen: Seen[] = [];
const behaviour = new Map<string, Behaviour>();
const hanging: ServerResponse[] = [];
let server: Server;
let port: number;
const tmp = mkdtempSync(join(tmpdir(), 'apf-apfmon-'));
const clients: Apfmon[] = [];

/** A fake apfmon: `/<scenario>/api/...`, answering as apfmon 2016 does, or hanging, or 500. */
function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = req.url ?? '/';
    const scenario = url.split('/')[1] ?? '';
    const path = url.slice(`/${scenario}/api`.length);
    seen.push({ scenario, method: req.method ?? '', path, contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
    const mode = behaviour.get(scenario) ?? 'ok';
    if (mode === 'hang') {
      hanging.push(res);
      return;
    }
    if (mode === 'fail') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
      return;
    }
    if (req.method === 'GET' && path.startsWith('/labels?')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fixture('GET_labels.response.json'), null, 2));
    } else if (req.method === 'PUT' && path.startsWith('/factories/')) {
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(fixture('PUT_factories_id.response.json')));
    } else if (req.method === 'PUT' && path === '/labels') {
      res.writeHead(201, { 'content-type': 'text/plain' }).end('Created 1/1 label, 0 updated');
    } else if (req.method === 'PUT' && path === '/jobs') {
      const n = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown[]).length;
      res.writeHead(201, { 'content-type': 'text/plain' }).end(`Created ${n}/${n} jobs, 0 not created`);
    } else if (req.method === 'POST' && path.startsWith('/labels/')) {
      res.writeHead(200, { 'content-type': 'text/plain', location: `/api${path}` }).end();
    } else res.writeHead(404).end();
  });
}

/** A config whose queues report to `/<scenario>/api` (APF plugin), a Dummy monitor, or nothing. */
async function configFor(scenario: string): Promise<ApfConfig> {
  const dir = join(tmp, scenario);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'autopyfactory.conf'),
    '[Factory]\nfactoryId = apf-lancs\nfactoryAdminEmail = atlas-adc-apf@example.org\nbaseLogDir = /tmp/apf-logs\nbaseLogDirUrl = http://apf.example.org:25880\n',
  );
  writeFileSync(
    join(dir, 'monitor.conf'),
    `[apfmon-main]\nmonitorplugin = APF\nmonitorURL = http://127.0.0.1:${port}/${scenario}/api/\n\n[dummy]\nmonitorplugin = Dummy\nmonitorURL = http://127.0.0.1:${port}/dummy/api\n`,
  );
  writeFileSync(
    join(dir, 'queues.conf'),
    [
      '[DEFAULT]',
      'enabled = True',
      'batchstatusplugin = Static',
      'batchsubmitplugin = Noop',
      'schedplugin = Fixed',
      '[CERN-ce503.cern.ch]',
      'monitorsection = apfmon-main',
      'wmsqueue = CERN',
      '[UKI-LANCS-hex]',
      'monitorsection = apfmon-main, dummy',
      'wmsqueue = UKI-NORTHGRID-LANCS-HEP',
      'batchqueue = UKI-NORTHGRID-LANCS-HEP-abaddon-hex-lsf',
      '[DUMMY-only]',
      'monitorsection = dummy',
      '[UNMONITORED]',
      '',
    ].join('\n'),
  );
  const { config, problems } = await loadConfig({ dir });
  if (config === undefined) throw new Error(JSON.stringify(problems));
  return config;
}

function record(queue: string, over: Partial<CycleRecord> = {}): CycleRecord {
  return {
    queue,
    slot: 1_800_000_000_000,
    token: 1_800_000_000_000_000,
    cycleId: `${queue}:1800000000000:1800000000000000`,
    instance: 'node1',
    owner: 'node1:1:1',
    startedAt: 1_800_000_000_100,
    at: 1_800_000_000_900,
    durationMs: 800,
    lagMs: 100,
    outcome: 'submitted',
    n: 3,
    submit: 3,
    msg: 'Attempt to submit 3 pilots',
    steps: [],
    blocked: null,
    inputs: { ready: 10, pending: 0, running: 0, siteStatus: 'online' },
    jobIds: ['4367890.0', '4367890.1', '4367890.2'],
    removed: [],
    error: null,
    configHash: 'h',
    ...over,
  };
}

function capture(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  return { records, logger: createLogger({ level: 'debug', destination: { write: (l: string) => void records.push(JSON.parse(l) as Record<string, unknown>) } }) };
}

function of(scenario: string): Seen[] {
  return seen.filter((s) => s.scenario === scenario);
}

async function eventually(what: string, probe: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`${what}: not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const r of hanging.splice(0)) r.destroy();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await closeHttpAgent();
  rmSync(tmp, { recursive: true, force: true });
});

describe('monitor/apfmon', () => {
  it('registers the factory, then asks for the known labels, at start', async () => {
    const config = await configFor('startup');
    const mon = createApfmon({ config: () => config, logger: silentLogger(), version: '2.4.9' });
    clients.push(mon);
    await eventually('start-up calls', () => of('startup').length === 2);
    const [put, get] = of('startup');
    expect(put).toMatchObject({ method: 'PUT', path: '/factories/apf-lancs', contentType: 'application/json' });
    expect(JSON.parse(put?.body ?? '')).toEqual(fixture('PUT_factories_id.request.json'));
    expect(Object.keys(JSON.parse(put?.body ?? '') as object)).toEqual(['version', 'email', 'url']);
    expect(get).toMatchObject({ method: 'GET', path: '/labels?factory=apf-lancs', body: '' });
    await eventually('counted', () => mon.stats().ok === 2);
    expect(mon.stats()).toEqual({ ok: 2, failed: 0, dropped: 0 });
    // The Dummy monitor is never contacted.
    expect(of('dummy')).toEqual([]);
  });

  it('reports jobs and the message of a known label, without registering it again', async () => {
    const config = await configFor('known');
    const mon = createApfmon({ config: () => config, logger: silentLogger(), version: '2.4.9' });
    clients.push(mon);
    mon.onCycle(record('CERN-ce503.cern.ch'));
    await eventually('reports', () => of('known').length === 4);
    const calls = of('known').slice(2);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['PUT /jobs', 'POST /labels/apf-lancs:CERN-ce503.cern.ch']);
    expect(calls[0]?.contentType).toBe('application/json');
    expect(JSON.parse(calls[0]?.body ?? '')).toEqual(fixture('PUT_jobs.apf.request.json'));
    expect(calls[1]).toMatchObject({ contentType: 'application/x-www-form-urlencoded', body: 'status=Attempt+to+submit+3+pilots' });
    await eventually('counted', () => mon.stats().ok === 4);
  });

  it('registers an unknown label once, with its real wmsqueue and batchqueue, before its jobs', async () => {
    const config = await configFor('unknown');
    const mon = createApfmon({ config: () => config, logger: silentLogger(), version: '2.4.9' });
    clients.push(mon);
    mon.onCycle(record('UKI-LANCS-hex', { jobIds: ['77.0'], msg: 'MaxPerCycle: 1' }));
    mon.onCycle(record('UKI-LANCS-hex', { jobIds: [], msg: '' }));
    mon.onCycle(record('UKI-LANCS-hex', { jobIds: ['78.0', '78.1'], msg: '' }));
    await eventually('reports', () => of('unknown').length === 6);
    const calls = of('unknown').slice(2);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['PUT /labels', 'PUT /jobs', 'POST /labels/apf-lancs:UKI-LANCS-hex', 'PUT /jobs']);
    const labels = JSON.parse(calls[0]?.body ?? '') as Array<Record<string, string>>;
    const apfShape = fixture('PUT_labels.apf.request.json') as Array<Record<string, string>>;
    expect(labels.map((l) => Object.keys(l))).toEqual(apfShape.map((l) => Object.keys(l)));
    expect(labels).toEqual([
      { name: 'UKI-LANCS-hex', factory: 'apf-lancs', wmsqueue: 'UKI-NORTHGRID-LANCS-HEP', batchqueue: 'UKI-NORTHGRID-LANCS-HEP-abaddon-hex-lsf', resource: '', localqueue: '' },
    ]);
    expect(JSON.parse(calls[1]?.body ?? '')).toEqual([{ cid: '77.0', label: 'UKI-LANCS-hex', factory: 'apf-lancs' }]);
    expect(calls[2]?.body).toBe('status=MaxPerCycle%3A+1');
    expect(JSON.parse(calls[3]?.body ?? '')).toEqual([
      { cid: '78.0', label: 'UKI-LANCS-hex', factory: 'apf-lancs' },
      { cid: '78.1', label: 'UKI-LANCS-hex', factory: 'apf-lancs' },
    ]);
    // Queues without an APF monitor send nothing.
    mon.onCycle(record('DUMMY-only'));
    mon.onCycle(record('UNMONITORED'));
    mon.onCycle(record('NOT-IN-CONFIG'));
    await new Promise((r) => setTimeout(r, 100));
    expect(of('unknown')).toHaveLength(6);
    expect(of('dummy')).toEqual([]);
  });

  it('never delays onCycle while apfmon hangs; the calls time out and are counted as failures', async () => {
    behaviour.set('hang', 'hang');
    const config = await configFor('hang');
    const { logger, records } = capture();
    const mon = createApfmon({ config: () => config, logger, version: '2.4.9', timeoutMs: 300, warnAfterFailures: 3 });
    clients.push(mon);
    await eventually('first call hanging', () => hanging.length === 1);
    let worst = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      mon.onCycle(record('CERN-ce503.cern.ch', { jobIds: [`${i}.0`] }));
      worst = Math.max(worst, performance.now() - t0);
    }
    expect(worst).toBeLessThan(5);
    // factory PUT and labels GET time out one after the other (serial lane), each within its deadline.
    const t0 = performance.now();
    await eventually('3 timeouts', () => mon.stats().failed >= 3, 3000);
    expect(performance.now() - t0).toBeLessThan(3000);
    const debug = records.filter((r) => r['msg'] === 'apfmon call failed');
    expect(debug[0]).toMatchObject({ level: 20, call: 'factory', method: 'PUT' });
    expect(String(debug[0]?.['err'])).toContain('APF_ERR_HTTP_TIMEOUT');
    expect(records.find((r) => r['msg'] === 'apfmon keeps failing (monitoring only: cycles are not affected)')).toMatchObject({ level: 40, failuresInRow: 3 });
    const closing = performance.now();
    await mon.close();
    expect(performance.now() - closing).toBeLessThan(2600);
    const s = mon.stats();
    expect(s.ok).toBe(0);
    // factory + labels query + one label registration (the query failed) + 20 × (jobs + status).
    expect(s.failed + s.dropped).toBe(2 + 1 + 20 * 2);
  });

  it('counts a 500 as a failure and warns after N failures in a row', async () => {
    behaviour.set('fail', 'fail');
    const config = await configFor('fail');
    const { logger, records } = capture();
    const mon = createApfmon({ config: () => config, logger, version: '2.4.9', warnAfterFailures: 2 });
    clients.push(mon);
    mon.onCycle(record('CERN-ce503.cern.ch'));
    await eventually('5 failures', () => mon.stats().failed === 5);
    expect(mon.stats()).toEqual({ ok: 0, failed: 5, dropped: 0 });
    // The label query failed, so the label is registered; nothing is retried (POST never is).
    expect(of('fail').map((c) => `${c.method} ${c.path.split('?')[0]}`)).toEqual([
      'PUT /factories/apf-lancs',
      'GET /labels',
      'PUT /labels',
      'PUT /jobs',
      'POST /labels/apf-lancs:CERN-ce503.cern.ch',
    ]);
    const failed = records.filter((r) => r['msg'] === 'apfmon call failed');
    expect(failed.map((r) => r['status'])).toEqual([500, 500, 500, 500, 500]);
    expect(records.filter((r) => r['level'] === 40).map((r) => r['failuresInRow'])).toEqual([2, 4]);
    // The server comes back: success resets the run and is logged.
    behaviour.set('fail', 'ok');
    mon.onCycle(record('CERN-ce503.cern.ch', { jobIds: [], msg: 'again' }));
    await eventually('recovered', () => mon.stats().ok === 2);
    // A failed label registration is tried again at the label's next cycle.
    expect(of('fail').slice(5).map((c) => `${c.method} ${c.path}`)).toEqual(['PUT /labels', 'POST /labels/apf-lancs:CERN-ce503.cern.ch']);
    expect(records.some((r) => r['msg'] === 'apfmon answers again')).toBe(true);
  });

  it('drops calls beyond its bounded queue instead of growing while apfmon hangs', async () => {
    behaviour.set('full', 'hang');
    const config = await configFor('full');
    const mon = createApfmon({ config: () => config, logger: silentLogger(), timeoutMs: 60_000, queueCapacity: 5, closeTimeoutMs: 50 });
    clients.push(mon);
    await eventually('first call hanging', () => hanging.length === 1);
    for (let i = 0; i < 10; i++) mon.onCycle(record('CERN-ce503.cern.ch', { jobIds: [`${i}.0`], msg: '' }));
    // 1 running (factory PUT) + 5 waiting (labels GET, label PUT, 3 jobs PUTs); the other 7 were dropped.
    expect(mon.stats()).toEqual({ ok: 0, failed: 0, dropped: 7 });
    const t0 = performance.now();
    await mon.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    // close(): the running call is aborted (a failure), the 5 waiting ones are dropped.
    expect(mon.stats()).toEqual({ ok: 0, failed: 1, dropped: 12 });
    mon.onCycle(record('CERN-ce503.cern.ch'));
    await new Promise((r) => setTimeout(r, 50));
    expect(mon.stats()).toEqual({ ok: 0, failed: 1, dropped: 12 });
    expect(of('full')).toHaveLength(1);
  });
});
