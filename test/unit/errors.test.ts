import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApfError, ERROR_CODES, describeError, isApfError } from '../../src/errors.ts';

describe('errors', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

  it('documents every error code in docs/errors.md', () => {
    const missing = Object.keys(ERROR_CODES).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/`(APF_ERR_[A-Z_]+)`/g)].map((m) => m[1]);
    const unknown = documented.filter((c) => !(c !== undefined && c in ERROR_CODES));
    expect(unknown).toEqual([]);
  });

  it('carries code, details and cause', () => {
    const cause = new Error('inner');
    const err = new ApfError('APF_ERR_HTTP', 'boom', { cause, details: { url: 'http://x' } });
    expect(err.code).toBe('APF_ERR_HTTP');
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ url: 'http://x' });
    expect(isApfError(err, 'APF_ERR_HTTP')).toBe(true);
    expect(isApfError(err, 'APF_ERR_SCHED')).toBe(false);
    expect(describeError(err)).toBe('APF_ERR_HTTP: boom');
    expect(new ApfError('APF_ERR_SCHED').message).toBe(ERROR_CODES.APF_ERR_SCHED);
  });
});
