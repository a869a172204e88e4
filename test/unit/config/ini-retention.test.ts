/**
 * What the parsed configuration keeps does not keep the file's text alive: V8 makes `split` and
 * `slice` results of 13 characters or more views into their parent, so before each line was copied
 * (src/util/own-string.ts), one kept section name held a whole queues.conf in memory (0.5 MiB at
 * 10,000 queues). Measured in a fresh Node with `--expose-gc`: a file made large by a comment
 * block, parsed, its text dropped, collected; the heap must not still hold it. The control run
 * keeps the text on purpose and shows the measurement sees it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ini = pathToFileURL(fileURLToPath(new URL('../../../src/config/ini.ts', import.meta.url))).href;

/** Heap growth (MiB) that survives a full collection after parsing a ~16 MiB file, kept or dropped. */
async function retainedMiB(keepText: boolean): Promise<{ mib: number; name: string; value: string }> {
  const code = `
const { parseIni } = await import(${JSON.stringify(ini)});
const settle = async () => { for (let i = 0; i < 4; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); } };
await settle();
const before = process.memoryUsage().heapUsed;
let text = '[Long_queue_name-ce.example.org]\\nwmsqueue = A_long_enough_wms_queue_name\\n' + '# comment line that makes the file large\\n'.repeat(400000);
const { doc } = parseIni([{ text, file: 'queues.conf' }]);
const kept = ${keepText ? 'text' : 'undefined'};
text = undefined;
await settle();
const after = process.memoryUsage().heapUsed;
const s = doc.sections[0];
process.stdout.write(JSON.stringify({ mib: (after - before) / 1048576, name: s.name, value: s.entries.get('wmsqueue').value, kept: kept === undefined ? 0 : kept.length }));`;
  const { stdout } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], { timeout: 60_000 });
  return JSON.parse(stdout) as { mib: number; name: string; value: string };
}

describe('config/ini: parsed values do not retain the file text', () => {
  it('a 16 MiB file leaves well under 1 MiB behind once its text is dropped; kept on purpose, it shows', async () => {
    const dropped = await retainedMiB(false);
    expect(dropped.name).toBe('Long_queue_name-ce.example.org');
    expect(dropped.value).toBe('A_long_enough_wms_queue_name');
    expect(dropped.mib).toBeLessThan(1);
    const kept = await retainedMiB(true);
    expect(kept.mib).toBeGreaterThan(15);
  }, 90_000);
});
