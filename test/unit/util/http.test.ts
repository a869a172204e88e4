import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApfError } from '../../../src/errors.ts';
import { closeHttpAgent, httpGet, httpRequest, redactUrl } from '../../../src/util/http.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

let server: Server;
let base: string;
let handler: Handler = (_req, res) => res.end('ok');
let hits = 0;
let lastHeaders: IncomingMessage['headers'] = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    hits += 1;
    lastHeaders = req.headers;
    handler(req, res, hits);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  hits = 0;
  handler = (_req, res) => res.end('ok');
  // A fresh agent per test: no keep-alive socket of one test is reused (and counted) by the next.
  await closeHttpAgent();
  server.closeAllConnections();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await closeHttpAgent();
});

async function rejection(p: Promise<unknown>): Promise<ApfError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApfError) return err;
    throw new Error(`expected an ApfError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a rejection');
}

describe('util/http', () => {
  it('returns status, lower-case headers and body, and sends the given headers', async () => {
    handler = (_req, res) => {
      res.setHeader('X-Thing', 'a');
      res.setHeader('Content-Type', 'text/plain');
      res.end('héllo');
    };
    const r = await httpGet(`${base}/x`, { headers: { Accept: 'application/json' } });
    expect(r.status).toBe(200);
    expect(r.body).toBe('héllo');
    expect(r.headers['x-thing']).toBe('a');
    expect(r.headers['content-type']).toBe('text/plain');
    expect(lastHeaders['accept']).toBe('application/json');
  });

  it('keeps one char per byte with encoding latin1', async () => {
    handler = (_req, res) => res.end(Buffer.from([0x56, 0xe9, 0x0a]));
    const r = await httpGet(base, { encoding: 'latin1' });
    expect([...r.body].map((c) => c.charCodeAt(0))).toEqual([0x56, 0xe9, 0x0a]);
  });

  it('rejects a non-2xx status with APF_ERR_HTTP, the status in details and the first body line in the message', async () => {
    handler = (_req, res) => {
      res.statusCode = 500;
      res.end('Traceback: database exploded\nline 2');
    };
    const err = await rejection(httpGet(`${base}/stats`, { retries: 0 }));
    expect(err.code).toBe('APF_ERR_HTTP');
    expect(err.details['status']).toBe(500);
    expect(err.message).toContain('HTTP 500: Traceback: database exploded');
    expect(err.message).not.toContain('line 2');
    expect(hits).toBe(1);
  });

  it('retries 503 then succeeds', async () => {
    handler = (_req, res, n) => {
      res.statusCode = n < 3 ? 503 : 200;
      res.end(n < 3 ? 'busy' : 'fine');
    };
    const r = await httpGet(base, { retries: 2, retryDelayMs: 10 });
    expect(r.body).toBe('fine');
    expect(hits).toBe(3);
  });

  it('gives up after retries + 1 attempts on a persistent 502', async () => {
    handler = (_req, res) => {
      res.statusCode = 502;
      res.end('bad gateway');
    };
    const err = await rejection(httpGet(base, { retries: 3, retryDelayMs: 5 }));
    expect(err.code).toBe('APF_ERR_HTTP');
    expect(err.details['attempts']).toBe(4);
    expect(hits).toBe(4);
  });

  it('does not retry a 404', async () => {
    handler = (_req, res) => {
      res.statusCode = 404;
      res.end('not found');
    };
    const err = await rejection(httpGet(base, { retries: 3, retryDelayMs: 5 }));
    expect(err.details['status']).toBe(404);
    expect(hits).toBe(1);
  });

  it('never retries a POST', async () => {
    handler = (_req, res) => {
      res.statusCode = 503;
      res.end();
    };
    const err = await rejection(httpRequest('POST', base, { retries: 3, retryDelayMs: 5, body: '{}' }));
    expect(err.details['status']).toBe(503);
    expect(hits).toBe(1);
  });

  it('a hanging server ends in APF_ERR_HTTP_TIMEOUT at the overall deadline, retries included', async () => {
    handler = () => undefined; // never answers
    const started = performance.now();
    const err = await rejection(httpGet(base, { timeoutMs: 400, retries: 5, retryDelayMs: 50 }));
    const elapsed = performance.now() - started;
    expect(err.code).toBe('APF_ERR_HTTP_TIMEOUT');
    expect(err.message).toContain('400 ms');
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(1500);
  });

  it('an agent headers timeout is retried, all inside the overall deadline', async () => {
    handler = () => undefined;
    const started = performance.now();
    const err = await rejection(httpGet(base, { timeoutMs: 3000, headersTimeoutMs: 150, retries: 1, retryDelayMs: 20 }));
    expect(err.code).toBe('APF_ERR_HTTP_TIMEOUT');
    expect(err.details['reason']).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(hits).toBe(2);
    expect(performance.now() - started).toBeLessThan(2500);
  });

  it('does not sleep past the deadline: the last real failure is reported instead', async () => {
    handler = (_req, res) => {
      res.statusCode = 503;
      res.end('busy');
    };
    const started = performance.now();
    // Sleeping 5 s would run into the 2 s deadline and end as a timeout; giving up at once keeps the 503.
    const err = await rejection(httpGet(base, { timeoutMs: 2000, retries: 5, retryDelayMs: 5000 }));
    expect(err.code).toBe('APF_ERR_HTTP');
    expect(err.details['status']).toBe(503);
    expect(hits).toBe(1);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('a body that stalls half way is a timeout', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('partial');
    };
    const err = await rejection(httpGet(base, { timeoutMs: 3000, bodyTimeoutMs: 150 }));
    expect(err.code).toBe('APF_ERR_HTTP_TIMEOUT');
  });

  it('refuses a body announced larger than maxBytes', async () => {
    handler = (_req, res) => res.end('x'.repeat(1000));
    const err = await rejection(httpGet(base, { maxBytes: 100 }));
    expect(err.code).toBe('APF_ERR_HTTP');
    expect(err.details['maxBytes']).toBe(100);
    expect(err.message).toContain('larger than 100 bytes');
  });

  it('refuses a chunked body that grows past maxBytes', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      for (let i = 0; i < 50; i++) res.write('y'.repeat(100));
      res.end();
    };
    const err = await rejection(httpGet(base, { maxBytes: 1000 }));
    expect(err.code).toBe('APF_ERR_HTTP');
    expect(err.details['maxBytes']).toBe(1000);
  });

  it('accepts a body of exactly maxBytes', async () => {
    handler = (_req, res) => res.end('z'.repeat(100));
    expect((await httpGet(base, { maxBytes: 100 })).body).toHaveLength(100);
  });

  it('a refused connection is APF_ERR_HTTP, retried', async () => {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const err = await rejection(httpGet(`http://127.0.0.1:${port}/`, { retries: 1, retryDelayMs: 5 }));
    expect(err.code).toBe('APF_ERR_HTTP');
    expect(err.details['attempts']).toBe(2);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('sends URL credentials as Basic auth and never shows them', async () => {
    handler = (_req, res) => {
      res.statusCode = 500;
      res.end('no');
    };
    const url = `${base.replace('//', '//alice:s3cr3t@')}/p?token=abc&x=1`;
    const err = await rejection(httpGet(url));
    expect(lastHeaders['authorization']).toBe(`Basic ${Buffer.from('alice:s3cr3t').toString('base64')}`);
    const shown = `${err.message} ${JSON.stringify(err.details)}`;
    expect(shown).not.toContain('s3cr3t');
    expect(shown).not.toContain('alice');
    expect(shown).not.toContain('abc');
    expect(shown).toContain('x=1');
  });

  it('a caller abort is APF_ERR_ABORTED, not a timeout', async () => {
    handler = () => undefined;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const err = await rejection(httpGet(base, { signal: ac.signal, timeoutMs: 5000, retries: 3 }));
    expect(err.code).toBe('APF_ERR_ABORTED');
  });

  it('rejects non-http URLs', async () => {
    const err = await rejection(httpGet('file:///etc/passwd'));
    expect(err.code).toBe('APF_ERR_HTTP');
    expect(hits).toBe(0);
  });

  it('redactUrl removes user info and secret-looking query values', () => {
    expect(redactUrl('https://u:p@host:8443/a?b=1&token=xyz&apikey=k')).toBe('https://***@host:8443/a?b=1&token=***&apikey=***');
    expect(redactUrl('https://host/cric/?json')).toBe('https://host/cric/?json');
    expect(redactUrl('not a url //user:pw@x')).not.toContain('pw');
  });
});
