/**
 * The page frame shared by every monitor page: header with navigation and login state, the
 * page's body, and a footer linking the JSON equivalent. Plain HTML and inline CSS: every page
 * works without JavaScript.
 */
import { esc } from '../router.ts';
import { fmtTime, instanceHref } from './format.ts';
import { MONITOR_CSS } from './style.ts';

/** What every view needs to know about the request. */
export interface ViewContext {
  readonly now: number;
  /** Id of the instance serving the page. */
  readonly self: string;
  readonly version: string;
  /** The CSRF field for admin forms when the visitor is logged in, else null (no buttons). */
  readonly csrf: string | null;
  /** Whether this server has an admin token at all (else the login link is not offered). */
  readonly adminEnabled: boolean;
  /** This page's path and query: admin forms return here. */
  readonly here: string;
}

/** Which navigation entry is current. */
export type NavItem = 'overview' | 'queues' | 'instance' | 'login' | 'none';

/** One page. */
export interface PageSpec {
  readonly title: string;
  readonly nav: NavItem;
  /** The /api/v1 equivalent of this page, linked in the footer; null when there is none. */
  readonly api: string | null;
  /** Inner HTML (already escaped by its template). */
  readonly body: string;
}

/** A POST form with one button, shown only to a logged-in visitor (else ''). */
export function actionForm(ctx: ViewContext, action: string, label: string, extra = ''): string {
  if (ctx.csrf === null) return '';
  return (
    `<form class="act" method="post" action="${esc(action)}">` +
    `<input type="hidden" name="csrf" value="${esc(ctx.csrf)}"><input type="hidden" name="back" value="${esc(ctx.here)}">` +
    `${extra}<button type="submit" name="do" value="${esc(label)}">${esc(label)}</button></form>`
  );
}

function who(ctx: ViewContext): string {
  if (ctx.csrf !== null) {
    return (
      `<span class="badge active">admin</span>` +
      `<form class="act" method="post" action="/logout"><input type="hidden" name="back" value="${esc(ctx.here)}"><button type="submit">log out</button></form>`
    );
  }
  if (!ctx.adminEnabled) return '';
  return `<a href="/login?next=${esc(encodeURIComponent(ctx.here))}">log in</a>`;
}

/** The whole HTML document. */
export function page(ctx: ViewContext, p: PageSpec): string {
  const nav = (item: NavItem, href: string, text: string): string => `<a href="${esc(href)}"${p.nav === item ? ' class="on"' : ''}>${esc(text)}</a>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(p.title)} · apf</title><style>${MONITOR_CSS}</style></head>
<body><header><span class="brand">apf monitor</span><nav>${nav('overview', '/', 'factories')}${nav('queues', '/queues', 'queues')}${nav('instance', instanceHref(ctx.self), `this instance (${ctx.self})`)}</nav>
<span class="who">${who(ctx)}</span></header>
<main>${p.body}</main>
<footer>${p.api === null ? '' : `JSON: <a href="${esc(p.api)}">${esc(p.api)}</a> · `}served by ${esc(ctx.self)} · apf ${esc(ctx.version)} · ${esc(fmtTime(ctx.now))}</footer>
</body></html>
`;
}

/** A page that only says something went wrong (with a way back). */
export function messagePage(ctx: ViewContext, title: string, message: string, back = '/'): string {
  return page(ctx, {
    title,
    nav: 'none',
    api: null,
    body: `<h1>${esc(title)}</h1><p class="notice error">${esc(message)}</p><p><a href="${esc(back)}">back</a></p>`,
  });
}
