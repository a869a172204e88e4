/**
 * Turning a request path into a file under the log root, and never anything else.
 *
 * Two layers, both required: {@link decodeLogPath} refuses every path that is not a plain list of
 * names (traversal segments, encoded or double-encoded separators, backslashes, NUL and control
 * characters, invalid or overlong UTF-8), and {@link resolveLogPath} resolves symlinks with
 * `realpath` and checks that the result is still inside the (real) root, so that a symlink — or a
 * symlinked directory — pointing out of the tree is refused even though its name is harmless.
 */
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** Why a path was refused, with the HTTP status to answer. */
export interface LogPathRejection {
  readonly ok: false;
  /** 400 malformed, 403 an attack or a path out of the root, 404 nothing there. */
  readonly status: 400 | 403 | 404;
  /** For the debug log (never shown verbatim to the client). */
  readonly reason: string;
}

/** A decoded path: the names below the root, in order (empty = the root itself). */
export interface DecodedLogPath {
  readonly ok: true;
  readonly segments: readonly string[];
  /** The request ended with `/` (a directory was asked for). */
  readonly trailingSlash: boolean;
}

/** A path that exists inside the root. */
export interface ResolvedLogPath {
  readonly ok: true;
  /** Absolute real path (symlinks resolved), inside the real root. */
  readonly real: string;
  readonly kind: 'file' | 'dir';
  readonly stats: Stats;
}

/** Longest raw path accepted (Linux PATH_MAX). */
export const MAX_PATH_CHARS = 4096;
/** Longest name accepted, in bytes (Linux NAME_MAX). */
export const MAX_NAME_BYTES = 255;

/** Control characters (C0, DEL, C1): never part of a log file name apf writes. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** What is left of a double-encoded `.`, `/`, `\` or NUL after one decoding. */
const DOUBLE_ENCODED = /%(2e|2f|5c|00)/i;

function reject(status: LogPathRejection['status'], reason: string): LogPathRejection {
  return { ok: false, status, reason };
}

/**
 * Decodes the percent-encoded path below the log root (`/2024-05-01/Q/1.0.out`, as it appears in
 * the request line, leading `/` optional) into names. Each segment is decoded once, strictly
 * (invalid and overlong UTF-8 sequences are refused); a decoded name must not be `.`/`..`, nor
 * hold `/`, `\`, NUL or control characters, nor still look percent-encoded (double encoding).
 * Empty segments (`a//b`) are ignored.
 */
export function decodeLogPath(rawPath: string): DecodedLogPath | LogPathRejection {
  if (rawPath.length > MAX_PATH_CHARS) return reject(400, 'path too long');
  // Raw backslashes and control characters are never sent by a browser for a real name.
  if (rawPath.includes('\\')) return reject(403, 'backslash in path');
  if (CONTROL.test(rawPath)) return reject(403, 'control character in path');
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    if (raw === '') continue;
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      return reject(403, 'invalid percent-encoding or UTF-8');
    }
    if (name === '.' || name === '..') return reject(403, 'dot segment');
    if (name.includes('/') || name.includes('\\')) return reject(403, 'encoded separator');
    if (CONTROL.test(name)) return reject(403, 'encoded control character or NUL');
    if (DOUBLE_ENCODED.test(name)) return reject(403, 'double-encoded path');
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) return reject(404, 'name too long');
    segments.push(name);
  }
  return { ok: true, segments, trailingSlash: rawPath.endsWith('/') };
}

/** True when `real` is `rootReal` or below it (both already resolved by realpath). */
export function isInside(rootReal: string, real: string): boolean {
  if (real === rootReal) return true;
  const prefix = rootReal.endsWith(sep) ? rootReal : rootReal + sep;
  return real.startsWith(prefix);
}

const NOT_THERE: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP']);

function fsRejection(err: unknown): LogPathRejection {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (NOT_THERE.has(code)) return reject(404, code);
  if (code === 'EACCES' || code === 'EPERM') return reject(403, code);
  return reject(404, code === '' ? 'unreadable' : code);
}

/**
 * Resolves `segments` (from {@link decodeLogPath}) below `rootReal` (the root as returned by
 * `realpath`): symlinks are followed and the result must still be inside the root (403
 * otherwise); only regular files and directories are served (a FIFO or device is a 404, as
 * reading one could block).
 */
export async function resolveLogPath(rootReal: string, segments: readonly string[]): Promise<ResolvedLogPath | LogPathRejection> {
  let real: string;
  try {
    real = await realpath(join(rootReal, ...segments));
  } catch (err) {
    return fsRejection(err);
  }
  if (!isInside(rootReal, real)) return reject(403, 'resolves outside the log root');
  let stats: Stats;
  try {
    stats = await stat(real);
  } catch (err) {
    return fsRejection(err);
  }
  if (stats.isDirectory()) return { ok: true, real, kind: 'dir', stats };
  if (stats.isFile()) return { ok: true, real, kind: 'file', stats };
  return reject(404, 'not a regular file');
}
