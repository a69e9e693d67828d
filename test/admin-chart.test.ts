import { describe, expect, it } from 'vitest';
import { barGeometry } from '../assets/src/lib/chart-geometry';

describe('the dashboard bar chart (assets/src/lib/chart.ts)', () => {
  it('scales every bar to the largest value and keeps bars inside the drawing', () => {
    const bars = barGeometry([0, 5, 10, 2], 200, 50);
    expect(bars.map((b) => b.height)).toEqual([0, 24, 48, 10]);
    for (const b of bars) {
      expect(b.y + b.height).toBe(50);
      expect(b.x + b.width).toBeLessThanOrEqual(200);
    }
    expect(bars.map((b) => b.x)).toEqual([...bars.map((b) => b.x)].sort((a, z) => a - z));
  });

  it('draws a quiet period flat rather than dividing by zero, and a negative value as nothing', () => {
    expect(barGeometry([0, 0, 0], 90, 40).map((b) => b.height)).toEqual([0, 0, 0]);
    expect(barGeometry([-3, 1], 90, 40).map((b) => b.height)).toEqual([0, 38]);
    expect(barGeometry([], 90, 40)).toEqual([]);
  });

  it('gives each of 30 days a bar at least a pixel wide', () => {
    const bars = barGeometry(
      Array.from({ length: 30 }, (_, i) => i),
      280,
      58,
    );
    expect(bars).toHaveLength(30);
    expect(Math.min(...bars.map((b) => b.width))).toBeGreaterThanOrEqual(1);
  });
});
