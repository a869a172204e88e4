import { describe, expect, it } from 'vitest';
import { ApfError } from '../../../src/errors.ts';
import { instanceIdProblem, resolveInstanceId } from '../../../src/util/instance-id.ts';

describe('util/instance-id', () => {
  it('accepts hostnames, FQDNs and pod names; refuses what would break a record, a tag or an owner', () => {
    for (const ok of ['node1', 'apf-0', 'submit01.cern.ch', 'A_b.9', 'x'.repeat(253)]) expect(instanceIdProblem(ok), ok).toBeNull();
    expect(instanceIdProblem('')).toBe('is empty');
    expect(instanceIdProblem('x'.repeat(254))).toBe('is longer than 253 characters');
    for (const bad of ['a b', 'a\tb', 'a\nb', 'a"b', 'a:1', '-lead', '.hidden', 'a/b', 'nöde']) expect(instanceIdProblem(bad), bad).toMatch(/^must start with a letter or digit/);
  });

  it('takes --instance, else instance.id, else the hostname, and names the source of a bad one', () => {
    expect(resolveInstanceId('a', 'b', 'h')).toBe('a');
    expect(resolveInstanceId(undefined, 'b', 'h')).toBe('b');
    expect(resolveInstanceId(undefined, undefined, 'h')).toBe('h');
    const thrown = (f: () => unknown): ApfError => {
      try {
        f();
      } catch (err) {
        if (err instanceof ApfError) return err;
      }
      throw new Error('no ApfError thrown');
    };
    const flag = thrown(() => resolveInstanceId('a b', 'ok', 'h'));
    expect(flag.code).toBe('APF_ERR_USAGE');
    expect(flag.message).toBe('instance id "a b" (from --instance) must start with a letter or digit and hold only letters, digits, ".", "-" and "_" (like a hostname)');
    expect(thrown(() => resolveInstanceId(undefined, undefined, 'bad host')).message).toContain('(from the hostname; set --instance or instance.id)');
  });
});
