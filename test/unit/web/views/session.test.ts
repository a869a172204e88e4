import { describe, expect, it } from 'vitest';
import { csrfFor, csrfValid, issueSession, localPath, parseCookies, safeEqual, sessionCookie, sessionValid, tokenMatches } from '../../../../src/web/views/session.ts';

const T = 'the-admin-token';
const NOW = 1_795_641_100_000;

describe('web/views/session', () => {
  it('issues sessions that hold an HMAC and an expiry, never the token', () => {
    const s = issueSession(T, NOW, 60_000);
    expect(s).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/);
    expect(s.startsWith(`${NOW + 60_000}.`)).toBe(true);
    expect(s).not.toContain(T);
    expect(issueSession(T, NOW, 60_000)).toBe(s);
    expect(issueSession('other', NOW, 60_000)).not.toBe(s);
  });

  it('accepts a session only under the same token and before it expires', () => {
    const s = issueSession(T, NOW, 60_000);
    expect(sessionValid(s, T, NOW)).toBe(true);
    expect(sessionValid(s, T, NOW + 59_999)).toBe(true);
    expect(sessionValid(s, T, NOW + 60_000)).toBe(false);
    expect(sessionValid(s, 'rotated-token', NOW)).toBe(false);
    expect(sessionValid(s, undefined, NOW)).toBe(false);
    expect(sessionValid(undefined, T, NOW)).toBe(false);
    // a forged expiry breaks the MAC
    const [, mac] = s.split('.');
    expect(sessionValid(`${NOW + 999_999_999}.${mac}`, T, NOW)).toBe(false);
    expect(sessionValid('garbage', T, NOW)).toBe(false);
  });

  it('derives a CSRF field per session', () => {
    const a = issueSession(T, NOW);
    const b = issueSession(T, NOW + 1);
    expect(csrfFor(a, T)).not.toBe(csrfFor(b, T));
    expect(csrfValid(csrfFor(a, T), a, T)).toBe(true);
    expect(csrfValid(csrfFor(b, T), a, T)).toBe(false);
    expect(csrfValid(null, a, T)).toBe(false);
    expect(csrfValid('', a, T)).toBe(false);
  });

  it('compares tokens and strings without length shortcuts in the result', () => {
    expect(tokenMatches(T, T)).toBe(true);
    expect(tokenMatches(`${T}x`, T)).toBe(false);
    expect(tokenMatches('', T)).toBe(false);
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'ab')).toBe(false);
  });

  it('parses cookies and writes the session cookie attributes', () => {
    const c = parseCookies('a=1; apf_session=12.xyz; a=2; junk; =x');
    expect(c.get('a')).toBe('1');
    expect(c.get('apf_session')).toBe('12.xyz');
    expect(c.size).toBe(2);
    expect(parseCookies(undefined).size).toBe(0);
    expect(sessionCookie('v', 3600, false)).toBe('apf_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600');
    expect(sessionCookie('', 0, true)).toBe('apf_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure');
  });

  it('only redirects to paths on this server', () => {
    expect(localPath('/queues?sort=pending')).toBe('/queues?sort=pending');
    expect(localPath('/queues/we%2Fird')).toBe('/queues/we%2Fird');
    for (const bad of ['//evil.org/', 'http://evil.org/', '/\\evil.org', 'queues', '', null, undefined, '/a\r\nSet-Cookie: x=1']) {
      expect(localPath(bad), String(bad)).toBe('/');
    }
  });
});
