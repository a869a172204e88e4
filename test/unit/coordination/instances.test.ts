import { describe, expect, it } from 'vitest';
import { decodeInstance, encodeInstance } from '../../../src/coordination/instances.ts';
import type { InstanceRecord } from '../../../src/coordination/records.ts';

const REC: InstanceRecord = {
  id: 'host-a',
  owner: 'host-a:1234:1800000000000',
  host: 'host-a.example.org',
  pid: 1234,
  version: '0.1.0',
  configHash: 'abc123',
  startedAt: 1_800_000_000_000,
  heartbeatAt: 1_800_000_010_000,
  lastCycleAt: null,
  state: 'active',
  webPort: null,
};

describe('coordination/instances', () => {
  it('round-trips a registration through its hash fields, nulls as empty fields', () => {
    const h = encodeInstance(REC);
    expect(h['lastCycleAt']).toBe('');
    expect(h['webPort']).toBe('');
    expect(Object.values(h).every((v) => typeof v === 'string')).toBe(true);
    expect(decodeInstance(h)).toEqual(REC);
    const busy = { ...REC, lastCycleAt: 1_800_000_005_000, webPort: 8080, state: 'draining' as const };
    expect(decodeInstance(encodeInstance(busy))).toEqual(busy);
  });

  it('refuses an empty or damaged hash', () => {
    expect(decodeInstance({})).toBeNull();
    const h = encodeInstance(REC);
    expect(decodeInstance({ ...h, state: 'sleeping' })).toBeNull();
    expect(decodeInstance({ ...h, pid: 'x' })).toBeNull();
    expect(decodeInstance({ ...h, heartbeatAt: '' })).toBeNull();
    const { owner: _owner, ...noOwner } = h;
    expect(decodeInstance(noOwner)).toBeNull();
  });
});
