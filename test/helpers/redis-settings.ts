import type { RedisSettings } from '../../src/config/types.ts';

/** Redis settings as an empty `[Factory]` gives them (no AUTH, TLS or Sentinel), changed by `over`. */
export function redisSettings(over: Partial<RedisSettings> = {}): RedisSettings {
  return {
    url: undefined,
    username: undefined,
    passwordFile: undefined,
    tls: { ca: undefined, cert: undefined, key: undefined },
    sentinels: [],
    sentinelMaster: 'mymaster',
    sentinelPasswordFile: undefined,
    commandTimeoutMs: 2000,
    ...over,
  };
}
