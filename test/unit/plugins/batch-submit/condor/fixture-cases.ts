/**
 * Reads the annotated HTCondor text fixtures (condor_submit_errors.txt, condor_rm_outputs.txt):
 * `#` lines are comments, `=== title` starts a case, the other lines are literal output.
 */
import { readFileSync } from 'node:fs';

/** One case of an annotated fixture. */
export interface FixtureCase {
  readonly title: string;
  /** The literal output lines joined with `\n` (blank lines at both ends removed). */
  readonly text: string;
}

/** The cases of `test/fixtures/htcondor/<name>`. */
export function fixtureCases(name: string): FixtureCase[] {
  const text = readFileSync(new URL(`../../../../fixtures/htcondor/${name}`, import.meta.url), 'utf8');
  const cases: { title: string; lines: string[] }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    if (line.startsWith('===')) {
      cases.push({ title: line.replace(/^===\s*/, ''), lines: [] });
      continue;
    }
    cases.at(-1)?.lines.push(line);
  }
  return cases.map((c) => ({ title: c.title, text: c.lines.join('\n').replace(/^\n+|\n+$/g, '') }));
}

/** The text of a fixture file. */
export function fixtureText(name: string): string {
  return readFileSync(new URL(`../../../../fixtures/htcondor/${name}`, import.meta.url), 'utf8');
}
