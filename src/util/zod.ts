/**
 * zod, loaded when a schema is first needed rather than with the modules that declare schemas.
 * The daemon's modules declare schemas for control messages, admin requests and PanDA/CRIC
 * bodies; loading zod costs a process about 3 MiB of live heap and more RSS (its code and source),
 * which an instance whose queues use neither PanDA nor CRIC and that receives no control message
 * never needs (docs/decisions.md "Memory, sixth round"). zod is taken through a synchronous
 * `require` so the parsers keep their synchronous signatures; type-only imports of `zod` are
 * erased and stay as they are.
 */
import { createRequire } from 'node:module';
import type * as Zod from 'zod';
import { onFirstUse } from './on-first-use.ts';

const require = createRequire(import.meta.url);

/** zod's `z` namespace. */
export type ZodNamespace = typeof Zod.z;

/** zod's `z`, required on the first call. */
export const zod: () => ZodNamespace = onFirstUse(() => (require('zod') as typeof Zod).z);

/**
 * A getter for the schemas `build` makes from `z`: built (and zod loaded) on the first call,
 * the same object on every later call.
 */
export function lazySchemas<T>(build: (z: ZodNamespace) => T): () => T {
  return onFirstUse(() => build(zod()));
}
