/**
 * Proof of equality with the reference oracle: python3's configparser configured as APF used it
 * (test/helpers/configparser_dump.py). Every fixture under test/fixtures/config and hundreds of
 * generated edge-case jobs (test/helpers/ini-gen.ts, seeded) are run through both; every
 * effective value, the section and key order, every per-key interpolation error and every parse
 * error line must be identical. Python is spawned once for the whole batch.
 *
 * Reproduce a generated failure with APF_INI_SEED=<base seed> (the first failing job's seed is
 * printed with its document).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIni, type IniDocument, type IniProblem } from '../../../src/config/ini.ts';
import { mergeSources, resolveSection, type InterpolationProblem } from '../../../src/config/interpolate.ts';
import type { ResolvedSection } from '../../../src/config/types.ts';
import { runCommand } from '../../../src/util/exec.ts';
import { describeJob, generateJob, type GenJob } from '../../helpers/ini-gen.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const DUMP = join(HERE, '../../helpers/configparser_dump.py');
const FIXTURES = join(HERE, '../../fixtures/config');
const GENERATED = 400;
const BASE_SEED = Number(process.env['APF_INI_SEED'] ?? 20_240_611);

const python = spawnSync('python3', ['--version'], { timeout: 10_000 });
const hasPython = python.status === 0;
if (!hasPython) {
  console.warn('config/ini python3 equality tests SKIPPED: python3 was not found on PATH (CI has it; install python3 to run them)');
}

/** What configparser_dump.py prints for one job. */
interface PyResult {
  sections: Record<string, Record<string, string>>;
  order: Array<[string, string[]]>;
  errors: Record<string, Record<string, string>>;
  missing: Record<string, Record<string, string>>;
  parseErrors: Array<{ type: string; file: string; lines: number[] }>;
  complete: boolean;
}

/** One comparison unit: files on disk grouped by source, with a label for messages. */
interface Job {
  readonly label: string;
  readonly sources: ReadonlyArray<readonly string[]>;
  readonly gen?: GenJob;
}

interface Ours {
  readonly parse: IniProblem[];
  readonly sections: ResolvedSection[];
  readonly interpolation: InterpolationProblem[];
}

function runOurs(job: Job): Ours {
  const parse: IniProblem[] = [];
  const docs: IniDocument[] = [];
  for (const files of job.sources) {
    const r = parseIni(files.map((file) => ({ file, text: readFileSync(file, 'utf8') })));
    parse.push(...r.problems);
    docs.push(r.doc);
  }
  const merged = mergeSources(docs);
  const sections: ResolvedSection[] = [];
  const interpolation: InterpolationProblem[] = [];
  for (const m of merged.sections) {
    const r = resolveSection(m);
    sections.push(r.section);
    interpolation.push(...r.problems);
  }
  return { parse, sections, interpolation };
}

const PY_TYPE: Record<string, string> = {
  missing: 'InterpolationMissingOptionError',
  syntax: 'InterpolationSyntaxError',
  depth: 'InterpolationDepthError',
  size: 'apf-only size guard',
};

/** Every difference between python's and our result (empty when equal). */
function compare(job: Job, py: PyResult, ours: Ours, stats: Stats): string[] {
  const diffs: string[] = [];
  const files = job.sources.flat();
  // Parse errors, file by file.
  for (const file of files) {
    const pyErr = py.parseErrors.find((e) => e.file === file);
    const mine = ours.parse.filter((p) => p.severity === 'error' && p.file === file);
    if (pyErr === undefined) {
      if (mine.length > 0) diffs.push(`${file}: python parsed it, we report ${JSON.stringify(mine.map((p) => [p.kind, p.line]))}`);
    } else if (pyErr.type === 'MissingSectionHeaderError') {
      stats.missingHeader++;
      const first = mine[0];
      if (first?.kind !== 'missing-section-header' || first.line !== pyErr.lines[0]) {
        diffs.push(`${file}: python MissingSectionHeaderError at ${pyErr.lines[0]}, ours first error ${JSON.stringify(first && [first.kind, first.line])}`);
      }
    } else {
      stats.parsingError++;
      const kinds = new Set(mine.map((p) => p.kind));
      const lines = mine.map((p) => p.line);
      if (JSON.stringify(lines) !== JSON.stringify(pyErr.lines) || [...kinds].some((k) => k !== 'syntax' && k !== 'empty-key')) {
        diffs.push(`${file}: python ParsingError lines ${JSON.stringify(pyErr.lines)}, ours ${JSON.stringify(mine.map((p) => [p.kind, p.line]))}`);
      }
    }
  }
  // Python drops the rest of a file after MissingSectionHeaderError (apf goes on): values are not comparable.
  if (!py.complete) return diffs;
  const oursOrder = ours.sections.map((s) => [s.name, [...s.entries.keys()]]);
  if (JSON.stringify(oursOrder) !== JSON.stringify(py.order)) {
    diffs.push(`order differs:\n  python ${JSON.stringify(py.order)}\n  ours   ${JSON.stringify(oursOrder)}`);
    return diffs;
  }
  for (const sec of ours.sections) {
    for (const [key, entry] of sec.entries) {
      stats.values++;
      const pyMissing = py.missing[sec.name]?.[key];
      if (pyMissing === '__name__') {
        // apf's Python 2 extension, tested in interpolate.test.ts: python3 has no __name__.
        stats.nameExtension++;
        continue;
      }
      const pyValue = py.sections[sec.name]?.[key];
      if (pyValue !== entry.value) diffs.push(`[${sec.name}] ${JSON.stringify(key)}: python ${JSON.stringify(pyValue)}, ours ${JSON.stringify(entry.value)}`);
      if (entry.value.includes('\n')) stats.multiline++;
      const pyErr = py.errors[sec.name]?.[key];
      const mine = ours.interpolation.find((p) => p.section === sec.name && p.key === key);
      const mineType = mine === undefined ? undefined : PY_TYPE[mine.kind];
      if (pyErr !== undefined) stats.errors[pyErr] = (stats.errors[pyErr] ?? 0) + 1;
      if (pyErr !== mineType) diffs.push(`[${sec.name}] ${JSON.stringify(key)}: python error ${pyErr}, ours ${mineType}`);
      if (pyMissing !== undefined && mine?.reference !== pyMissing) {
        diffs.push(`[${sec.name}] ${JSON.stringify(key)}: python misses ${JSON.stringify(pyMissing)}, ours ${JSON.stringify(mine?.reference)}`);
      }
    }
  }
  return diffs;
}

