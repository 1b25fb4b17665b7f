/**
 * Opening the picker's map: where it starts (the element's attributes), which of the picker's
 * parts each map gesture and key reaches (drawing, help, the touch hint), the chosen-place
 * marker, and the map's readiness marked on its container. The view is returned at once so the
 * keyboard works while the first tiles load; `ready` settles when they are drawn (or rejects
 * when the map cannot start, which element.js turns into the text fallback).
 */
import { initialView, layerUrls, overlayUrls } from './attributes.js';
import { addExternalBasemap } from '../shared/external-basemap.js';
import { mapProjection } from '../shared/map-projection.js';
import { createMarker } from './marker.js';
import { takePreview } from './preview.js';

/**
 * @param {Function} createMapView map-view.js's factory (or the embed's)
 * @param {HTMLElement} element the <webmap-picker>
 * @param {{container: HTMLElement, base: URL, drawing: object|null, help: object, hint: object,
 *   onOverlayError: Function, onMoveEnd: Function, onChoose: Function, onPoint: Function,
 *   start?: {center: [number, number], zoom: number} | null, layers?: string[] | null}} parts
 */
export function openMap(createMapView, element, parts) {
  const { container, base, drawing, help, hint } = parts;
  // The page's picture of the start view stays until the map has drawn (preview.js); a map that
  // cannot start at all hides it by CSS (.map-area.failed).
  const preview = takePreview(element);
  // `start` and `layers`: what the picker's municipality asks for (municipality.js), if anything.
  const start = parts.start || initialView(element);
  const view = createMapView(container, {
    styleUrl: new URL('styles/basemap.json', base).href,
    overlays: parts.layers ? layerUrls(parts.layers, base) : overlayUrls(element, base),
    onOverlayError: parts.onOverlayError,
    ...start,
    // projection="EPSG:3006": the same map in SWEREF 99 TM (map-projection.js).
    projection: mapProjection(element.getAttribute('projection'), start.center[1]),
    onMoveEnd: parts.onMoveEnd,
    onChoose: () => (drawing ? drawing.add() : parts.onChoose()),
    onPoint: parts.onPoint,
    onDelete: drawing ? () => drawing.removeLast() : undefined,
    onUndo: drawing ? () => drawing.undo() : undefined,
    onKey: drawing ? (event) => drawing.key(event) : undefined,
    onHelp: () => help.toggle(),
    onEscape: () => help.toggle(false),
    onGestureHint: (kind) => hint.gesture(kind),
    // The first two-finger pan while the touch hint shows: the person has got it.
    onTwoFingerPan: () => hint.showing && hint.dismiss(),
  });
  const marker = createMarker(view.map);
  // municipality="…" with its own licensed raster basemap: drawn under our layers.
  addExternalBasemap(view.map, base, element.getAttribute('municipality'), {
    onError: (error) => parts.onOverlayError?.('basemap', error),
  });
  drawing?.attach(view);
  const ready = view.ready.then(
    () => {
      container.dataset.state = 'ready';
      // When the first tiles were drawn, in ms since navigation (bench/widget.py reads it).
      container.dataset.readyMs = String(Math.round(performance.now()));
      preview.leave();
      view.labelled?.then((ms) => (container.dataset.labelsMs = String(Math.round(ms))));
    },
    (error) => {
      preview.leave(true);
      throw error;
    },
  );
  return { view, marker, ready };
}
