/**
 * The files a simulated job leaves behind (HTCondor simulator, NOT HTCondor): the user log
 * (`log =`, HTCondor's event-log format: 000 submitted, 027 submitted to grid resource, 001
 * executing, 012 held, 009 aborted, 005 terminated) and a few pilot-like lines in `output` /
 * `error`, at the paths of the submit file with $(Cluster)/$(Process) expanded. Files are only
 * written when their directory exists, as a real job could not create one either.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { resolveValue } from './job-ad.ts';
import { remoteJobId } from './materialize.ts';
import type { ClusterRecord, JobRecord } from './store.ts';
import type { JobEvent } from './timeline.ts';

/** The paths of a job's files (absolute; undefined when not requested). */
interface JobFiles {
  readonly out: string | undefined;
  readonly err: string | undefined;
  readonly log: string | undefined;
  readonly grid: string | undefined;
}

/** Writes job files, remembering which directories exist during one tool run. */
export class JobFileWriter {
  private readonly dirs = new Map<string, boolean>();
  private readonly scheddHost: string;

  constructor(scheddHost: string) {
    this.scheddHost = scheddHost;
  }

  /** The user-log submit event (condor_submit). */
  submitted(cluster: ClusterRecord, job: JobRecord): void {
    const f = this.files(cluster, job);
    this.log(f, job, cluster.qdate, `Job submitted from host: <127.0.0.1:9618?addrs=127.0.0.1-9618&alias=${this.scheddHost}&noUDP&sock=schedd_sim>`);
  }

  /** A removal by condor_rm. */
  removed(cluster: ClusterRecord, job: JobRecord, at: number, by: string): void {
    const f = this.files(cluster, job);
    this.log(f, job, at, `Job was aborted.\n\tvia condor_rm (by user ${by})`, '009');
  }

  /** Transitions applied by the timeline. */
  events(clusters: Readonly<Record<string, ClusterRecord>>, events: readonly JobEvent[]): void {
    for (const ev of events) {
      const cluster = clusters[String(ev.job.c)];
      if (cluster === undefined || ev.kind === 'leave') continue;
      const f = this.files(cluster, ev.job);
      if (!this.writable(f.out) && !this.writable(f.err) && !this.writable(f.log)) continue;
      const id = `${ev.job.c}.${ev.job.p}`;
      switch (ev.kind) {
        case 'start':
          if (f.grid !== undefined) {
            this.log(f, ev.job, ev.at, `Job submitted to grid resource\n    GridResource: ${f.grid}\n    GridJobId: ${remoteJobId(f.grid, ev.job)}`, '027');
          }
          this.log(f, ev.job, ev.at, `Job executing on host: ${f.grid ?? '<10.0.0.42:9618?addrs=10.0.0.42-9618&alias=wn042.sim.invalid>'}`, '001');
          this.append(f.out, `${stamp(ev.at)} pilot ${id} started (HTCondor simulator job, not a real pilot)\n${stamp(ev.at)} waiting for a payload\n`);
          this.append(f.err, '');
          break;
        case 'hold': {
          this.log(f, ev.job, ev.at, `Job was held.\n\t${ev.job.hr ?? ''}\n\tCode ${ev.job.hc ?? 0} Subcode ${ev.job.hs ?? 0}`, '012');
          break;
        }
        case 'complete': {
          const code = ev.job.x ?? 0;
          this.append(f.out, `${stamp(ev.at)} no more payloads, pilot ${id} exiting with code ${code}\n`);
          if (code !== 0) this.append(f.err, `${stamp(ev.at)} ERROR pilot ${id} failed with exit code ${code}\n`);
          this.log(f, ev.job, ev.at, terminated(code), '005');
          break;
        }
      }
    }
  }

  private files(cluster: ClusterRecord, job: JobRecord): JobFiles {
    const group = cluster.groups.find((g) => job.p >= g.first && job.p < g.first + g.count) ?? cluster.groups[0];
    const t = group?.template ?? {};
    const iwdV = resolveValue(t['Iwd'] ?? null, job.p);
    const iwd = typeof iwdV === 'string' ? iwdV : '/';
    const path = (name: string): string | undefined => {
      const v = resolveValue(t[name] ?? null, job.p);
      return typeof v === 'string' && v !== '' && v !== '/dev/null' ? resolve(iwd, v) : undefined;
    };
    const grid = t['JobUniverse'] === 9 ? resolveValue(t['GridResource'] ?? null, job.p) : null;
    return { out: path('Out'), err: path('Err'), log: path('UserLog'), grid: typeof grid === 'string' ? grid : undefined };
  }

  private log(f: JobFiles, job: JobRecord, at: number, text: string, code = '000'): void {
    const id = `${String(job.c).padStart(3, '0')}.${String(job.p).padStart(3, '0')}.000`;
    this.append(f.log, `${code} (${id}) ${stamp(at, ' ')} ${text}\n...\n`);
  }

  /** True when `path`'s directory exists (remembered per directory for the run). */
  private writable(path: string | undefined): boolean {
    if (path === undefined) return false;
    const dir = dirname(path);
    let ok = this.dirs.get(dir);
    if (ok === undefined) {
      ok = existsSync(dir);
      this.dirs.set(dir, ok);
    }
    return ok;
  }

  private append(path: string | undefined, text: string): void {
    if (path === undefined || !this.writable(path)) return;
    try {
      appendFileSync(path, text);
    } catch {
      // A job that cannot write its output does not stop the schedd.
    }
  }
}

/** `2023-11-14 19:58:20` (UTC) as in modern user logs; `[…]` form for pilot output lines. */
function stamp(at: number, sep = ''): string {
  const iso = new Date(at * 1000).toISOString();
  const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  return sep === '' ? `[${text}]` : text;
}

function terminated(code: number): string {
  const usage = (what: string): string => `\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  ${what}`;
  return [
    'Job terminated.',
    `\t(1) Normal termination (return value ${code})`,
    usage('Run Remote Usage'),
    usage('Run Local Usage'),
    usage('Total Remote Usage'),
    usage('Total Local Usage'),
    '\t0  -  Run Bytes Sent By Job',
    '\t0  -  Run Bytes Received By Job',
    '\t0  -  Total Bytes Sent By Job',
    '\t0  -  Total Bytes Received By Job',
  ].join('\n');
}
