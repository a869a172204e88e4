/**
 * Answers one log-server request: a file (streamed, with ranges and validators), a directory
 * listing, or a refusal. Files are opened with `O_NOFOLLOW` after the containment check, and their
 * size and dates come from the opened descriptor, so what is sent is what was checked.
 */
import { constants, type Stats } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { HttpError, html, type WebResponse } from '../web/router.ts';
import { contentTypeFor } from './content-type.ts';
import { readListing } from './listing.ts';
import { renderListing } from './listing-html.ts';
import { parseRange } from './range.ts';
import { decodeLogPath, resolveLogPath, type LogPathRejection } from './safe-path.ts';

/** Where and how the tree is served. */
export interface LogServeOptions {
  /** `baseLogDir` (resolved with realpath at every request, so a baseLogDir that is a symlink works). */
  readonly root: string;
  /** `logserver.index`: directory listings allowed. */
  readonly index: boolean;
  /** URL prefix the tree is mounted at: `''` (APF's paths) or `/logs` (the alias with the root listing). */
  readonly mount: '' | '/logs';
  /** Footer of listings. */
  readonly host: string;
  readonly port: number;
}

/** What {@link serveLogPath} reads of the request. */
export interface LogServeRequest {
  /** The percent-encoded path below the mount, starting with `/` (`/2024-05-01/Q/1.0.out`). */
  readonly rawPath: string;
  readonly headers: IncomingHttpHeaders;
}

/** A refused request: the HTTP answer, plus the precise reason for the access log (never sent). */
export class LogRefusedError extends HttpError {
  readonly reason: string;
  constructor(status: number, message: string, reason: string) {
    super(status, message);
    this.name = 'LogRefusedError';
    this.reason = reason;
  }
}

/** Security headers of every file response: never rendered as a page, never scripted. */
const FILE_HEADERS = { 'content-security-policy': "default-src 'none'; sandbox", 'cache-control': 'no-cache', 'accept-ranges': 'bytes' } as const;

function refusal(r: LogPathRejection): never {
  const text = r.status === 403 ? 'forbidden' : r.status === 400 ? 'bad request' : 'not found';
  throw new LogRefusedError(r.status, text, r.reason);
}

/**
 * Makes `stream` destroy itself (closing its file) when the response it is piped to closes early:
 * `pipe()` only unpipes when a client goes away mid-download, which would leave the descriptor
 * open until garbage collection.
 */
function closeWithDestination(stream: Readable): Readable {
  const pipe = stream.pipe.bind(stream);
  stream.pipe = <T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T => {
    (destination as unknown as NodeJS.EventEmitter).once('close', () => stream.destroy());
    return pipe(destination, options);
  };
  return stream;
}

function encodePath(segments: readonly string[]): string {
  return segments.map(encodeURIComponent).join('/');
}

/** Serves `req.rawPath` below `opts.root`. Throws {@link LogRefusedError} for refusals, {@link HttpError} otherwise. */
export async function serveLogPath(req: LogServeRequest, opts: LogServeOptions): Promise<WebResponse> {
  const decoded = decodeLogPath(req.rawPath);
  if (!decoded.ok) refusal(decoded);
  let rootReal: string;
  try {
    rootReal = await realpath(opts.root);
  } catch {
    throw new HttpError(404, 'not found');
  }
  const found = await resolveLogPath(rootReal, decoded.segments);
  if (!found.ok) refusal(found);
  const segs = decoded.segments;
  if (found.kind === 'dir') {
    if (!decoded.trailingSlash) {
      // Relative links in the listing need the slash; the Location is rebuilt from checked names.
      return { status: 301, headers: { location: `${opts.mount}/${encodePath(segs)}${segs.length > 0 ? '/' : ''}` } };
    }
    if (!opts.index) throw new HttpError(403, 'directory listing disabled (logserver.index = False)');
    const listing = await readListing(found.real, rootReal);
    const parentSegs = segs.slice(0, -1);
    const page = renderListing({
      title: `${opts.mount}/${segs.join('/')}${segs.length > 0 ? '/' : ''}`,
      parentHref: segs.length === 0 ? undefined : parentSegs.length === 0 ? '/logs/' : `${opts.mount}/${encodePath(parentSegs)}/`,
      listing,
      host: opts.host,
      port: opts.port,
    });
    const r = html(page);
    return { ...r, headers: { ...r.headers, 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" } };
  }
  if (decoded.trailingSlash) throw new HttpError(404, 'not found');
  return serveFile(found.real, req.headers);
}

/** The weak validator of a file version. */
function etagOf(s: Stats): string {
  return `W/"${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"`;
}

async function serveFile(real: string, headers: IncomingHttpHeaders): Promise<WebResponse> {
  let fh: FileHandle;
  try {
    // O_NOFOLLOW: a symlink swapped in after the check is not opened.
    fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    throw new HttpError(404, 'not found');
  }
  let keepOpen = false;
  try {
    const s = await fh.stat();
    if (!s.isFile()) throw new HttpError(404, 'not found');
    const etag = etagOf(s);
    const lastModified = new Date(Math.floor(s.mtimeMs / 1000) * 1000).toUTCString();
    const base = { ...FILE_HEADERS, etag, 'last-modified': lastModified };
    const inm = headers['if-none-match'];
    if (inm !== undefined && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
      return { status: 304, headers: base };
    }
    const ifRange = headers['if-range'];
    const rangeHeader = ifRange === undefined || ifRange === etag || ifRange === lastModified ? headers.range : undefined;
    const range = parseRange(rangeHeader, s.size);
    const type = contentTypeFor(basename(real));
    if (range.kind === 'unsatisfiable') {
      return { status: 416, headers: { ...base, 'content-range': `bytes */${s.size}`, 'content-type': 'text/plain; charset=utf-8' }, body: 'range not satisfiable\n' };
    }
    if (range.kind === 'partial') {
      keepOpen = true;
      return {
        status: 206,
        headers: { ...base, 'content-type': type, 'content-length': range.end - range.start + 1, 'content-range': `bytes ${range.start}-${range.end}/${s.size}` },
        body: closeWithDestination(fh.createReadStream({ start: range.start, end: range.end })),
      };
    }
    // A running pilot's .out grows while it is sent: read exactly the size announced.
    const body = s.size === 0 ? '' : closeWithDestination(fh.createReadStream({ start: 0, end: s.size - 1 }));
    keepOpen = s.size > 0;
    return { status: 200, headers: { ...base, 'content-type': type, 'content-length': s.size }, body };
  } finally {
    if (!keepOpen) await fh.close().catch(() => undefined);
  }
}
