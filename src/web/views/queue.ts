/**
 * `/queues/:name`: one queue — its counts and flags, a plot of ready / pending / running /
 * submitted over the stored history, the decision trace of recent cycles (each chain's steps with
 * the step that bound the number highlighted), its share of every batch source, and its recent
 * pilots with links to their logs.
 */
import type { CycleRecord } from '../../coordination/records.ts';
import { queueLogName, utcDay } from '../../plugins/batch-submit/condor/jdl.ts';
import { bindingStep } from '../../plugins/sched/compose.ts';
import { esc } from '../router.ts';
import type { QueueDetail } from './data.ts';
import { UNKNOWN, fmtAge, fmtCount, fmtTime, instanceHref } from './format.ts';
import { page, type ViewContext } from './layout.ts';
import { queueBadges, queueButtons } from './queues.ts';
import { timePlot, type PlotSeries } from './svg.ts';

/** Decision traces shown. */
export const TRACE_RECORDS = 10;
/** Pilots listed. */
export const RECENT_PILOTS = 50;

/** Colours of the plot's series (constants, not input). */
const COLORS = { ready: '#8250df', pending: '#bf8700', running: '#1a7f37', submitted: '#0b5cad' } as const;

/**
 * The URL of a pilot's log file: `<baseLogDirUrl>/<YYYY-MM-DD>/<queue with / and : → _>/<id>.<ext>`,
 * dated (UTC) by the cycle that submitted it; path segments are percent-encoded.
 */
export function pilotLogUrl(baseLogDirUrl: string, queue: string, at: number, jobId: string, ext: 'out' | 'err' | 'log'): string {
  return `${baseLogDirUrl}/${utcDay(new Date(at))}/${encodeURIComponent(queueLogName(queue))}/${encodeURIComponent(`${jobId}.${ext}`)}`;
}

/** The plot's series from records (newest first as stored; plotted oldest first). */
export function plotSeries(history: readonly CycleRecord[]): PlotSeries[] {
  const rs = [...history].sort((a, b) => a.at - b.at);
  return [
    { name: 'ready', color: COLORS.ready, points: rs.map((r) => ({ t: r.at, v: r.inputs.ready })) },
    { name: 'pending', color: COLORS.pending, points: rs.map((r) => ({ t: r.at, v: r.inputs.pending })) },
    { name: 'running', color: COLORS.running, points: rs.map((r) => ({ t: r.at, v: r.inputs.running })) },
    { name: 'submitted', color: COLORS.submitted, points: rs.map((r) => ({ t: r.at, v: r.jobIds.length })) },
  ];
}

function trace(r: CycleRecord, now: number): string {
  const bind = bindingStep(r.steps);
  const steps = r.steps
    .map(
      (s, i) =>
        `<tr${i === bind ? ' class="bind" title="this step bound the number"' : ''}><td>${esc(s.plugin)}</td><td class="num">${s.in}</td><td class="num">${s.out}</td><td class="msg">${esc(s.msg ?? '')}</td></tr>`,
    )
    .join('');
  const extra =
    (r.blocked === null ? '' : `<p class="notice error">blocked: ${esc(r.blocked)}</p>`) + (r.error === null ? '' : `<p class="notice error">error: ${esc(r.error)}</p>`);
  return (
    `<section class="trace" data-cycle="${esc(r.cycleId)}"><h3>${esc(fmtTime(r.at))} <span class="muted">(${esc(fmtAge(now - r.at))} ago)</span> on ` +
    `<a href="${esc(instanceHref(r.instance))}">${esc(r.instance)}</a> · token ${r.token} · <span class="badge ${esc(r.outcome)}">${esc(r.outcome)}</span> · n=${r.n} · submitted ${r.jobIds.length}${r.removed.length > 0 ? ` · removed ${r.removed.length}` : ''}</h3>` +
    `<p class="msg muted">${esc(r.msg)}</p>${extra}` +
    (r.steps.length === 0 ? '' : `<table class="steps"><thead><tr><th>plugin</th><th class="num">in</th><th class="num">out</th><th>message</th></tr></thead><tbody>${steps}</tbody></table>`) +
    `</section>`
  );
}

