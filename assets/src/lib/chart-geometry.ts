/** The chart's arithmetic, apart from the DOM so it is tested without a browser. */

export interface ChartPoint {
  /** `YYYY-MM-DD`. */
  day: string;
  value: number;
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const WIDTH = 280;
export const HEIGHT = 72;
export const AXIS = 14;

/** Bars scaled to the largest value (at least 1, so a quiet period draws flat, not divided by zero). */
export function barGeometry(values: number[], width = WIDTH, height = HEIGHT - AXIS): Bar[] {
  const max = Math.max(1, ...values);
  const slot = values.length > 0 ? width / values.length : width;
  const gap = Math.min(4, slot * 0.2);
  return values.map((v, i) => {
    const h = Math.round((Math.max(0, v) / max) * (height - 2));
    return { x: i * slot + gap / 2, y: height - h, width: Math.max(1, slot - gap), height: h };
  });
}

/** "25 Nov" for `2026-11-25`, read in UTC so the day never shifts with the browser's zone. */
export function shortDay(day: string): string {
  return new Date(`${day}T12:00:00Z`).toLocaleDateString(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
}
