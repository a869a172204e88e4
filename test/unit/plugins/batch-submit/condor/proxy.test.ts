import { describe, expect, it } from 'vitest';
import type { AuthProfile } from '../../../../../src/config/types.ts';
import { resolveProxy } from '../../../../../src/plugins/batch-submit/condor/proxy.ts';

function auth(profiles: Record<string, string | undefined>): Map<string, AuthProfile> {
  return new Map(Object.entries(profiles).map(([name, proxyfile]) => [name, { name, plugin: proxyfile === undefined ? 'SSH' : 'X509', proxyfile, raw: new Map() }]));
}

describe('plugins/batch-submit/condor/proxy', () => {
  const AUTH = auth({ 'atlas-production': '/tmp/prodProxy', 'atlas-pilot': '/tmp/pilotProxy', 'ssh-bosco': undefined, blank: '  ' });

  it('takes the first listed profile that has a proxyfile, in the order written', () => {
    expect(resolveProxy(['atlas-pilot', 'atlas-production'], undefined, AUTH)).toEqual({ path: '/tmp/pilotProxy', source: 'profile', profile: 'atlas-pilot', skipped: [] });
    const r = resolveProxy(['missing', 'ssh-bosco', 'blank', 'atlas-production'], '/tmp/explicit', AUTH);
    expect(r.path).toBe('/tmp/prodProxy');
    expect(r.profile).toBe('atlas-production');
    expect(r.skipped).toEqual(['missing: no such auth profile', 'ssh-bosco: profile has no proxyfile', 'blank: profile has no proxyfile']);
  });

  it('falls back to proxyfile, then to none', () => {
    expect(resolveProxy(['missing'], '/tmp/explicit', AUTH)).toMatchObject({ path: '/tmp/explicit', source: 'proxyfile' });
    expect(resolveProxy([], ' /tmp/x ', AUTH)).toMatchObject({ path: '/tmp/x', source: 'proxyfile' });
    expect(resolveProxy([], undefined, AUTH)).toEqual({ path: undefined, source: 'none', skipped: [] });
    expect(resolveProxy(['ssh-bosco'], '', AUTH)).toMatchObject({ path: undefined, source: 'none' });
  });
});
