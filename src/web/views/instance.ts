/**
 * `/instances/:id`: apfmon's factory page for one instance — version, last start-up, last cycle,
 * admin email, host, links to its pilot logs and to the effective configuration, its activity and
 * the queues whose last cycle it ran.
 */
import { esc } from '../router.ts';
import type { InstanceData } from './data.ts';
import { fmtAge, fmtTime, instanceHref } from './format.ts';
import { actionForm, page, type ViewContext } from './layout.ts';
import { shownState } from './overview.ts';
import { queueTable } from './queues.ts';
import { sparkline } from './svg.ts';

/** What the page shows of the serving instance's configuration. */
export interface InstanceConfigFacts {
  readonly factoryId: string;
  readonly factoryAdminEmail: string;
  readonly baseLogDirUrl: string;
}

/** The instance page. */
export function renderInstance(ctx: ViewContext, d: InstanceData, cfg: InstanceConfigFacts): string {
  const i = d.entry.instance;
  const state = shownState(i);
  const self = i.id === ctx.self;
  const kv = (k: string, v: string): string => `<dt>${esc(k)}</dt><dd>${v}</dd>`;
  const total = d.entry.activity.reduce((s, v) => s + v, 0);
  // Admin email, logs and config are this server's configuration: the same on every instance
  // when they share it (the config hash says whether they do).
  const remote =
    !self && i.webPort !== null
      ? kv('its monitor', `<a href="${esc(`http://${i.host}:${i.webPort}${instanceHref(i.id)}`)}">${esc(`http://${i.host}:${i.webPort}/`)}</a>`)
      : '';
  const facts =
    kv('state', `<span class="badge ${esc(state)}">${esc(state)}</span>`) +
    kv('version', esc(i.version)) +
    kv('factory', esc(cfg.factoryId)) +
    kv('host', `${esc(i.host)} <span class="muted">pid ${i.pid}</span>`) +
    kv('last start-up', `${esc(fmtTime(i.startedAt))} <span class="muted">(${esc(fmtAge(ctx.now - i.startedAt))} ago)</span>`) +
    kv('last seen', `${esc(fmtAge(i.heartbeatAgeMs))} ago`) +
    kv('last cycle', i.lastCycleAt === null ? 'none yet' : `${esc(fmtTime(i.lastCycleAt))} <span class="muted">(${esc(fmtAge(ctx.now - i.lastCycleAt))} ago)</span>`) +
    kv('admin email', `<a href="${esc(`mailto:${cfg.factoryAdminEmail}`)}">${esc(cfg.factoryAdminEmail)}</a>`) +
    kv('pilot logs', `<a href="${esc(cfg.baseLogDirUrl)}/">${esc(cfg.baseLogDirUrl)}/</a>`) +
    kv('configuration', `<a href="/api/v1/config">effective queues config</a> <span class="muted">hash ${esc(i.configHash.slice(0, 12))}${i.configMismatch ? ' (differs from the majority)' : ''}</span>`) +
    remote +
    kv('activity (2 h)', `${sparkline(d.entry.activity, { title: `${total} pilots created in the last 2 h by ${i.id}` })} ${total} pilots, ${d.entry.cycles} cycles`);
  const toggle = i.state === 'draining'
    ? actionForm(ctx, `/ui/instances/${encodeURIComponent(i.id)}/undrain`, 'undrain')
    : actionForm(ctx, `/ui/instances/${encodeURIComponent(i.id)}/drain`, 'drain');
  const body =
    `<h1>${esc(i.id)}${self ? ' <span class="muted">(this instance)</span>' : ''}</h1>` +
    (toggle === '' ? '' : `<p>${toggle}</p>`) +
    `<dl class="kv">${facts}</dl>` +
    `<h2>Queues whose last cycle ran here (${d.queues.length})</h2>` +
    queueTable(ctx, d.queues, null);
  return page(ctx, { title: i.id, nav: self ? 'instance' : 'overview', api: `/api/v1/instances/${encodeURIComponent(i.id)}`, body });
}
