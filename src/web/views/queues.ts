/**
 * `/queues`: the cluster queue table with APF monitor's columns (queue-columns.ts), sortable by
 * server-side header links (`?sort=<col>&dir=asc|desc`) and filterable by name (`?q=`, a GET
 * form), with pause / resume / run buttons for a logged-in visitor.
 */
import { esc } from '../router.ts';
import type { QueueTableData } from './data.ts';
import { UNKNOWN, fmtAge, fmtCount, instanceHref, queryString, queueHref } from './format.ts';
import { actionForm, page, type ViewContext } from './layout.ts';
import { QUEUE_COLUMNS, filterQueueRows, sortQueueRows, type QueueColumn, type QueueColumnKey, type QueueRow, type SortDir } from './queue-columns.ts';

/** The table's request parameters. */
export interface QueueTableParams {
  readonly sort: QueueColumnKey;
  readonly dir: SortDir;
  /** Name filter ('' = all). */
  readonly q: string;
}

/** The paused / blocked / disabled markers after a queue's name. */
export function queueBadges(r: Pick<QueueRow, 'paused' | 'blocked' | 'enabled'>): string {
  return (
    (r.enabled ? '' : ' <span class="badge muted">disabled</span>') +
    (r.paused ? ' <span class="badge paused">paused</span>' : '') +
    (r.blocked === null ? '' : ` <span class="badge blocked" title="${esc(r.blocked)}">blocked</span>`)
  );
}

/** The admin buttons of a queue (empty for a visitor who is not logged in). */
export function queueButtons(ctx: ViewContext, r: Pick<QueueRow, 'name' | 'paused'>): string {
  const base = `/ui/queues/${encodeURIComponent(r.name)}`;
  return (r.paused ? actionForm(ctx, `${base}/resume`, 'resume') : actionForm(ctx, `${base}/pause`, 'pause')) + actionForm(ctx, `${base}/run`, 'run now');
}

function cell(col: QueueColumn, r: QueueRow): string {
  switch (col.key) {
    case 'name':
      return `<td data-col="name"><a href="${esc(queueHref(r.name))}">${esc(r.name)}</a>${queueBadges(r)}</td>`;
    case 'lastmsg':
      return r.lastMsgAgeMs === null
        ? `<td data-col="lastmsg" class="num muted">${UNKNOWN}</td>`
        : `<td data-col="lastmsg" class="num" title="${esc(r.lastMsg ?? '')}">${esc(fmtAge(r.lastMsgAgeMs))}</td>`;
    case 'instance':
      return r.lastInstance === null ? `<td data-col="instance" class="muted">${UNKNOWN}</td>` : `<td data-col="instance"><a href="${esc(instanceHref(r.lastInstance))}">${esc(r.lastInstance)}</a></td>`;
    default:
      return `<td data-col="${col.key}" class="num">${esc(fmtCount(col.value(r) as number | null))}</td>`;
  }
}

/** The table of `rows` (headers link to sorted versions when `sorting` is given). */
export function queueTable(ctx: ViewContext, rows: readonly QueueRow[], sorting: QueueTableParams | null): string {
  const head = QUEUE_COLUMNS.map((c) => {
    const cls = c.numeric ? ' class="num"' : '';
    if (sorting === null) return `<th${cls} title="${esc(c.description)}">${esc(c.label)}</th>`;
    const on = sorting.sort === c.key;
    const dir: SortDir = on && sorting.dir === 'asc' ? 'desc' : on ? 'asc' : c.numeric ? 'desc' : 'asc';
    const href = `/queues${queryString({ sort: c.key, dir, q: sorting.q })}`;
    const arrow = on ? (sorting.dir === 'asc' ? ' ▲' : ' ▼') : '';
    return `<th${cls} title="${esc(c.description)}"${on ? ` aria-sort="${sorting.dir === 'asc' ? 'ascending' : 'descending'}"` : ''}><a href="${esc(href)}">${esc(c.label)}</a>${arrow}</th>`;
  }).join('');
  const admin = ctx.csrf !== null;
  const body = rows
    .map((r) => `<tr data-queue="${esc(r.name)}">${QUEUE_COLUMNS.map((c) => cell(c, r)).join('')}${admin ? `<td>${queueButtons(ctx, r)}</td>` : ''}</tr>`)
    .join('');
  const empty = `<tr><td colspan="${QUEUE_COLUMNS.length + (admin ? 1 : 0)}" class="muted">no queue</td></tr>`;
  return `<table class="queues"><thead><tr>${head}${admin ? '<th>admin</th>' : ''}</tr></thead><tbody>${body || empty}</tbody></table>`;
}

/** The `/queues` page. */
export function renderQueueTable(ctx: ViewContext, data: QueueTableData, p: QueueTableParams): string {
  const rows = sortQueueRows(filterQueueRows(data.rows, p.q), p.sort, p.dir);
  const form =
    `<form class="filter" method="get" action="/queues"><label>name contains <input type="search" name="q" value="${esc(p.q)}"></label>` +
    `<input type="hidden" name="sort" value="${esc(p.sort)}"><input type="hidden" name="dir" value="${esc(p.dir)}"> <button type="submit">filter</button>` +
    (p.q === '' ? '' : ` <a href="/queues${esc(queryString({ sort: p.sort, dir: p.dir }))}">clear</a>`) +
    `</form>`;
  const paused = data.rows.filter((r) => r.paused).length;
  const blocked = data.rows.filter((r) => r.blocked !== null).length;
  const body =
    `<h1>Queues</h1><p>${data.rows.length} queue(s), ${rows.length} shown · ${paused} paused · ${blocked} blocked · exiting is reported by pilots to apfmon only (${UNKNOWN} here)</p>` +
    form +
    queueTable(ctx, rows, p);
  return page(ctx, { title: 'queues', nav: 'queues', api: '/api/v1/queues', body });
}
