/** `/login`: the admin token form (POST), shown with an error after a wrong token. */
import { esc } from '../router.ts';
import { page, type ViewContext } from './layout.ts';

/** The login page. */
export function renderLogin(ctx: ViewContext, next: string, error: string | null): string {
  const body = !ctx.adminEnabled
    ? `<h1>Admin log-in</h1><p class="notice">admin actions are disabled on this instance (no <code>web.admin_token_file</code>)</p>`
    : `<h1>Admin log-in</h1>` +
      (error === null ? '' : `<p class="notice error">${esc(error)}</p>`) +
      `<form class="login" method="post" action="/login"><input type="hidden" name="next" value="${esc(next)}">` +
      `<label>admin token <input type="password" name="token" autocomplete="current-password" required autofocus></label> <button type="submit">log in</button></form>` +
      `<p class="muted">The token is checked and forgotten; the session cookie holds an HMAC of it, for 12 hours.</p>`;
  return page(ctx, { title: 'log in', nav: 'login', api: null, body });
}
