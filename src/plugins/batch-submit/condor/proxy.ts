/**
 * The X.509 proxy of a grid queue (APF's `CondorGrid._getX509Proxy` through the AuthManager).
 * Resolved once when the submitter is built, as APF did at construction.
 */
import type { AuthProfile } from '../../../config/types.ts';

/** Where the proxy path came from. */
export type ProxySource = 'profile' | 'proxyfile' | 'none';

/** Result of {@link resolveProxy}. */
export interface ProxyResolution {
  /** The path for `x509userproxy`, or undefined when nothing gives one. */
  readonly path: string | undefined;
  readonly source: ProxySource;
  /** The profile that gave the path (source `profile`). */
  readonly profile?: string;
  /** Why listed profiles gave nothing (unknown name, no proxyfile), for the warning. */
  readonly skipped: readonly string[];
}

/**
 * The proxy path of a queue: the first profile of `profiles` (in the order written) that exists in
 * auth.conf and has a `proxyfile`; otherwise `proxyfile` when set; otherwise none (the caller
 * warns, and HTCondor will refuse a grid job without a proxy).
 */
export function resolveProxy(
  profiles: readonly string[],
  proxyfile: string | undefined,
  auth: ReadonlyMap<string, AuthProfile>,
): ProxyResolution {
  const skipped: string[] = [];
  for (const name of profiles) {
    const profile = auth.get(name);
    if (profile === undefined) {
      skipped.push(`${name}: no such auth profile`);
      continue;
    }
    const path = profile.proxyfile?.trim();
    if (path === undefined || path === '') {
      skipped.push(`${name}: profile has no proxyfile`);
      continue;
    }
    return { path, source: 'profile', profile: name, skipped };
  }
  const explicit = proxyfile?.trim();
  if (explicit !== undefined && explicit !== '') return { path: explicit, source: 'proxyfile', skipped };
  return { path: undefined, source: 'none', skipped };
}
