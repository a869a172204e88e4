/** `apf list-plugins`: every plugin with its keys and defaults. */
import type { CliCommand } from '../command.ts';
import { parse } from '../common.ts';
import type { OptionSpec } from '../../config/options.ts';
import { REGISTRY } from '../../plugins/registry.ts';
import type { AnyPluginDef, PluginFamily } from '../../plugins/define.ts';

/** One key of a plugin as listed. */
export interface ListedKey {
  readonly key: string;
  readonly type: string;
  readonly default: unknown;
  readonly required: boolean;
  readonly doc: string;
}

/** The INI keys a plugin reads, with their full names. */
export function pluginKeys(family: PluginFamily, def: AnyPluginDef): ListedKey[] {
  const prefix = def.family === 'batchsubmit' ? `batchsubmit.${def.keyChain[0] ?? def.id.toLowerCase()}.` : `${family}.${def.id.toLowerCase()}.`;
  return Object.entries(def.options as Record<string, OptionSpec<unknown>>).map(([name, spec]) => ({
    key: spec.isMap === true ? `${prefix}${spec.mapOf ?? name}.<name>` : prefix + name,
    type: spec.values === undefined ? spec.kind : `${spec.kind}(${spec.values.join('|')})`,
    default: spec.default,
    required: spec.required,
    doc: spec.doc,
  }));
}

function show(v: unknown): string {
  if (v === undefined) return 'unset';
  if (Array.isArray(v)) return v.length === 0 ? '(empty)' : v.join(', ');
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

export const listPluginsCommand: CliCommand = {
  name: 'list-plugins',
  summary: 'list every plugin by family with its keys and defaults',
  usage: 'apf list-plugins [--family sched|wmsstatus|batchstatus|batchsubmit] [--json]',
  run(args, io) {
    const { values } = parse(args, { family: { type: 'string' }, json: { type: 'boolean' } });
    const families = (Object.keys(REGISTRY) as PluginFamily[]).filter((f) => values.family === undefined || f === values.family);
    const listing = families.map((family) => ({
      family,
      plugins: (REGISTRY[family] as readonly AnyPluginDef[]).map((def) => ({
        name: def.id,
        summary: def.summary,
        ...(def.family === 'batchsubmit' ? { keyChain: def.keyChain } : {}),
        keys: pluginKeys(family, def),
      })),
    }));
    if (values.json === true) {
      io.stdout.write(`${JSON.stringify(listing, (_k, v: unknown) => (v === undefined ? null : v), 2)}\n`);
      return Promise.resolve(0);
    }
    for (const fam of listing) {
      io.stdout.write(`${fam.family}\n`);
      for (const p of fam.plugins) {
        io.stdout.write(`  ${p.name} — ${p.summary}\n`);
        for (const k of p.keys) {
          io.stdout.write(`      ${k.key} (${k.type}${k.required ? ', mandatory' : `, default ${show(k.default)}`}) ${k.doc}\n`);
        }
      }
    }
    return Promise.resolve(0);
  },
};
