import { describe, expect, it } from 'vitest';
import { createSketch, lineLength, ringArea, ringSelfIntersects, segmentsIntersect } from '../src/picker/sketch.js';

// About 100 m × 100 m at Östermalm (1° lat ≈ 111.2 km, 1° lon ≈ 56.8 km at 59.34° N).
const SQUARE = [
  [18.07, 59.338],
  [18.07 + 100 / 56_800, 59.338],
  [18.07 + 100 / 56_800, 59.338 + 100 / 111_195],
  [18.07, 59.338 + 100 / 111_195],
];

describe('geometry helpers', () => {
  it('measures a 100 m square as about 10 000 m²', () => {
    expect(ringArea(SQUARE)).toBeGreaterThan(9_900);
    expect(ringArea(SQUARE)).toBeLessThan(10_100);
  });
  it('measures a line', () => {
    expect(lineLength(SQUARE.slice(0, 2))).toBeCloseTo(100, -0.5);
  });
  it('finds crossing segments and self-intersecting rings', () => {
    expect(segmentsIntersect([0, 0], [1, 1], [0, 1], [1, 0])).toBe(true);
    expect(segmentsIntersect([0, 0], [1, 0], [0, 1], [1, 1])).toBe(false);
    expect(ringSelfIntersects(SQUARE)).toBe(false);
    const bowtie = [SQUARE[0], SQUARE[2], SQUARE[1], SQUARE[3]];
    expect(ringSelfIntersects(bowtie)).toBe(true);
  });
});

describe('polygon sketch', () => {
  it('is not done until it has three vertices, then closes counter-clockwise', () => {
    const sketch = createSketch('polygon');
    expect(sketch.problem()).toBe('tooFew');
    sketch.add(SQUARE[0]);
    sketch.add(SQUARE[3]);
    expect(sketch.problem()).toBe('tooFew');
    sketch.add(SQUARE[2]);
    expect(sketch.problem()).toBeNull();
    const geometry = sketch.geometry();
    expect(geometry.type).toBe('Polygon');
    const ring = geometry.coordinates[0];
    expect(ring).toHaveLength(4);
    expect(ring[0]).toEqual(ring[3]);
    // The input was clockwise (0 → 3 → 2); the output is counter-clockwise.
    expect(ring.slice(0, 3)).toEqual([SQUARE[2], SQUARE[3], SQUARE[0]]);
  });

  it('refuses a crossing shape and an immediate repeat', () => {
    const sketch = createSketch('polygon');
    for (const p of [SQUARE[0], SQUARE[2], SQUARE[1], SQUARE[3]]) sketch.add(p);
    expect(sketch.problem()).toBe('crosses');
    expect(sketch.add(SQUARE[3])).toBe(false);
    expect(sketch.count).toBe(4);
  });

  it('removes, clears and undoes step by step', () => {
    const sketch = createSketch('polygon');
    SQUARE.forEach((p) => sketch.add(p));
    expect(sketch.removeLast()).toBe(true);
    expect(sketch.count).toBe(3);
    sketch.clear();
    expect(sketch.count).toBe(0);
    expect(sketch.undo()).toBe(true); // undo clear
    expect(sketch.count).toBe(3);
    expect(sketch.undo()).toBe(true); // undo remove
    expect(sketch.count).toBe(4);
    expect(sketch.vertices).toEqual(SQUARE);
    for (let i = 0; i < 4; i += 1) sketch.undo();
    expect(sketch.count).toBe(0);
    expect(sketch.undo()).toBe(false);
  });

  it('gives the centre and the area', () => {
    const sketch = createSketch('polygon');
    SQUARE.forEach((p) => sketch.add(p));
    const [lon, lat] = sketch.centre();
    expect(lon).toBeCloseTo(18.07 + 50 / 56_800, 6);
    expect(lat).toBeCloseTo(59.338 + 50 / 111_195, 6);
    expect(Math.round(sketch.measure() / 100)).toBe(100);
  });
});

describe('line sketch', () => {
  it('needs two vertices and gives a LineString', () => {
    const sketch = createSketch('line');
    sketch.add(SQUARE[0]);
    expect(sketch.problem()).toBe('tooFew');
    sketch.add(SQUARE[1]);
    expect(sketch.problem()).toBeNull();
    expect(sketch.geometry()).toEqual({ type: 'LineString', coordinates: [SQUARE[0], SQUARE[1]] });
  });
});
