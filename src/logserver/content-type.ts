/** Content types of the log server (apf-behaviour §6.1): pilot logs are shown inline as text. */
import { extname } from 'node:path';

/** Extensions served as `text/plain` so that browsers show them inline (APF's list). */
export const TEXT_EXTENSIONS: readonly string[] = ['.log', '.out', '.err', '.jdl', '.conf', '.txt', '.sh', '.py', '.c', '.h'];

/** The type of anything else: downloaded, never rendered. */
export const BINARY_TYPE = 'application/octet-stream';

/** The type of the text files. */
export const TEXT_TYPE = 'text/plain; charset=utf-8';

const TEXT: ReadonlySet<string> = new Set(TEXT_EXTENSIONS);

/** The Content-Type of a file name (case-insensitive extension). */
export function contentTypeFor(name: string): string {
  return TEXT.has(extname(name).toLowerCase()) ? TEXT_TYPE : BINARY_TYPE;
}
