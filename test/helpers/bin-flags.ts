import { readFileSync } from 'node:fs';

/** The Node flags of the `apf` bin's first line (`#!/usr/bin/env -S node --flag=value …`). */
export function binNodeFlags(): string[] {
  const first = readFileSync(new URL('../../src/cli/main.ts', import.meta.url), 'utf8').split('\n')[0] ?? '';
  const m = /^#!\/usr\/bin\/env -S node((?: --[a-z-]+=\S+)*)$/.exec(first);
  if (m === null) throw new Error(`src/cli/main.ts does not start with "#!/usr/bin/env -S node <flags>": ${first}`);
  return (m[1] ?? '').split(' ').filter((f) => f !== '');
}
