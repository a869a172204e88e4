/**
 * Test-only reference reader of condor XML built on fast-xml-parser (a general XML parser that
 * shares no code with apf's scanner): it turns one `<classads>` document into the writer's
 * {@link Ad} values. The writer tests rebuild fixture ads with it, and the parser tests use it
 * as the oracle of a differential test.
 */
import { XMLParser } from 'fast-xml-parser';
import type { Ad, AdValue } from '../../../../../src/sim/condor/classad-format.ts';

type Node = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  ignoreDeclaration: true,
});

/** Reads one complete condor XML document into ads (reals as `{ real }`, errors as `{ expr: 'error' }`). */
export function referenceAdsFromXml(xml: string): Ad[] {
  const top = parser.parse(xml) as Node[];
  const root = top.find((n) => 'classads' in n);
  if (root === undefined) throw new Error('no <classads> element');
  const ads: Ad[] = [];
  for (const child of root['classads'] as Node[]) {
    if ('c' in child) ads.push(adOf(child['c'] as Node[]));
  }
  return ads;
}

function adOf(children: Node[]): Ad {
  const ad: Record<string, AdValue> = {};
  for (const a of children) {
    if (!('a' in a)) continue;
    const name = unescapeClassAd(((a[':@'] as Node)['@_n'] as string) ?? '');
    const valueNode = (a['a'] as Node[]).find((n) => !('#text' in n));
    if (valueNode === undefined) throw new Error(`attribute ${name} has no value`);
    ad[name] = valueOf(valueNode);
  }
  return ad;
}

function textOf(n: Node, tag: string): string {
  return (n[tag] as Node[]).map((t) => String((t['#text'] as string | number | undefined) ?? '')).join('');
}

function valueOf(n: Node): AdValue {
  if ('i' in n) return Number(textOf(n, 'i'));
  if ('s' in n) return unescapeClassAd(textOf(n, 's'));
  if ('r' in n) {
    const t = textOf(n, 'r');
    return { real: t === 'INF' ? Infinity : t === '-INF' ? -Infinity : Number(t) };
  }
  if ('b' in n) return (n[':@'] as Node)['@_v'] === 't';
  if ('un' in n) return null;
  if ('er' in n) return { expr: 'error' };
  if ('e' in n) return { expr: textOf(n, 'e') };
  throw new Error(`unexpected value element ${Object.keys(n).join(',')}`);
}

/** Undoes the ClassAd string escapes (`\\`, `\n`, `\t`, …, `\ooo` octal bytes of UTF-8). */
function unescapeClassAd(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  const simple: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '\\': 92, "'": 39, '"': 34 };
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as number;
    if (c !== 92) {
      bytes.push(c);
      continue;
    }
    const next = String.fromCharCode(raw[i + 1] as number);
    if (next in simple) {
      bytes.push(simple[next] as number);
      i += 1;
    } else {
      bytes.push(parseInt(raw.subarray(i + 1, i + 4).toString('latin1'), 8));
      i += 3;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
