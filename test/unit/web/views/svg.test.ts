import { describe, expect, it } from 'vitest';
import { niceMax, segments, sparkline, timePlot } from '../../../../src/web/views/svg.ts';

function points(svg: string, series: string): Array<[number, number]> {
  const m = new RegExp(`<polyline data-series="${series}"[^>]*points="([^"]*)"`).exec(svg);
  return (m?.[1] ?? '').split(' ').filter((p) => p !== '').map((p) => p.split(',').map(Number) as [number, number]);
}

describe('web/views/svg', () => {
  it('draws a sparkline scaled to its maximum, escaping its title', () => {
    const s = sparkline([0, 5, 10], { width: 100, height: 22, title: '<3 pilots>' });
    expect(s).toContain('<title>&lt;3 pilots&gt;</title>');
    expect(s).toContain('points="0,21 50,11 100,1"');
    expect(sparkline([0, 0], { title: 'x', width: 10, height: 10 })).toContain('points="0,9 10,9"');
  });

  it('rounds the axis maximum up to 1, 2 or 5 × 10^k', () => {
    expect([niceMax(0), niceMax(0.3), niceMax(7), niceMax(10), niceMax(11), niceMax(420), niceMax(2001)]).toEqual([1, 0.5, 10, 10, 20, 500, 5000]);
  });

  it('breaks series at unknown values', () => {
    const seg = segments([{ t: 1, v: 1 }, { t: 2, v: null }, { t: 3, v: 2 }, { t: 4, v: 3 }]);
    expect(seg).toEqual([[{ t: 1, v: 1 }], [{ t: 3, v: 2 }, { t: 4, v: 3 }]]);
  });

  it('plots series over time: x from first to last time, y from 0 to the rounded maximum', () => {
    const svg = timePlot(
      [
        { name: 'ready', color: '#123', points: [{ t: 0, v: 0 }, { t: 50, v: 50 }, { t: 100, v: 100 }] },
        { name: 'gap<', color: '#456', points: [{ t: 0, v: 10 }, { t: 50, v: null }, { t: 100, v: 20 }] },
      ],
      { width: 260, height: 156, title: 'a "plot"' },
    );
    // plot area: x 48..248, y 12..112
    expect(points(svg, 'ready')).toEqual([[48, 112], [148, 62], [248, 12]]);
    expect(svg).toContain('aria-label="a &quot;plot&quot;"');
    // the broken series: two dots, no line
    expect(svg).not.toContain('<polyline data-series="gap&lt;"');
    expect(svg.match(/<circle data-series="gap&lt;"/g)).toHaveLength(2);
    expect(svg).toContain('<text class="legend" x="182" y="151">gap&lt;</text>');
  });
});
