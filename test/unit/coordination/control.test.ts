import { describe, expect, it } from 'vitest';
import { parseControlMessage } from '../../../src/coordination/control.ts';

describe('coordination/control', () => {
  it('accepts every kind of control message', () => {
    const msgs = [
      { action: 'reload', by: 'ops@h' },
      { action: 'drain', instance: 'a', by: 'ops@h' },
      { action: 'undrain', instance: 'a', by: 'ops@h' },
      { action: 'freeze', instance: 'a', durationMs: 60_000, by: 'ops@h' },
      { action: 'thaw', instance: 'a', by: 'ops@h' },
      { action: 'run-now', queue: 'ANALY_X', by: 'ops@h' },
    ];
    for (const m of msgs) expect(parseControlMessage(JSON.stringify(m))).toEqual({ ok: true, message: m });
  });

  it('strips unknown fields (a newer sender may add some)', () => {
    expect(parseControlMessage('{"action":"reload","by":"x","extra":1}')).toEqual({ ok: true, message: { action: 'reload', by: 'x' } });
  });

  it('refuses garbage with a reason', () => {
    const bad = [
      'hello',
      '42',
      'null',
      '{"action":"explode","by":"x"}',
      '{"action":"drain","by":"x"}',
      '{"action":"freeze","instance":"a","durationMs":-5,"by":"x"}',
      '{"action":"freeze","instance":"a","durationMs":"60","by":"x"}',
      '{"action":"run-now","queue":"","by":"x"}',
      '{"action":"reload"}',
    ];
    for (const t of bad) {
      const r = parseControlMessage(t);
      expect(r.ok, t).toBe(false);
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
    }
  });
});
