/**
 * `node:http`, loaded through `require`. An ESM `import … from 'node:http'` makes Node read every
 * export of the module to build its namespace, and `node:http`'s lazy `WebSocket`,
 * `MessageEvent` and `CloseEvent` exports then load Node's bundled undici (its fetch and
 * WebSocket, a 760 KB source): about 2 MiB of live heap per process, plus its parse, for code apf
 * never runs (it speaks HTTP through the `undici` package and serves through
 * `http.createServer`). Type-only imports of `node:http` are erased and stay as they are.
 */
import type * as NodeHttp from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The `node:http` module object, without its lazy web exports evaluated. */
export const http = require('node:http') as typeof NodeHttp;
