/**
 * Line and polygon drawing for <webmap-picker mode="line|polygon">: connects the sketch
 * (sketch.js), its picture on the map (sketch-layer.js), the buttons and keys, and the
 * announcements. The element asks it to add, remove, undo and finish; it answers with the
 * finished geometry or a spoken reason why not yet. Selecting and moving a vertex by keyboard is
 * vertex-edit.js; its keys come first (`key`), so the arrows pan only while none is selected.
 */
import { USER } from './announcer.js';
import { createSketch } from './sketch.js';
import { createSketchLayer } from './sketch-layer.js';
import { createVertexEditor } from './vertex-edit.js';

/**
 * @param {{mode: 'line' | 'polygon', t: object, announce: (text: string, priority?: string) => void,
 *   done: HTMLButtonElement, canAdd: () => string | null, refuse: (text: string, kind?: string) => void,
 *   added: () => void}} options `canAdd` returns a refusal text (e.g. "zoom in") or null;
 *   `refuse` says (and shows) why a corner or the shape was refused; `added` follows a corner
 *   that was added (the element clears a shown refusal)
 */
export function createDrawing({ mode, t, announce, done, canAdd, refuse, added }) {
  const sketch = createSketch(mode);
  let layer = null;
  let mapView = null;
  let editor = null;

  function update() {
    layer?.redraw();
    const problem = sketch.problem();
    done.setAttribute('aria-disabled', String(problem !== null));
    return problem;
  }

  function status() {
    const problem = sketch.problem();
    const count = t.vertexCount(mode, sketch.count);
    if (problem === null) return `${count} ${t.shapeReady(mode)}`;
    return `${count} ${t.shapeProblem(mode, problem)}`;
  }

  const api = {
    sketch,
    /** Attach to the map once it exists. */
    attach(view) {
      mapView = view;
      layer = createSketchLayer(view.map, sketch, () => editor?.selected ?? null);
      editor = createVertexEditor({
        sketch,
        t,
        announce,
        changed: () => {
          update();
          return status();
        },
        offset: (point, dx, dy, small) => view.offset(point, dx, dy, small),
        focus: (point) => view.goTo(point, 0),
      });
      update();
    },
    /** A key on the map, for vertex editing; true when used. */
    key(event) {
      const used = editor ? editor.key(event) : false;
      if (used) layer?.redraw(); // the selection mark, even when nothing moved
      return used;
    },
    /** Add a vertex at the crosshair, or at `point` (lon, lat: a click or tap on the map). */
    add(point = null) {
      if (!mapView) return;
      const refusal = canAdd();
      if (refusal) {
        refuse(refusal, 'zoom');
        return;
      }
      if (!sketch.add(point ?? mapView.state().center)) {
        refuse(t.vertexRepeat);
        return;
      }
      added();
      update();
      announce(`${t.vertexAdded(sketch.count)} ${status()}`, USER);
    },
    removeLast() {
      if (editor?.selected != null) {
        editor.key({ key: 'Delete' }); // removes the selected vertex instead
        return;
      }
      if (!sketch.removeLast()) {
        announce(t.nothingToRemove, USER);
        return;
      }
      update();
      announce(`${t.vertexRemoved} ${status()}`, USER);
    },
    undo() {
      if (!sketch.undo()) {
        announce(t.nothingToUndo, USER);
        return;
      }
      editor?.sync();
      update();
      announce(`${t.undone} ${status()}`, USER);
    },
    clear() {
      editor?.release();
      sketch.clear();
      update();
    },
    /** The finished shape, or null after announcing why it is not finished. */
    finish() {
      const problem = update();
      if (problem !== null) {
        const needed = mode === 'polygon' ? 3 : 2;
        refuse(problem === 'tooFew' ? t.shapeMissing(mode, needed - sketch.count) : t.shapeProblem(mode, problem));
        return null;
      }
      return { geometry: sketch.geometry(), centre: sketch.centre(), measure: sketch.measure() };
    },
  };
  return api;
}
