/**
 * The pure parts of the queue lease: timing defaults and validation, the fence seed, and how a
 * redlock rejection is classified (held by another vs Redis unreachable vs local expiry).
 */
import { ExecutionError, ResourceLockedError, type ExecutionStats } from '@sesamecare-oss/redlock';
import { describe, expect, it } from 'vitest';
import { isApfError } from '../../../src/errors.ts';
import { classifyRedlockError, fenceSeed, leaseTimings } from '../../../src/coordination/lease.ts';

/** A redlock failure whose single attempt got these "against" votes. */
function failure(...errors: Error[]): ExecutionError {
  const client = {} as never;
  const stats: ExecutionStats = {
    membershipSize: errors.length,
    quorumSize: 1,
    votesFor: new Set(),
    votesAgainst: new Map(errors.map((e, i) => [i === 0 ? client : ({} as never), e])),
  };
  return new ExecutionError('The operation was unable to achieve a quorum during its retry window.', [Promise.resolve(stats)]);
}

describe('coordination/lease', () => {
  describe('leaseTimings', () => {
    it('defaults: renew every ttl/3, safety min(5 s, ttl/5), drift 1 %', () => {
      expect(leaseTimings({ ttlMs: 30_000 })).toEqual({ ttlMs: 30_000, renewEveryMs: 10_000, safetyMs: 5000, driftFactor: 0.01, validityMs: 24_700 });
      const short = leaseTimings({ ttlMs: 1500 });
      expect(short.safetyMs).toBe(300);
      expect(short.renewEveryMs).toBe(500);
      expect(short.validityMs).toBeCloseTo(1185, 6);
    });

    it('explicit values win', () => {
      const t = leaseTimings({ ttlMs: 10_000, renewEveryMs: 1000, safetyMs: 2000, driftFactor: 0.05 });
      expect(t.validityMs).toBeCloseTo(10_000 * 0.95 - 2000, 6);
      expect(t.renewEveryMs).toBe(1000);
    });

    it('refuses timings where the lease would expire between two renewals', () => {
      for (const bad of [{ ttlMs: 0 }, { ttlMs: 1000, safetyMs: 900 }, { ttlMs: 1000, renewEveryMs: 900 }, { ttlMs: 1000, renewEveryMs: 0 }]) {
        let caught: unknown;
        try {
          leaseTimings(bad);
        } catch (err) {
          caught = err;
        }
        expect(isApfError(caught, 'APF_ERR_CONFIG_INVALID'), JSON.stringify(bad)).toBe(true);
      }
    });
  });

  describe('fenceSeed', () => {
    it('is the wall clock in microsecond units, a safe integer for centuries', () => {
      expect(fenceSeed(1_795_634_926_145)).toBe(1_795_634_926_145_000);
      expect(fenceSeed(1000.7)).toBe(1_000_000);
      expect(Number.isSafeInteger(fenceSeed(Date.UTC(2250, 0, 1)))).toBe(true);
      expect(fenceSeed(1001)).toBeGreaterThan(fenceSeed(1000) + 999);
    });
  });

  describe('classifyRedlockError', () => {
    it('"held by another" only when every vote against is a ResourceLockedError', async () => {
      const locked = new ResourceLockedError('The operation was applied to: 0 of the 1 requested resources.');
      expect((await classifyRedlockError(failure(locked))).kind).toBe('locked');
      const timeout = new Error('Command timed out');
      const mixed = await classifyRedlockError(failure(locked, timeout));
      expect(mixed.kind).toBe('unreachable');
      expect(mixed.cause).toBe(timeout);
      expect((await classifyRedlockError(failure(timeout))).kind).toBe('unreachable');
    });

    it('a refusal without any attempt is redlock\'s local expiry; anything else is unreachable', async () => {
      expect((await classifyRedlockError(new ExecutionError('Cannot extend an already-expired lock.', []))).kind).toBe('expired');
      expect((await classifyRedlockError(new Error('boom'))).kind).toBe('unreachable');
    });
  });
});
