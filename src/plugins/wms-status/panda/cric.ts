/**
 * Site status from CRIC's PanDA-queue dump (formats.md §1.6): a JSON dict keyed by PanDA queue
 * name whose records carry `status` (`online`, `test`, `offline`, `brokeroff`). This replaces the
 * `getSiteSpecs` call APF made to PanDA; `StatusTest`/`StatusOffline` read the result.
 */
import { ApfError } from '../../../errors.ts';
import type { SiteInfo } from '../../../core/info.ts';
import { lazySchemas } from '../../../util/zod.ts';
import { bodyStart, describeZodIssues } from './parse.ts';

/** The dump: the fields read from each record; every other field is left alone. */
const dump = lazySchemas((z) =>
  z.record(
    z.string(),
    z.looseObject({
      status: z.string().nullish(),
      panda_resource: z.string().nullish(),
    }),
  ),
);

/**
 * Parses a CRIC `pandaqueue/query/?json` body into wmsqueue → site status. A record without a
 * status reads as `''`. A record whose `panda_resource` (APF's wmsqueue) differs from its key is
 * also listed under that name, unless another record already has it as key.
 * Rejects with `APF_ERR_WMS_RESPONSE` naming the field when the body is not such a dict.
 */
export function parseCricStatus(body: string): ReadonlyMap<string, SiteInfo> {
  const what = 'CRIC pandaqueue status';
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new ApfError('APF_ERR_WMS_RESPONSE', `${what}: body is not JSON (starts with "${bodyStart(body)}")`, { cause: err });
  }
  const r = dump().safeParse(json);
  if (!r.success) {
    throw new ApfError('APF_ERR_WMS_RESPONSE', `${what}: unexpected shape: ${describeZodIssues(r.error)}`);
  }
  const out = new Map<string, SiteInfo>();
  for (const [queue, rec] of Object.entries(r.data)) out.set(queue, Object.freeze({ status: rec.status ?? '' }));
  for (const [queue, rec] of Object.entries(r.data)) {
    const alias = rec.panda_resource;
    if (alias !== undefined && alias !== null && alias !== '' && !out.has(alias)) out.set(alias, out.get(queue) as SiteInfo);
  }
  return out;
}
