import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApfError } from '../../../../../src/errors.ts';
import { parseCricStatus } from '../../../../../src/plugins/wms-status/panda/cric.ts';

const dump = readFileSync(new URL('../../../../fixtures/cric/pandaqueue_query_json.json', import.meta.url), 'utf8');

function responseError(body: string): ApfError {
  try {
    parseCricStatus(body);
  } catch (err) {
    if (err instanceof ApfError && err.code === 'APF_ERR_WMS_RESPONSE') return err;
    throw new Error(`expected APF_ERR_WMS_RESPONSE, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a rejection');
}

describe('plugins/wms-status/panda/cric', () => {
  it('reads the status of every queue of the CRIC dump', () => {
    const sites = parseCricStatus(dump);
    expect(sites.get('CERN')).toEqual({ status: 'online' });
    expect(sites.get('UKI-NORTHGRID-LANCS-HEP_UCORE')).toEqual({ status: 'test' });
    expect(sites.size).toBe(2);
  });

  it("a record without status (or status null) reads as ''", () => {
    const sites = parseCricStatus('{"A": {"nickname": "A"}, "B": {"status": null}}');
    expect(sites.get('A')).toEqual({ status: '' });
    expect(sites.get('B')).toEqual({ status: '' });
  });

  it('lists a record under its panda_resource too, without overriding a real key', () => {
    const sites = parseCricStatus(
      '{"Q1": {"status": "offline", "panda_resource": "RES1"}, "Q2": {"status": "test", "panda_resource": "Q3"}, "Q3": {"status": "online"}}',
    );
    expect(sites.get('RES1')).toEqual({ status: 'offline' });
    expect(sites.get('Q3')).toEqual({ status: 'online' });
  });

  it('refuses a wrong status type naming the queue and field', () => {
    expect(responseError('{"CERN": {"status": 5}}').message).toContain('CERN.status');
  });

  it('refuses an error object (not a dict of records) naming the field', () => {
    expect(responseError('{"success": false, "message": "boom"}').message).toContain('success');
    expect(responseError('[]').message).toContain('(root)');
  });

  it('refuses a body that is not JSON, quoting its start', () => {
    expect(responseError('<html>502 Bad Gateway</html>').message).toContain('not JSON (starts with "<html>502');
  });
});
