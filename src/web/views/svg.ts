/**
 * Inline SVG charts (no script, no library): an activity sparkline and a time plot of a queue's
 * inputs. Every text that reaches the markup goes through esc(); coordinates are numbers only.
 */
import { esc } from '../router.ts';
import { fmtClock } from './format.ts';

/** One point of a plotted series; `v` null = unknown at that time (the line breaks there). */
export interface PlotPoint {
  /** Epoch ms. */
  readonly t: number;
  readonly v: number | null;
}

/** One line of a {@link timePlot}. */
export interface PlotSeries {
  /** Legend text (also `data-series`). */
  readonly name: string;
  /** A CSS colour (a constant of the caller, never user input). */
  readonly color: string;
  readonly points: readonly PlotPoint[];
}

const r1 = (x: number): string => String(Math.round(x * 10) / 10);

/** Options of {@link sparkline}. */
export interface SparklineOptions {
  readonly width?: number;
  readonly height?: number;
  /** Tooltip and accessible label. */
  readonly title: string;
}

/** A sparkline of `values` (oldest first), scaled to its own maximum; a flat line when all are 0. */
export function sparkline(values: readonly number[], o: SparklineOptions): string {
  const w = o.width ?? 120;
  const h = o.height ?? 24;
  const max = Math.max(1, ...values);
  const n = values.length;
  const step = n > 1 ? w / (n - 1) : 0;
  const pts = values.map((v, i) => `${r1(i * step)},${r1(h - 1 - (Math.max(0, v) / max) * (h - 2))}`).join(' ');
  return (
    `<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(o.title)}">` +
    `<title>${esc(o.title)}</title>` +
    (n > 0 ? `<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="${pts}"/>` : '') +
    `</svg>`
  );
}

/** A round axis maximum ≥ `v` (1, 2, 5 × 10^k). */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Splits a series into runs of known values (a null ends a run). */
export function segments(points: readonly PlotPoint[]): Array<Array<{ t: number; v: number }>> {
  const out: Array<Array<{ t: number; v: number }>> = [];
  let cur: Array<{ t: number; v: number }> = [];
  for (const p of points) {
    if (p.v === null || !Number.isFinite(p.v)) {
      if (cur.length > 0) out.push(cur);
      cur = [];
    } else cur.push({ t: p.t, v: p.v });
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Options of {@link timePlot}. */
export interface TimePlotOptions {
  readonly width?: number;
  readonly height?: number;
  /** Accessible label. */
  readonly title: string;
}

/**
 * A line plot over time: one polyline per run of known values of each series (a lone point is a
 * dot), y from 0 to a round maximum, x from the first to the last time, UTC clock labels.
 */
export function timePlot(series: readonly PlotSeries[], o: TimePlotOptions): string {
  const W = o.width ?? 760;
  const H = o.height ?? 240;
  const left = 48;
  const right = 12;
  const top = 12;
  const bottom = 44;
  const pw = W - left - right;
  const ph = H - top - bottom;
  const times = series.flatMap((s) => s.points.map((p) => p.t));
  const from = times.length > 0 ? Math.min(...times) : 0;
  const to = times.length > 0 ? Math.max(...times) : 1;
  const span = to > from ? to - from : 1;
  const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.v ?? 0))));
  const x = (t: number): number => left + (to > from ? ((t - from) / span) * pw : pw / 2);
  const y = (v: number): number => top + ph - (Math.max(0, v) / yMax) * ph;
  const parts: string[] = [];
  for (const f of [0, 0.5, 1]) {
    const yy = r1(y(yMax * f));
    parts.push(`<line class="grid" x1="${left}" x2="${left + pw}" y1="${yy}" y2="${yy}"/>`);
    parts.push(`<text class="axis" x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${r1(yMax * f)}</text>`);
  }
  if (times.length > 0) {
    // The end labels are anchored inwards so they are not clipped at the edges.
    const ticks: Array<[number, string]> = to > from ? [[from, 'start'], [from + span / 2, 'middle'], [to, 'end']] : [[from, 'middle']];
    for (const [t, anchor] of ticks) parts.push(`<text class="axis" x="${r1(x(t))}" y="${top + ph + 14}" text-anchor="${anchor}">${fmtClock(t)}</text>`);
  }
  series.forEach((s, i) => {
    for (const seg of segments(s.points)) {
      if (seg.length === 1) {
        const p = seg[0] as { t: number; v: number };
        parts.push(`<circle data-series="${esc(s.name)}" cx="${r1(x(p.t))}" cy="${r1(y(p.v))}" r="2.5" fill="${esc(s.color)}"/>`);
      } else {
        const pts = seg.map((p) => `${r1(x(p.t))},${r1(y(p.v))}`).join(' ');
        parts.push(`<polyline data-series="${esc(s.name)}" fill="none" stroke="${esc(s.color)}" stroke-width="1.5" points="${pts}"/>`);
      }
    }
    const lx = left + i * 120;
    parts.push(`<rect x="${lx}" y="${H - 14}" width="10" height="10" fill="${esc(s.color)}"/><text class="legend" x="${lx + 14}" y="${H - 5}">${esc(s.name)}</text>`);
  });
  return (
    `<svg class="plot" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.title)}">` +
    `<title>${esc(o.title)}</title>${parts.join('')}</svg>`
  );
}