interface Stats {
  values: number;
  multiline: number;
  parsingError: number;
  missingHeader: number;
  nameExtension: number;
  errors: Record<string, number>;
}

function listConf(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listConf(p));
    else if (name.endsWith('.conf')) out.push(p);
  }
  return out;
}

describe.skipIf(!hasPython)('config/ini', () => {
  describe('equality with python3 configparser (APF settings)', () => {
    let work = '';
    const fixtureJobs: Job[] = [];
    const genJobs: Job[] = [];
    const results = new Map<Job, PyResult>();

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'apf-ini-'));
      for (const f of listConf(FIXTURES)) fixtureJobs.push({ label: relative(FIXTURES, f), sources: [[f]] });
      const queuesD = listConf(join(FIXTURES, 'queues.d'));
      // What the loader does: queues.conf is one source, queues.d/*.conf one parser merged over it.
      fixtureJobs.push({ label: 'queues.conf + queues.d/', sources: [[join(FIXTURES, 'queues.conf')], queuesD] });
      fixtureJobs.push({ label: 'queues.d/ (one parser)', sources: [queuesD] });
      for (let i = 0; i < GENERATED; i++) {
        const gen = generateJob(BASE_SEED + i);
        const dir = join(work, `job${i}`);
        mkdirSync(dir);
        const sources = gen.sources.map((files) =>
          files.map((f) => {
            const p = join(dir, f.name);
            writeFileSync(p, f.text, 'utf8');
            return p;
          }),
        );
        genJobs.push({ label: `generated seed ${gen.seed}`, sources, gen });
      }
      const all = [...fixtureJobs, ...genJobs];
      const res = await runCommand('python3', [DUMP], {
        input: JSON.stringify({ jobs: all.map((j) => j.sources) }),
        timeoutMs: 60_000,
      });
      if (res.exitCode !== 0) throw new Error(`configparser_dump.py failed (${res.exitCode}): ${res.stderr}`);
      const parsed = JSON.parse(res.stdout) as { results: PyResult[] };
      all.forEach((j, i) => results.set(j, parsed.results[i] as PyResult));
    });

    afterAll(() => {
      if (work !== '') rmSync(work, { recursive: true, force: true });
    });

    const emptyStats = (): Stats => ({ values: 0, multiline: 0, parsingError: 0, missingHeader: 0, nameExtension: 0, errors: {} });

    it('every fixture under test/fixtures/config gives python3 values, order and errors', () => {
      const stats = emptyStats();
      const failures: string[] = [];
      for (const job of fixtureJobs) {
        const diffs = compare(job, results.get(job) as PyResult, runOurs(job), stats);
        if (diffs.length > 0) failures.push(`${job.label}:\n  ${diffs.join('\n  ')}`);
      }
      expect(failures, failures.join('\n\n')).toEqual([]);
      // The fixtures exercise the interesting paths (not just clean files).
      expect(stats.values).toBeGreaterThan(300);
      expect(stats.multiline).toBeGreaterThan(0);
      expect(stats.parsingError).toBeGreaterThan(0);
      expect(stats.missingHeader).toBeGreaterThan(0);
      expect(stats.nameExtension).toBeGreaterThan(0);
      expect(Object.keys(stats.errors).sort()).toEqual(['InterpolationDepthError', 'InterpolationMissingOptionError', 'InterpolationSyntaxError']);
    });

    it(`${GENERATED} generated edge-case jobs (base seed ${BASE_SEED}) give python3 values, order and errors`, () => {
      const stats = emptyStats();
      const failures: string[] = [];
      for (const job of genJobs) {
        const diffs = compare(job, results.get(job) as PyResult, runOurs(job), stats);
        if (diffs.length > 0 && job.gen !== undefined) failures.push(`${describeJob(job.gen)}\n  ${diffs.slice(0, 20).join('\n  ')}`);
      }
      expect(failures.length, `${failures.length} generated jobs differ; first ones:\n\n${failures.slice(0, 3).join('\n\n')}`).toBe(0);
      // The generator really reaches every feature (python's own verdicts are counted).
      expect(stats.values).toBeGreaterThan(3000);
      expect(stats.multiline).toBeGreaterThan(50);
      expect(stats.parsingError).toBeGreaterThan(20);
      expect(stats.missingHeader).toBeGreaterThan(3);
      expect(stats.nameExtension).toBe(0);
      for (const t of ['InterpolationDepthError', 'InterpolationMissingOptionError', 'InterpolationSyntaxError']) {
        expect(stats.errors[t] ?? 0, t).toBeGreaterThan(20);
      }
      expect(genJobs.filter((j) => j.sources.length > 1).length).toBeGreaterThan(50);
      expect(genJobs.filter((j) => j.sources.some((f) => f.length > 1)).length).toBeGreaterThan(50);
      expect(genJobs.filter((j) => j.gen?.sources.flat().some((f) => f.text.includes('\r\n'))).length).toBeGreaterThan(50);
    });
  });
});
