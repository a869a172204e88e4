import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.ts';
import { simPandaCommand } from '../../src/cli/commands/sim-panda.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const EXAMPLE = 'config/sim/panda-scenario.json';

function fakeIo(signal: AbortSignal): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: {},
    cwd: ROOT,
    signal,
    out: () => out,
    err: () => err,
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apf-sim-panda-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cli/commands/sim-panda', () => {
  it('is the "sim panda" command', () => {
    expect(simPandaCommand.name).toBe('sim panda');
    expect(simPandaCommand.usage).toContain('--scenario FILE');
  });

  it('prints the base URL, serves until the signal aborts, then closes', async () => {
    const ac = new AbortController();
    const io = fakeIo(ac.signal);
    const running = simPandaCommand.run(['--port', '0', '--scenario', EXAMPLE], io);
    let url = '';
    for (let i = 0; i < 100 && url === ''; i++) {
      await new Promise((r) => setTimeout(r, 20));
      url = io.out().trim();
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(io.err()).toContain('not PanDA');
    const r = await fetch(`${url}/api/v1/statistics/active_job_stats_by_site`, { headers: { accept: 'application/json' } });
    const body = (await r.json()) as { success: boolean; data: Record<string, unknown> };
    expect(body.success).toBe(true);
    expect(Object.keys(body.data)).toContain('CERN');
    ac.abort();
    expect(await running).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  });

  it.each([
    ['no --port', ['--scenario', EXAMPLE], '--port is required'],
    ['no --scenario', ['--port', '0'], '--scenario is required'],
    ['an unknown option', ['--port', '0', '--scenario', EXAMPLE, '--verbose'], 'verbose'],
    ['a positional argument', ['--port', '0', '--scenario', EXAMPLE, 'extra'], 'extra'],
    ['a bad port', ['--port', 'http', '--scenario', EXAMPLE], 'not a TCP port'],
    ['a port out of range', ['--port', '70000', '--scenario', EXAMPLE], 'not a TCP port'],
  ])('%s is a usage error: exit 2 with the usage text', async (_name, args, words) => {
    const io = fakeIo(new AbortController().signal);
    expect(await simPandaCommand.run(args, io)).toBe(2);
    expect(io.err()).toContain(words);
    expect(io.err()).toContain('usage: apf sim panda --port PORT');
    expect(io.out()).toBe('');
  });

  it('an invalid scenario file is APF_ERR_SIM naming the field', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ queues: { Q: { timeline: [{ t: 0, status: 'sleepy' }] } } }));
    const io = fakeIo(new AbortController().signal);
    await expect(simPandaCommand.run(['--port', '0', '--scenario', file], io)).rejects.toMatchObject({
      code: 'APF_ERR_SIM',
      message: expect.stringContaining('queues.Q.timeline.0.status') as unknown,
    });
  });

  it('as a process: SIGTERM stops it promptly even with a hanging request open', async () => {
    const script = [
      `import { simPandaCommand } from ${JSON.stringify(join(ROOT, 'src/cli/commands/sim-panda.ts'))};`,
      'const ac = new AbortController();',
      "process.on('SIGTERM', () => ac.abort());",
      'const io = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal: ac.signal };',
      'process.exitCode = await simPandaCommand.run(process.argv.slice(1), io);',
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, '--', '--port', '0', '--scenario', EXAMPLE], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: string) => {
          out += d;
          if (out.includes('\n')) resolve(out.trim());
        });
        child.once('exit', () => reject(new Error(`exited before printing its URL: ${out}`)));
      });
      const fault = await fetch(`${url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ endpoint: 'all', kind: 'hang' }) });
      expect(fault.status).toBe(200);
      const hanging = fetch(`${url}/api/v1/statistics/active_job_stats_by_site`).then(
        () => 'answered',
        () => 'dropped',
      );
      await new Promise((r) => setTimeout(r, 200));
      const started = performance.now();
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
      expect(performance.now() - started).toBeLessThan(3000);
      expect(await hanging).toBe('dropped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
