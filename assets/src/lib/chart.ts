import { AXIS, barGeometry, HEIGHT, shortDay, WIDTH, type ChartPoint } from './chart-geometry';

export { shortDay, type ChartPoint };

/**
 * A small bar chart in SVG, one bar per day. Ships with the page (no library, no CDN). The
 * picture is role="img" with a label that reads out every number, so a screen reader gets the
 * same data; the dashboard also offers the numbers as a table.
 */

const SVG = 'http://www.w3.org/2000/svg';

function node<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** One figure per day as bars, with the first and last day under the axis and each day's number in a tooltip. */
export function barChart(label: string, points: ChartPoint[]): SVGSVGElement {
  const svg = node('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    width: '100%',
    height: HEIGHT,
    role: 'img',
    class: 'chart',
    preserveAspectRatio: 'none',
  });
  const spoken = `${label}, per day: ${points.map((p) => `${shortDay(p.day)} ${p.value}`).join(', ')}`;
  svg.setAttribute('aria-label', spoken);
  const title = node('title', {});
  title.textContent = spoken;
  svg.append(title);
  svg.append(node('line', { x1: 0, x2: WIDTH, y1: HEIGHT - AXIS, y2: HEIGHT - AXIS, class: 'chart-axis' }));
  barGeometry(points.map((p) => p.value)).forEach((b, i) => {
    const rect = node('rect', { x: b.x.toFixed(1), y: b.y, width: b.width.toFixed(1), height: b.height, class: 'chart-bar' });
    const tip = node('title', {});
    const point = points[i];
    tip.textContent = point ? `${shortDay(point.day)}: ${point.value}` : '';
    rect.append(tip);
    svg.append(rect);
  });
  const first = points[0];
  const last = points.at(-1);
  if (first && last) {
    const start = node('text', { x: 0, y: HEIGHT - 2, class: 'chart-label' });
    start.textContent = shortDay(first.day);
    const end = node('text', { x: WIDTH, y: HEIGHT - 2, class: 'chart-label', 'text-anchor': 'end' });
    end.textContent = shortDay(last.day);
    svg.append(start, end);
  }
  return svg;
}
