/**
 * Reading configuration sources: plain paths, `file://` URLs and `http(s)://` URLs (APF documented
 * remote sources but never made them work). Relative paths are taken relative to the config
 * directory; `~` is expanded as Python's `os.path.expanduser` does.
 */
import { readFile, readdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApfError } from '../errors.ts';
import { httpGet, redactUrl } from '../util/http.ts';

/** A source read into memory. */
export interface SourceText {
  /** Path or URL as shown in messages (URL credentials removed). */
  readonly file: string;
  readonly text: string;
}

/** How remote sources are fetched. */
export interface SourceFetchOptions {
  /** Deadline per remote source, ms. @defaultValue 30000 */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Python's `os.path.expanduser` for `~` and `~user` prefixes. */
export function expandUser(value: string): string {
  if (!value.startsWith('~')) return value;
  const slash = value.indexOf('/');
  const name = slash === -1 ? value.slice(1) : value.slice(1, slash);
  const rest = slash === -1 ? '' : value.slice(slash);
  if (name === '') return (process.env['HOME'] ?? homedir()) + rest;
  const home = passwdHome(name);
  return home === undefined ? value : home + rest;
}

function passwdHome(user: string): string | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === user && f[5] !== undefined) return f[5];
    }
  } catch {
    // no passwd database: leave the value unexpanded, as Python does
  }
  return undefined;
}

/** True for `http://` and `https://` sources. */
export function isUrl(spec: string): boolean {
  return /^https?:\/\//i.test(spec);
}

/** Resolves a source spec to an absolute path (files) or returns the URL unchanged. */
export function resolveSpec(spec: string, dir: string): string {
  const s = spec.trim();
  if (isUrl(s)) return s;
  if (/^file:\/\//i.test(s)) return fileURLToPath(s.replace(/^file:\/\/(?!\/)/i, 'file:///'));
  const p = expandUser(s);
  return isAbsolute(p) ? p : resolve(dir, p);
}

/** Reads one source. Rejects with `APF_ERR_CONFIG_SOURCE` saying why (`details.file` names the source). */
export async function readSource(spec: string, dir: string, options: SourceFetchOptions = {}): Promise<SourceText> {
  const target = resolveSpec(spec, dir);
  if (isUrl(target)) {
    const shown = redactUrl(target);
    try {
      const res = await httpGet(target, {
        timeoutMs: options.timeoutMs ?? 30_000,
        retries: 2,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      if (res.status < 200 || res.status > 299) {
        throw new ApfError('APF_ERR_CONFIG_SOURCE', `HTTP ${res.status}`, { details: { file: shown } });
      }
      return { file: shown, text: res.body };
    } catch (err) {
      if (err instanceof ApfError && err.code === 'APF_ERR_CONFIG_SOURCE') throw err;
      throw new ApfError('APF_ERR_CONFIG_SOURCE', err instanceof Error ? err.message : String(err), {
        cause: err,
        details: { file: shown },
      });
    }
  }
  try {
    return { file: target, text: await readFile(target, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ApfError('APF_ERR_CONFIG_SOURCE', code === 'ENOENT' ? 'no such file' : String(code ?? err), {
      cause: err,
      details: { file: target },
    });
  }
}

/** The `*.conf` files of a directory, sorted by name; undefined when the directory is missing. */
export async function listConfDir(dir: string): Promise<string[] | undefined> {
  try {
    const names = await readdir(dir);
    return names.filter((n) => n.endsWith('.conf')).sort().map((n) => join(dir, n));
  } catch {
    return undefined;
  }
}