function pilots(base: string, queue: string, history: readonly CycleRecord[]): string {
  const rows: string[] = [];
  for (const r of history) {
    for (const id of r.jobIds) {
      if (rows.length >= RECENT_PILOTS) break;
      const links = (['out', 'err', 'log'] as const).map((ext) => `<a href="${esc(pilotLogUrl(base, queue, r.at, id, ext))}">${ext}</a>`).join(' ');
      rows.push(`<tr><td>${esc(id)}</td><td>${esc(fmtTime(r.at))}</td><td>${esc(r.instance)}</td><td>${esc(r.cycleId)}</td><td>${links}</td></tr>`);
    }
  }
  if (rows.length === 0) return `<p class="muted">no pilot in the stored history</p>`;
  return `<table class="pilots"><thead><tr><th>pilot</th><th>submitted</th><th>instance</th><th>cycle</th><th>logs</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The queue page. */
export function renderQueue(ctx: ViewContext, d: QueueDetail, baseLogDirUrl: string): string {
  const q = d.queue;
  const r = d.row;
  const last = d.history[0];
  const kv = (k: string, v: string): string => `<dt>${esc(k)}</dt><dd>${v}</dd>`;
  const facts =
    kv('wmsqueue', esc(q.wmsqueue ?? UNKNOWN)) +
    kv('interval', `${q.sleep} s`) +
    kv('sched chain', esc(q.sched.map((s) => s.id).join(', '))) +
    kv('enabled', q.enabled ? 'yes' : 'no') +
    kv('paused', d.status.paused ? `yes${d.pausedBy === null ? '' : `, by ${esc(d.pausedBy)}`}${d.pausedAt === null ? '' : ` at ${esc(fmtTime(d.pausedAt))}`}` : 'no') +
    kv(
      'last cycle',
      last === undefined
        ? 'none yet'
        : `${esc(fmtAge(ctx.now - last.at))} ago on <a href="${esc(instanceHref(last.instance))}">${esc(last.instance)}</a>, ${esc(last.outcome)}, token ${last.token}`,
    ) +
    kv('last msg', `<span class="msg">${esc(r.lastMsg ?? UNKNOWN)}</span>`) +
    kv('ready (activated)', esc(fmtCount(r.ready))) +
    kv('pending / running', `${esc(fmtCount(r.pending))} / ${esc(fmtCount(r.running))}`) +
    kv('created (1 hr) / done (1 hr) / fault (1 hr)', `${r.created} / ${esc(fmtCount(r.done))} / ${esc(fmtCount(r.fault))}`) +
    kv('counters', esc(Object.entries(d.stats).map(([k, v]) => `${k} ${v}`).join(', ') || UNKNOWN));
  const sources = d.sources
    .map(
      (s) =>
        `<tr><td>${esc(s.source)}</td><td><span class="badge ${esc(s.state)}">${esc(s.state)}</span></td><td>${esc(fmtAge(s.ageMs))}</td>` +
        `<td class="num">${s.counts.pending}</td><td class="num">${s.counts.running}</td><td class="num">${s.counts.done}</td><td class="num">${s.counts.failed}</td><td class="num">${s.submittedSince}</td></tr>`,
    )
    .join('');
  const buttons = queueButtons(ctx, r);
  const body =
    `<h1>${esc(q.name)}${queueBadges(r)}</h1>` +
    (buttons === '' ? '' : `<p>${buttons}</p>`) +
    `<dl class="kv">${facts}</dl>` +
    `<h2>Inputs and submissions over the stored history (${d.history.length} cycles)</h2>` +
    (d.history.length === 0 ? `<p class="muted">no cycle yet</p>` : timePlot(plotSeries(d.history), { title: `ready, pending, running and submitted pilots of ${q.name} per cycle` })) +
    `<h2>Batch sources</h2>` +
    (sources === ''
      ? `<p class="muted">no batch source holds this queue</p>`
      : `<table class="sources"><thead><tr><th>source</th><th>state</th><th>age</th><th class="num">pending</th><th class="num">running</th><th class="num">done</th><th class="num">failed</th><th class="num">submitted since</th></tr></thead><tbody>${sources}</tbody></table>`) +
    `<h2>Decision trace (last ${Math.min(TRACE_RECORDS, d.history.length)} cycles)</h2>` +
    (d.history.slice(0, TRACE_RECORDS).map((rec) => trace(rec, ctx.now)).join('') || `<p class="muted">no cycle yet</p>`) +
    `<h2>Recent pilots</h2>` +
    pilots(baseLogDirUrl, q.name, d.history);
  return page(ctx, { title: q.name, nav: 'queues', api: `/api/v1/queues/${encodeURIComponent(q.name)}`, body });
}
