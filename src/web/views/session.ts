/**
 * The monitor's browser session for admin buttons (the JSON admin API stays bearer-only).
 *
 * A visitor proves they hold the admin token once, on `/login`; the cookie then holds
 * `<expiry>.<HMAC-SHA256 keyed by the token over the expiry>` — never the token itself, so a
 * leaked cookie does not leak the token, and changing the token invalidates every session. Each
 * admin form carries a CSRF field, an HMAC of the session, checked on every POST (SameSite=Strict
 * already keeps other sites' forms from sending the cookie; the field is the second lock).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'apf_session';

/** How long a login lasts. */
export const SESSION_TTL_MS = 12 * 3_600_000;

function mac(token: string, purpose: string, data: string): string {
  return createHmac('sha256', token).update(`apf-monitor:${purpose}\u0000${data}`).digest('base64url');
}

/** Constant-time string comparison (false for different lengths). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * True when `given` is the admin token. Both sides are HMACed first so the comparison is
 * constant-time whatever the lengths.
 */
export function tokenMatches(given: string, token: string): boolean {
  return safeEqual(mac('login', 'k', given), mac('login', 'k', token));
}

/** A new session value valid until `now + ttlMs`. */
export function issueSession(token: string, now: number, ttlMs = SESSION_TTL_MS): string {
  const exp = String(Math.floor(now + ttlMs));
  return `${exp}.${mac(token, 'session', exp)}`;
}

/** True when `value` is a session issued under `token` that has not expired at `now`. */
export function sessionValid(value: string | undefined, token: string | undefined, now: number): boolean {
  if (value === undefined || token === undefined) return false;
  const m = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (m === null) return false;
  const exp = m[1] as string;
  return Number(exp) > now && safeEqual(m[2] as string, mac(token, 'session', exp));
}

/** The CSRF field that admin forms of `session` carry. */
export function csrfFor(session: string, token: string): string {
  return mac(token, 'csrf', session);
}

/** True when `field` is the CSRF value of `session`. */
export function csrfValid(field: string | null | undefined, session: string, token: string): boolean {
  return typeof field === 'string' && safeEqual(field, csrfFor(session, token));
}

/** Parses a Cookie header into name → value (first occurrence wins; values are not decoded). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of (header ?? '').split(';')) {
    const part = raw.trim();
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    if (!out.has(name)) out.set(name, part.slice(i + 1).trim());
  }
  return out;
}

/**
 * The Set-Cookie value for a session (`value` '' and `maxAgeS` 0 clear it). `Secure` is added when
 * the visitor came over HTTPS (directly or through a proxy that says so): a plain-HTTP monitor
 * would otherwise never get its cookie back.
 */
export function sessionCookie(value: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(maxAgeS))}${secure ? '; Secure' : ''}`;
}

/**
 * A safe place to send the visitor back to: a path on this server (`/…`, not `//host` nor a
 * backslash trick), else `/`.
 */
export function localPath(target: string | null | undefined): string {
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//') || /[\\\r\n\t]/.test(target) || target.length > 2048) return '/';
  return target;
}
