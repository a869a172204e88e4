/** Pure parts of the JSON API: limit parsing, secret redaction, error → status mapping, row joins. */
import { describe, expect, it } from 'vitest';
import { ApfError } from '../../../src/errors.ts';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import type { QueueStatus } from '../../../src/core/status.ts';
import { HttpError } from '../../../src/web/router.ts';
import { apiQueue, guarded, httpErrorOf, parseLimit, redactEffective, withBindingStep } from '../../../src/web/routes/api.ts';
import type { QueueRow } from '../../../src/web/views/queue-columns.ts';

describe('web/routes/api', () => {
  describe('parseLimit', () => {
    it('defaults when absent and caps at the maximum', () => {
      expect(parseLimit(null, 50, 500)).toBe(50);
      expect(parseLimit('', 50, 500)).toBe(50);
      expect(parseLimit(null, 50, 20)).toBe(20);
      expect(parseLimit('7', 50, 500)).toBe(7);
      expect(parseLimit('100000', 50, 500)).toBe(500);
    });

    it.each(['0', '-1', '1.5', 'abc', '1e3', ' 3', '9999999999'])('refuses %j with a 400', (text) => {
      const err = (() => {
        try {
          parseLimit(text, 50, 500);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).status).toBe(400);
    });
  });

  describe('redactEffective', () => {
    it('hides passwords in URLs and secret-named keys, keeps the files that hold them', () => {
      const out = redactEffective({
        Factory: {
          'redis.url': 'rediss://apf:hunter2@redis.example.org:6380/0',
          'redis.password_file': '/etc/apf/redis.password',
          'redis.password': 'hunter2',
          'web.admin_token': 'abc',
          monitorURL: 'http://apfmon.example.org/api',
          'executable.arguments': '--url=https://user:pw@host/x --other http://h:1/',
        },
      });
      expect(out['Factory']).toEqual({
        'redis.url': 'rediss://apf:[redacted]@redis.example.org:6380/0',
        'redis.password_file': '/etc/apf/redis.password',
        'redis.password': '[redacted]',
        'web.admin_token': '[redacted]',
        monitorURL: 'http://apfmon.example.org/api',
        'executable.arguments': '--url=https://user:[redacted]@host/x --other http://h:1/',
      });
      expect(JSON.stringify(out)).not.toContain('hunter2');
    });
  });

  describe('httpErrorOf', () => {
    it('maps coded errors to HTTP statuses and lets the rest through', () => {
      const notFound = httpErrorOf(new ApfError('APF_ERR_USAGE', 'no queue named "x"', { details: { status: 404 } }));
      expect(notFound).toBeInstanceOf(HttpError);
      expect((notFound as HttpError).status).toBe(404);
      expect((httpErrorOf(new ApfError('APF_ERR_USAGE', 'bad')) as HttpError).status).toBe(400);
      const redis = httpErrorOf(new ApfError('APF_ERR_REDIS', 'connection refused')) as HttpError;
      expect(redis.status).toBe(503);
      expect(redis.message).toBe('Redis unavailable: connection refused');
      const conflict = httpErrorOf(new ApfError('APF_ERR_USAGE', 'alive', { details: { status: 409 } })) as HttpError;
      expect(conflict.status).toBe(409);
      const other = new ApfError('APF_ERR_CONFIG_INVALID', 'x');
      expect(httpErrorOf(other)).toBe(other);
      const plain = new Error('bug');
      expect(httpErrorOf(plain)).toBe(plain);
      const http = new HttpError(418, 'teapot');
      expect(httpErrorOf(http)).toBe(http);
    });

    it('guarded rethrows mapped errors', async () => {
      await expect(guarded(() => Promise.reject(new ApfError('APF_ERR_REDIS', 'down')))).rejects.toMatchObject({ status: 503 });
      await expect(guarded(() => Promise.resolve(3))).resolves.toBe(3);
    });
  });

  describe('apiQueue and withBindingStep', () => {
    it('joins the status fields and the monitor columns', () => {
      const status: QueueStatus = { name: 'Q', enabled: true, paused: false, lastCycle: null, pending: 4, running: 9, done: 1, failed: 2 };
      const row: QueueRow = {
        name: 'Q',
        enabled: true,
        paused: false,
        created: 12,
        running: 9,
        exiting: null,
        done: 1,
        fault: 2,
        ready: 40,
        pending: 4,
        lastMsgAgeMs: null,
        lastMsg: null,
        lastInstance: null,
        lastOutcome: null,
        blocked: null,
      };
      const q = apiQueue(status, row);
      expect(q).toMatchObject({ lastCycle: null, failed: 2, fault: 2, created: 12, ready: 40, exiting: null });
    });

    it('marks the step that bound the result', () => {
      const steps = [
        { plugin: 'Ready', in: 0, out: 30, msg: 'Ready' },
        { plugin: 'MaxPerCycle', in: 30, out: 10, msg: 'MaxPerCycle' },
        { plugin: 'MinPerCycle', in: 10, out: 10, msg: null },
      ];
      expect(withBindingStep({ steps } as unknown as CycleRecord).bindingStep).toBe(1);
      expect(withBindingStep({ steps: [] } as unknown as CycleRecord).bindingStep).toBe(-1);
    });
  });
});
