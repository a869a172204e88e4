import { readFileSync } from 'node:fs';

/** The `apf` bin's first line: `#!/usr/bin/env -S [NAME=value …] node [--flag=value …]`. */
function binLine(): { env: Record<string, string>; flags: string[] } {
  const first = readFileSync(new URL('../../src/cli/main.ts', import.meta.url), 'utf8').split('\n')[0] ?? '';
  const m = /^#!\/usr\/bin\/env -S((?: [A-Z_]+=\S+)*) node((?: --[a-z-]+=\S+)*)$/.exec(first);
  if (m === null) throw new Error(`src/cli/main.ts does not start with "#!/usr/bin/env -S [NAME=value …] node <flags>": ${first}`);
  const words = (s: string | undefined): string[] => (s ?? '').split(' ').filter((w) => w !== '');
  const env = Object.fromEntries(words(m[1]).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
  return { env, flags: words(m[2]) };
}

/** The Node flags of the `apf` bin's first line. */
export function binNodeFlags(): string[] {
  return binLine().flags;
}

/** The environment variables the `apf` bin's first line sets before starting Node (e.g. MALLOC_ARENA_MAX). */
export function binEnv(): Record<string, string> {
  return binLine().env;
}
