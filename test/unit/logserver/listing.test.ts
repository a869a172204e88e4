import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINARY_TYPE, TEXT_TYPE, contentTypeFor } from '../../../src/logserver/content-type.ts';
import { formatListingDate, formatSize, readListing } from '../../../src/logserver/listing.ts';
import { renderListing } from '../../../src/logserver/listing-html.ts';

let base: string;
let root: string;

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'apf-listing-')));
  root = join(base, 'logs');
  const q = join(root, '2024-05-01', 'Q');
  mkdirSync(q, { recursive: true });
  mkdirSync(join(base, 'elsewhere'));
  writeFileSync(join(q, 'b.out'), 'x'.repeat(2048));
  writeFileSync(join(q, 'a.err'), '');
  writeFileSync(join(q, '.hidden'), 'h');
  mkdirSync(join(q, 'sub'));
  symlinkSync(join(base, 'elsewhere'), join(q, 'out-link'));
  symlinkSync(join(q, 'b.out'), join(q, 'in-link.out'));
  utimesSync(join(q, 'b.out'), new Date('2024-05-01T10:07:00Z'), new Date('2024-05-01T10:07:00Z'));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('logserver/listing', () => {
  it('lists names in order, hides dot-files and symlinks that lead out, flags directories', async () => {
    const l = await readListing(join(root, '2024-05-01', 'Q'), root);
    expect(l.entries.map((e) => [e.name, e.isDir])).toEqual([
      ['a.err', false],
      ['b.out', false],
      ['in-link.out', false],
      ['sub', true],
    ]);
    expect(l.entries.find((e) => e.name === 'b.out')).toMatchObject({ size: 2048, mtimeMs: Date.parse('2024-05-01T10:07:00Z') });
    expect(l.omitted).toBe(0);
  });

  it('caps a huge listing and says how many were left out', async () => {
    const l = await readListing(join(root, '2024-05-01', 'Q'), root, 2);
    expect(l.entries.map((e) => e.name)).toEqual(['a.err', 'b.out']);
    expect(l.omitted).toBe(3);
  });

  it('formats sizes and dates as APF did', () => {
    expect(formatSize(0)).toBe('0.0B');
    expect(formatSize(512)).toBe('512.0B');
    expect(formatSize(2048)).toBe('2.0K');
    expect(formatSize(1536 * 1024)).toBe('1.5M');
    expect(formatSize(3 * 1024 ** 3)).toBe('3.0G');
    expect(formatSize(5 * 1024 ** 4)).toBe('5.0T');
    expect(formatSize(5 * 1024 ** 5)).toBe('5120.0T');
    expect(formatListingDate(Date.parse('2024-03-07T04:05:59Z'))).toBe('07-Mar-2024 04:05');
  });

  it('escapes every name and encodes every link', () => {
    const page = renderListing({
      title: '/2024-05-01/<Q>/',
      parentHref: '/2024-05-01/',
      host: 'h"ost',
      port: 25880,
      listing: {
        entries: [
          { name: '<script>alert(1)</script>.out', isDir: false, mtimeMs: 0, size: 10 },
          { name: 'a"b\' c', isDir: true, mtimeMs: 0, size: 0 },
        ],
        omitted: 3,
      },
    });
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;.out');
    expect(page).toContain('href="%3Cscript%3Ealert(1)%3C%2Fscript%3E.out"');
    expect(page).toContain('href="a%22b&#39;%20c/">a&quot;b&#39; c/</a>');
    expect(page).toContain('<title>Index of /2024-05-01/&lt;Q&gt;/</title>');
    expect(page).toContain('<a href="/2024-05-01/">Parent Directory</a>');
    expect(page).toContain('3 more entries not shown');
    expect(page).toContain('apf at h&quot;ost Port 25880');
    expect(page).toMatch(/<th>Name<\/th><th>Last modified<\/th><th class="s">Size<\/th>/);
  });

  it('serves pilot files as inline text and anything else as a download', () => {
    for (const n of ['1.0.log', '1.0.out', '1.0.ERR', 'submit.jdl', 'queues.conf', 'a.txt', 'w.sh', 'x.py', 'y.c', 'z.h']) expect(contentTypeFor(n), n).toBe(TEXT_TYPE);
    for (const n of ['x.html', 'x.svg', 'x.tar.gz', 'noext', 'x.out.gz']) expect(contentTypeFor(n), n).toBe(BINARY_TYPE);
  });
});
