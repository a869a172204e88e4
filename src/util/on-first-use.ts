/**
 * A loader that runs `load` on its first call and gives every caller, then and later, the same
 * promise. Used for libraries imported when first needed rather than with the module that uses
 * them (src/util/http.ts: undici, src/util/exec.ts: execa).
 */
export function onFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}
