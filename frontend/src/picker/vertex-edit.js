/**
 * Moving a vertex of a line or polygon by keyboard, without taking the arrows away from panning.
 *
 * Page Down / `]` selects the next vertex and Page Up / `[` the previous one ("Punkt 2 av 4
 * vald"); the map centres on it so it sits under the crosshair. While a vertex is selected the
 * arrows move it (Shift: small steps) and the map follows; Delete removes it; Enter or Esc
 * releases it and the arrows pan the map again. Every move is one undo step in the sketch, so
 * Ctrl+Z puts the vertex back. No map and no DOM here: the map's part (how far one step goes,
 * centring) is passed in, so the rules are unit-tested (test/vertex-edit.test.js).
 */
import { USER } from './announcer.js';
import { lineLength } from './sketch.js';

const DIRECTIONS = {
  ArrowUp: [0, -1, 'north'],
  ArrowDown: [0, 1, 'south'],
  ArrowLeft: [-1, 0, 'west'],
  ArrowRight: [1, 0, 'east'],
};
const NEXT = new Set(['PageDown', ']']);
const PREVIOUS = new Set(['PageUp', '[']);
const RELEASE = new Set(['Escape', 'Enter', ' ']);

/**
 * @param {{sketch: ReturnType<import('./sketch.js').createSketch>, t: object,
 *   announce: (text: string, priority?: string) => void,
 *   changed: () => string,
 *   offset: (point: number[], dx: number, dy: number, small: boolean) => number[],
 *   focus: (point: number[]) => void}} options `changed` redraws after a change and returns the
 *   shape's status sentence; `offset` is where one arrow step from `point` lands (lon/lat);
 *   `focus` centres the map on a point.
 */
export function createVertexEditor({ sketch, t, announce, changed, offset, focus }) {
  let selected = null; // index into sketch.vertices, or null: the arrows pan the map

  function select(index) {
    selected = index;
    focus(sketch.vertices[index]);
    announce(t.vertexSelected(index + 1, sketch.count), USER);
  }

  function step(delta) {
    const count = sketch.count;
    if (!count) {
      announce(t.noVertexToSelect, USER);
      return;
    }
    if (selected === null) select(delta > 0 ? 0 : count - 1);
    else select((selected + delta + count) % count);
  }

  function move(dx, dy, direction, small) {
    const from = sketch.vertices[selected];
    const to = offset(from, dx, dy, small);
    sketch.move(selected, to);
    focus(to);
    const metres = Math.round(lineLength([from, to]));
    announce(`${t.vertexMoved(selected + 1, metres, direction)} ${changed()}`, USER);
  }

  return {
    /** The selected vertex's index, or null. */
    get selected() {
      return selected;
    },
    /**
     * Handle a key on the map; true when it was used (the map must not also pan or add).
     * @param {{key: string, shiftKey?: boolean}} event
     */
    key(event) {
      if (NEXT.has(event.key)) step(1);
      else if (PREVIOUS.has(event.key)) step(-1);
      else if (selected === null) return false;
      else if (DIRECTIONS[event.key]) {
        const [dx, dy, direction] = DIRECTIONS[event.key];
        move(dx, dy, direction, Boolean(event.shiftKey));
      } else if (RELEASE.has(event.key)) {
        announce(t.vertexReleased(selected + 1), USER);
        selected = null;
      } else if (event.key === 'Delete' || event.key === 'Backspace') {
        const number = selected + 1;
        selected = null;
        sketch.remove(number - 1);
        announce(`${t.vertexDeleted(number)} ${changed()}`, USER);
      } else return false;
      return true;
    },
    /** After an undo or clear: keep the selection only while that vertex still exists. */
    sync() {
      if (selected === null) return;
      if (selected >= sketch.count) selected = null;
      else focus(sketch.vertices[selected]);
    },
    release() {
      selected = null;
    },
  };
}
