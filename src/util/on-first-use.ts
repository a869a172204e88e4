/**
 * A loader that runs `load` on its first call and gives every caller, then and later, what that
 * call returned — for an asynchronous `load`, the same promise. Used for libraries loaded when
 * first needed rather than with the module that uses them (src/util/http.ts: undici and
 * src/util/exec.ts: execa, imported; src/util/zod.ts: zod, required) and for what is built from
 * them. `load` must not return `undefined` (it would run again at the next call).
 */
export function onFirstUse<T>(load: () => T): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load());
}
