/** Pure parts of the admin API: drill request validation, who acts, the drill key. */
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/web/router.ts';
import { parseDrillRequest, whoOf } from '../../../src/web/routes/admin.ts';
import { Keys } from '../../../src/coordination/keys.ts';

function refusal(body: string): HttpError {
  try {
    parseDrillRequest(body);
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error(`accepted ${body}`);
}

describe('web/routes/admin', () => {
  it('accepts an empty body and the known fields', () => {
    expect(parseDrillRequest('')).toEqual({});
    expect(parseDrillRequest(Buffer.from('  \n'))).toEqual({});
    expect(parseDrillRequest('{}')).toEqual({});
    expect(parseDrillRequest('{"instance":"node2","timeoutSeconds":90.5}')).toEqual({ instance: 'node2', timeoutSeconds: 90.5 });
  });

  it('refuses malformed JSON and wrong types with a 400 naming the field', () => {
    expect(refusal('{"instance":').message).toMatch(/^malformed JSON body/);
    expect(refusal('{"timeoutSeconds":"60"}').message).toMatch(/^field "timeoutSeconds": /);
    expect(refusal('{"timeoutSeconds":-1}').message).toMatch(/^field "timeoutSeconds": /);
    expect(refusal('{"timeoutSeconds":100000}').message).toMatch(/^field "timeoutSeconds": /);
    expect(refusal('{"instance":""}').message).toMatch(/^field "instance": /);
    expect(refusal('{"instance":null}').message).toMatch(/^field "instance": /);
    expect(refusal('{"kill":true}').message).toMatch(/^body: .*kill/);
    expect(refusal('"node2"').message).toMatch(/^body: /);
    expect(refusal('[]').status).toBe(400);
  });

  it('names the token holder and the remote address', () => {
    expect(whoOf({ remoteAddress: '10.0.0.7' })).toBe('token@web:10.0.0.7');
    expect(whoOf({ remoteAddress: '::1' })).toBe('token@web:::1');
    expect(whoOf({ remoteAddress: '' })).toBe('token@web:unknown');
  });

  it('keeps drill records under the cluster prefix', () => {
    expect(new Keys('apf').drill('0f1e')).toBe('apf:drill:0f1e');
    expect(new Keys('site-b').drill('x')).toBe('site-b:drill:x');
  });
});
