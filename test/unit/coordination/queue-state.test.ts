/**
 * The pure parts of queue state: parsing the stored records (a corrupt value is an error, never a
 * silently empty record) and option validation. The fenced writes run against a real Redis in
 * test/integration/coordination/queue-state.test.ts.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isApfError } from '../../../src/errors.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { parseCycleRecord, parseSlotRecord, QueueState } from '../../../src/coordination/queue-state.ts';

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('coordination/queue-state', () => {
  it('parses slot records and keeps 16-digit tokens exact', () => {
    const text = '{"token":1795634926145001,"owner":"i1:42:1","phase":"submitted","at":1795634926145,"n":2,"jobIds":["7.0","7.1"]}';
    const r = parseSlotRecord(text);
    expect(r.token).toBe(1_795_634_926_145_001);
    expect(r.jobIds).toEqual(['7.0', '7.1']);
    expect(r.phase).toBe('submitted');
  });

  it('rejects corrupt slot records with APF_ERR_REDIS naming the key', () => {
    for (const bad of ['not json', 'null', '{"token":"1","owner":"o","phase":"planned","at":1}', '{"token":1,"owner":"o","phase":"weird","at":1}', '{"token":1,"phase":"planned","at":1}']) {
      const err = errorOf(() => parseSlotRecord(bad, 'apf:q:{q:Q}:slot:1'));
      expect(isApfError(err, 'APF_ERR_REDIS'), bad).toBe(true);
      expect((err as Error).message).toContain('apf:q:{q:Q}:slot:1');
    }
  });

  it('parses cycle records and rejects values that are not one', () => {
    const rec = parseCycleRecord(JSON.stringify({ queue: 'Q', token: 5, outcome: 'submitted', n: 3 }));
    expect(rec.queue).toBe('Q');
    expect(rec.n).toBe(3);
    for (const bad of ['[]', '{"queue":"Q","outcome":"x"}', '{']) expect(isApfError(errorOf(() => parseCycleRecord(bad)), 'APF_ERR_REDIS'), bad).toBe(true);
  });

  it('needs a positive integer history size', () => {
    // A lazy client never connects: only the constructor's validation runs.
    const redis = new Redis({ lazyConnect: true });
    for (const history of [0, -1, 1.5]) {
      expect(isApfError(errorOf(() => new QueueState(redis, new Keys('apf'), { history })), 'APF_ERR_CONFIG_INVALID')).toBe(true);
    }
    expect(new QueueState(redis, new Keys('apf'), { history: 1 })).toBeInstanceOf(QueueState);
    redis.disconnect();
  });
});
