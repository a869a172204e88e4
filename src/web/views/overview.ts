/**
 * `/`: apfmon's factory list for the whole cluster — every instance sharing the Redis with its
 * state, version, activity sparkline (pilots created over the last 2 h, 5-minute buckets), how
 * recently it was seen and ran a cycle; then the batch sources and the latest admin actions.
 */
import type { DrillRun } from '../drills.ts';
import { esc } from '../router.ts';
import type { InstanceActivity, OverviewData } from './data.ts';
import { fmtAge, fmtTime, instanceHref } from './format.ts';
import { actionForm, page, type ViewContext } from './layout.ts';
import { sparkline } from './svg.ts';

/** The instance state as shown: an instance without heartbeats is `offline` whatever it registered. */
export function shownState(i: { readonly alive: boolean; readonly state: string }): string {
  return i.alive ? i.state : 'offline';
}

function instanceRow(ctx: ViewContext, a: InstanceActivity): string {
  const i = a.instance;
  const total = a.activity.reduce((s, v) => s + v, 0);
  const state = shownState(i);
  const toggle = i.state === 'draining'
    ? actionForm(ctx, `/ui/instances/${encodeURIComponent(i.id)}/undrain`, 'undrain')
    : actionForm(ctx, `/ui/instances/${encodeURIComponent(i.id)}/drain`, 'drain');
  return (
    `<tr data-instance="${esc(i.id)}"><td><a href="${esc(instanceHref(i.id))}">${esc(i.id)}</a>${i.configMismatch ? ' <span class="badge blocked" title="its configuration hash differs from the majority">config differs</span>' : ''}</td>` +
    `<td><span class="badge ${esc(state)}">${esc(state)}</span></td>` +
    `<td>${esc(i.version)}</td>` +
    `<td>${sparkline(a.activity, { title: `${total} pilots created in the last 2 h by ${i.id}` })} <span class="muted">${total}</span></td>` +
    `<td class="num">${a.recently}</td>` +
    `<td title="${esc(fmtTime(ctx.now - i.heartbeatAgeMs))}">${esc(fmtAge(i.heartbeatAgeMs))}</td>` +
    `<td title="${esc(fmtTime(i.lastCycleAt))}">${i.lastCycleAt === null ? '—' : esc(fmtAge(ctx.now - i.lastCycleAt))}</td>` +
    `<td>${esc(i.host)}</td>` +
    (ctx.csrf === null ? '' : `<td>${toggle}</td>`) +
    `</tr>`
  );
}

function drillBlock(ctx: ViewContext, data: OverviewData, drill: DrillRun | undefined): string {
  const out: string[] = [];
  if (drill !== undefined) {
    if (drill.report !== null) {
      const r = drill.report;
      out.push(
        `<p class="notice">last drill (${esc(r.method)} ${esc(r.victim)}, ${esc(fmtTime(r.startedAt))}): max gap ${esc(fmtAge(r.maxGapMs))}, ` +
          `missed ${esc(r.missed.join(', ') || 'none')}, duplicates ${r.duplicates.length}; ${esc(r.note)}</p>`,
      );
    } else if (drill.error !== null) {
      out.push(`<p class="notice error">drill started ${esc(fmtTime(drill.startedAt))} failed: ${esc(drill.error)}</p>`);
    } else {
      out.push(`<p class="notice">a drill is running (started ${esc(fmtAge(ctx.now - drill.startedAt))} ago by ${esc(drill.by)}); reload this page for its result</p>`);
    }
  }
  if (ctx.csrf !== null) {
    const alive = data.status.instances.filter((i) => i.alive);
    const options = [`<option value="">busiest instance</option>`, ...alive.map((i) => `<option value="${esc(i.id)}">${esc(i.id)}</option>`)].join('');
    out.push(
      `<p>${actionForm(ctx, '/ui/reload', 'reload every instance')} ` +
        actionForm(ctx, '/ui/drill', 'start a failover drill', `<label>victim <select name="instance">${options}</select></label> `) +
        `</p>`,
    );
  }
  return out.join('');
}

/** The global page. */
export function renderOverview(ctx: ViewContext, data: OverviewData, drill: DrillRun | undefined): string {
  const alive = data.status.instances.filter((i) => i.alive).length;
  const total = data.activity.reduce((s, v) => s + v, 0);
  const rows = data.instances.map((a) => instanceRow(ctx, a)).join('');
  const sources = data.status.sources
    .map(
      (s) =>
        `<tr><td>${esc(s.source)}</td><td><span class="badge ${esc(s.state)}">${esc(s.state)}</span>${s.counted ? '' : ' <span class="muted">(not counted)</span>'}</td>` +
        `<td>${esc(fmtAge(s.ageMs))}</td><td class="num">${s.queues}</td><td>${esc(s.publisher)}</td></tr>`,
    )
    .join('');
  const log = data.adminLog
    .map((a) => `<tr><td>${esc(fmtTime(a.at))}</td><td>${esc(a.who)}</td><td>${esc(a.action)}</td><td>${esc(a.target)}</td><td class="msg">${esc(a.result)}</td></tr>`)
    .join('');
  const body =
    `<h1>Factory instances</h1>` +
    `<p>${alive} of ${data.status.instances.length} instance(s) alive · ${data.status.queues.length} queue(s) (<a href="/queues">table</a>) · cluster activity ` +
    `${sparkline(data.activity, { title: `${total} pilots created in the last 2 h` })} <span class="muted">${total} pilots in 2 h</span></p>` +
    drillBlock(ctx, data, drill) +
    `<table class="instances"><thead><tr><th>instance</th><th>state</th><th>version</th><th title="pilots created over the last 2 h, per 5 minutes">activity (2 h)</th>` +
    `<th class="num" title="pilots created in the last 5 minutes">recently</th><th title="heartbeat age">last seen</th><th>last cycle</th><th>host</th>${ctx.csrf === null ? '' : '<th>admin</th>'}</tr></thead>` +
    `<tbody>${rows || `<tr><td colspan="8" class="muted">no instance registered</td></tr>`}</tbody></table>` +
    `<h2>Batch sources</h2><table class="sources"><thead><tr><th>source</th><th>state</th><th>age</th><th class="num">queues</th><th>published by</th></tr></thead>` +
    `<tbody>${sources || `<tr><td colspan="5" class="muted">none published yet</td></tr>`}</tbody></table>` +
    (log === '' ? '' : `<h2>Recent admin actions</h2><table class="admin-log"><thead><tr><th>when</th><th>who</th><th>action</th><th>target</th><th>result</th></tr></thead><tbody>${log}</tbody></table>`);
  return page(ctx, { title: 'factories', nav: 'overview', api: '/api/v1/instances', body });
}
