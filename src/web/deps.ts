/**
 * What the web server needs from the instance that hosts it. The server reads Redis through its
 * own connection and never takes part in a cycle: a failure in it never affects submission.
 */
import type { Redis } from 'ioredis';
import type { ApfConfig } from '../config/types.ts';
import type { Keys } from '../coordination/keys.ts';
import type { Logger } from '../logging/logger.ts';

/** Readiness of the hosting instance. */
export interface Readiness {
  readonly ok: boolean;
  readonly checks: Readonly<Record<string, { readonly ok: boolean; readonly detail?: string }>>;
}

/** Dependencies of {@link buildServer}. */
export interface WebDeps {
  /** The configuration in use (changes on reload). */
  readonly config: () => ApfConfig;
  /** A Redis connection for the web server alone. */
  readonly redis: Redis;
  readonly keys: Keys;
  /** This instance's id (the "factory / instance view" of this host). */
  readonly instanceId: string;
  readonly version: string;
  readonly logger: Logger;
  /** The admin bearer token (read from `web.admin_token_file`), or undefined: admin actions disabled. */
  readonly adminToken: () => string | undefined;
  /** /readyz: Redis reachable, config valid. */
  readonly ready: () => Promise<Readiness>;
  /** Prometheus exposition text (/metrics). */
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
  /** Current time (injectable for tests). */
  readonly now: () => number;
}
