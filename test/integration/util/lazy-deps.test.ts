/**
 * The daemon's modules do not load undici, execa or zod until a request, a command or a schema
 * needs them: every batch plugin reaches util/exec.ts and the config loader reaches util/http.ts
 * through static imports, the control bus, the admin routes and the PanDA/CRIC parsers declare
 * zod schemas, and loading these packages costs an instance several MiB of RSS each
 * (docs/decisions.md). Checked in a fresh Node process that records every module it loads
 * (module.registerHooks); the same process then runs one command and one request, and the
 * packages appear, which shows the check sees them.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const src = (rel: string): string => pathToFileURL(fileURLToPath(new URL(`../../../src/${rel}`, import.meta.url))).href;

/** Packages (node_modules/<name>) loaded so far, as the child reports them at each mark. */
type Marks = Record<string, string[]>;

const CHILD = `
import { registerHooks } from 'node:module';
import { createServer } from 'node:http';
const loaded = new Set();
registerHooks({ load(url, context, next) { const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url); if (m) loaded.add(m[1]); return next(url, context); } });
const marks = {};
const mark = (name) => { marks[name] = [...loaded].sort(); };
for (const m of ${JSON.stringify([src('cli/commands/start.ts'), src('core/daemon.ts'), src('plugins/registry.ts'), src('config/load.ts')])}) await import(m);
mark('daemon');
const { parseControlMessage } = await import(${JSON.stringify(src('coordination/control.ts'))});
const parsed = [parseControlMessage('{"action":"reload","by":"t"}').ok, parseControlMessage('{"action":"reload"}').ok];
mark('schema');
const { runCommand } = await import(${JSON.stringify(src('util/exec.ts'))});
const ran = await runCommand(process.execPath, ['-e', 'process.stdout.write("ran")'], { timeoutMs: 30000 });
mark('command');
const server = createServer((_req, res) => res.end('served')).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const { httpGet, closeHttpAgent } = await import(${JSON.stringify(src('util/http.ts'))});
const got = await httpGet('http://127.0.0.1:' + server.address().port + '/', { timeoutMs: 30000 });
mark('request');
await closeHttpAgent();
server.close();
process.stdout.write(JSON.stringify({ marks, parsed, ran: ran.stdout, got: got.body }));
`;

describe('util: undici, execa and zod are loaded on first use', () => {
  it('apf start’s modules leave them unloaded; the first schema loads zod, the first command execa, the first request undici', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], { timeout: 90_000 });
    const out = JSON.parse(stdout) as { marks: Marks; parsed: boolean[]; ran: string; got: string };
    // the daemon's own libraries are there (the recorder works) but not the two lazy ones
    expect(out.marks.daemon).toEqual(expect.arrayContaining(['bullmq', 'ioredis', 'pino']));
    expect(out.marks.daemon).not.toContain('execa');
    expect(out.marks.daemon).not.toContain('undici');
    expect(out.marks.daemon).not.toContain('zod');
    // the first control message builds the schemas (a valid one passes, one without `by` fails)
    expect(out.parsed).toEqual([true, false]);
    expect(out.marks.schema).toContain('zod');
    expect(out.marks.schema).not.toContain('execa');
    expect(out.ran).toBe('ran');
    expect(out.marks.command).toContain('execa');
    expect(out.marks.command).not.toContain('undici');
    expect(out.got).toBe('served');
    expect(out.marks.request).toContain('undici');
  }, 120_000);
});
