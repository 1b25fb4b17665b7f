import { describe, expect, it } from 'vitest';
import sv from '../src/picker/i18n/sv.js';
import en from '../src/picker/i18n/en.js';
import { createSketch } from '../src/picker/sketch.js';
import { createVertexEditor } from '../src/picker/vertex-edit.js';

// About 100 m × 100 m at Östermalm (1° lat ≈ 111.2 km, 1° lon ≈ 56.8 km at 59.34° N).
const SQUARE = [
  [18.07, 59.338],
  [18.07 + 100 / 56_800, 59.338],
  [18.07 + 100 / 56_800, 59.338 + 100 / 111_195],
  [18.07, 59.338 + 100 / 111_195],
];
// One step: 10 m (small: 2 m) east per dx, south per dy, like a map (screen y grows downwards).
const offset = (p, dx, dy, small) => {
  const m = small ? 2 : 10;
  return [p[0] + (dx * m) / 56_800, p[1] - (dy * m) / 111_195];
};

function setup(t = sv) {
  const sketch = createSketch('polygon');
  SQUARE.forEach((p) => sketch.add(p));
  const spoken = [];
  const focused = [];
  const editor = createVertexEditor({
    sketch,
    t,
    announce: (text) => spoken.push(text),
    changed: () => `${sketch.count} hörn.`,
    offset,
    focus: (p) => focused.push(p),
  });
  return { sketch, editor, spoken, focused };
}

describe('vertex editor', () => {
  it('leaves the keys to the map while nothing is selected', () => {
    const { editor, spoken } = setup();
    for (const key of ['ArrowUp', 'ArrowLeft', 'Enter', 'Escape', 'Delete', '+']) {
      expect(editor.key({ key })).toBe(false);
    }
    expect(spoken).toEqual([]);
  });

  it('steps through the vertices with Page Down / Page Up and brackets, wrapping, and centres on each', () => {
    const { editor, spoken, focused } = setup();
    expect(editor.key({ key: 'PageDown' })).toBe(true);
    expect(editor.selected).toBe(0);
    expect(spoken.at(-1)).toBe('Punkt 1 av 4 vald. Piltangenterna flyttar punkten, Esc släpper den.');
    expect(focused.at(-1)).toEqual(SQUARE[0]);
    editor.key({ key: ']' });
    expect(spoken.at(-1)).toMatch(/^Punkt 2 av 4 vald/);
    editor.key({ key: 'PageUp' });
    editor.key({ key: '[' });
    expect(editor.selected).toBe(3); // wrapped from the first to the last
    expect(focused.at(-1)).toEqual(SQUARE[3]);
  });

  it('Page Up with nothing selected starts at the last vertex (the one just added)', () => {
    const { editor } = setup();
    editor.key({ key: 'PageUp' });
    expect(editor.selected).toBe(3);
  });

  it('moves the selected vertex with the arrows (Shift: small), one undo step each', () => {
    const { sketch, editor, spoken, focused } = setup();
    editor.key({ key: ']' });
    editor.key({ key: ']' }); // vertex 2 (south-east corner)
    expect(editor.key({ key: 'ArrowRight' })).toBe(true);
    expect(spoken.at(-1)).toBe('Punkt 2 flyttad 10 m österut. 4 hörn.');
    expect(sketch.vertices[1][0]).toBeCloseTo(SQUARE[1][0] + 10 / 56_800, 9);
    expect(sketch.vertices[1][1]).toBeCloseTo(SQUARE[1][1], 9);
    expect(focused.at(-1)).toEqual(sketch.vertices[1]); // the map follows the vertex
    editor.key({ key: 'ArrowDown', shiftKey: true });
    expect(spoken.at(-1)).toBe('Punkt 2 flyttad 2 m söderut. 4 hörn.');
    // The other vertices did not move.
    expect(sketch.vertices.filter((_, i) => i !== 1)).toEqual(SQUARE.filter((_, i) => i !== 1));
    expect(sketch.undo()).toBe(true);
    editor.sync();
    expect(sketch.vertices[1][1]).toBeCloseTo(SQUARE[1][1], 9);
    expect(sketch.undo()).toBe(true);
    expect(sketch.vertices).toEqual(SQUARE);
    expect(editor.selected).toBe(1); // still selected: the vertex exists
  });

  it('releases with Escape or Enter, after which the arrows pan again', () => {
    const { editor, spoken } = setup();
    editor.key({ key: ']' });
    expect(editor.key({ key: 'Escape' })).toBe(true);
    expect(spoken.at(-1)).toBe('Punkt 1 släppt. Piltangenterna flyttar kartan.');
    expect(editor.selected).toBeNull();
    expect(editor.key({ key: 'ArrowUp' })).toBe(false);
    editor.key({ key: ']' });
    expect(editor.key({ key: 'Enter' })).toBe(true);
    expect(editor.selected).toBeNull();
  });

  it('Delete removes the selected vertex, not the last one', () => {
    const { sketch, editor, spoken } = setup();
    editor.key({ key: ']' });
    editor.key({ key: ']' });
    expect(editor.key({ key: 'Delete' })).toBe(true);
    expect(sketch.vertices).toEqual([SQUARE[0], SQUARE[2], SQUARE[3]]);
    expect(spoken.at(-1)).toBe('Punkt 2 borttagen. 3 hörn.');
    expect(editor.selected).toBeNull();
  });

  it('drops the selection when an undo removes the selected vertex', () => {
    const { sketch, editor } = setup();
    editor.key({ key: 'PageUp' }); // vertex 4, the last added
    sketch.undo(); // undoes adding vertex 4
    editor.sync();
    expect(editor.selected).toBeNull();
  });

  it('says so when there is nothing to select, in English too', () => {
    const sketch = createSketch('line');
    const spoken = [];
    const editor = createVertexEditor({ sketch, t: en, announce: (x) => spoken.push(x), changed: () => '', offset, focus: () => {} });
    expect(editor.key({ key: 'PageDown' })).toBe(true);
    expect(spoken).toEqual(['There is no point to select. Add one with Enter.']);
    sketch.add(SQUARE[0]);
    sketch.add(SQUARE[1]);
    editor.key({ key: 'PageDown' });
    editor.key({ key: 'ArrowUp' });
    expect(spoken.slice(1)).toEqual([
      'Point 1 of 2 selected. The arrow keys move the point, Esc releases it.',
      'Point 1 moved 10 m north. ',
    ]);
  });
});

describe('sketch move and remove', () => {
  it('refuses indexes that do not exist', () => {
    const sketch = createSketch('line');
    sketch.add(SQUARE[0]);
    expect(sketch.move(1, SQUARE[1])).toBe(false);
    expect(sketch.remove(-1)).toBe(false);
    expect(sketch.move(0, SQUARE[1])).toBe(true);
    expect(sketch.vertices).toEqual([SQUARE[1]]);
  });
});
