/** Temporary directories of one test file, removed when its tests are done. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * A maker of fresh directories `<tmpdir>/<prefix>XXXXXX`. Call it at the top of a test file: every
 * directory it made is removed after all of the file's tests (a file-level afterAll, which runs
 * after the suites' own afterAll hooks, so processes they stop are gone first).
 */
export function tempDirs(prefix: string): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
