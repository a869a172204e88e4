/**
 * The daemon's modules (`apf start`, its web server included) do not make Node load its bundled
 * undici: an ESM import of `node:http` would (Node builds the namespace by reading every export,
 * and `node:http`'s lazy WebSocket exports pull in undici), costing every instance about 2 MiB of
 * live heap and its parse for code it never runs. Checked in a fresh Node process, since this test
 * runner's own process has long loaded it; the control import shows the check can see it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const src = (rel: string): string => pathToFileURL(fileURLToPath(new URL(`../../../src/${rel}`, import.meta.url))).href;

/** Imports the modules in a fresh Node and returns the bundled dependencies Node loaded for them. */
async function bundledDepsAfter(imports: readonly string[]): Promise<string[]> {
  const code = `${imports.map((m) => `await import(${JSON.stringify(m)});`).join('\n')}
process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('internal/deps/'))));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { timeout: 60_000 });
  return JSON.parse(stdout) as string[];
}

describe('web/builtin-http', () => {
  it('apf start and its web server leave Node’s bundled undici unloaded', async () => {
    const daemon = await bundledDepsAfter([src('cli/commands/start.ts'), src('core/daemon.ts'), src('core/side-services.ts'), src('web/server.ts')]);
    expect(daemon.filter((m) => m.includes('undici'))).toEqual([]);
    // control: the plain ESM import the helper avoids does load it
    const plain = await bundledDepsAfter(['node:http']);
    expect(plain.some((m) => m.includes('internal/deps/undici'))).toBe(true);
  }, 90_000);
});
