/** `npm run demo` (README's first command) works on a machine with only Node and redis-server. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runApf } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp-dirs.ts';

const tempDir = tempDirs('apf-demo-test-');

describe('cli: demo', () => {
  it('runs a cluster against the simulators, shows cycles from several instances, and stops cleanly', { timeout: 150_000 }, async () => {
    const dir = join(tempDir(), 'demo');
    const r = await runApf(['demo', '--dir', dir, '--duration', '45', '--instances', '2', '--web-port', '0'], { timeoutMs: 140_000 });
    expect(r.code).toBe(0);
    // the final summary (printed when stdout is not a terminal)
    expect(r.stdout).toMatch(/demo-1 +active.*http:\/\/127\.0\.0\.1:\d+\//);
    expect(r.stdout).toMatch(/demo-2 +active/);
    const cycled = r.stdout.split('\n').filter((l) => /-sim +\d+ +\d+ +\d+ → \d+ +demo-\d/.test(l));
    expect(cycled.length).toBeGreaterThanOrEqual(4);
    expect(r.stdout).toMatch(/CERN-sim .*→ 20 +demo-\d +submitted/);
    expect(r.stdout).toMatch(/condor:local@demo-1 +fresh/);
    expect(r.stderr).toContain(`stopped; logs and state kept in ${dir}`);
    // both instances stopped gracefully
    for (const i of [1, 2]) expect(readFileSync(join(dir, `instance-${i}.log`), 'utf8')).toContain('"msg":"stopped"');
  });
});
