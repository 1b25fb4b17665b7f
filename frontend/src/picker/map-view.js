/**
 * The picker's map: OpenLayers over our basemap style (drawn by shared/mini-style.js), driven by
 * keyboard, buttons and gestures.
 *
 * One tab stop (the map element itself). Keys act only while it has focus (WCAG 2.1.4), and
 * `role="application"` is set only while it has focus, so screen readers browse the page
 * normally otherwise. Cooperative gestures: the mouse wheel zooms only with Ctrl (or ⌘), one
 * finger scrolls the page and two fingers move the map, so the page scroll is never trapped.
 *
 * Pointer choice: a single click or tap (OpenLayers' `singleclick`, which waits 250 ms for a
 * possible double-click) is handed to `onPoint` with where it landed. A drag, a two-finger pan or
 * pinch, a gesture the browser took over (pointercancel) and a double-click (which zooms) never
 * are: `tap` below tracks the gesture the click belongs to.
 */
import Map from 'ol/Map.js';
import View from 'ol/View.js';
import Attribution from 'ol/control/Attribution.js';
import { platformModifierKeyOnly } from 'ol/events/condition.js';
import DoubleClickZoom from 'ol/interaction/DoubleClickZoom.js';
import DragPan from 'ol/interaction/DragPan.js';
import MouseWheelZoom from 'ol/interaction/MouseWheelZoom.js';
import PinchZoom from 'ol/interaction/PinchZoom.js';
import { fromLonLat as lonLatTo, toLonLat as xyTo } from 'ol/proj.js';
import { startTileUrls } from '../shared/first-tiles.js';
import { basemapLayer, overlayLayer } from '../shared/mini-style.js';
import { prefersReducedMotion } from '../shared/geo.js';

/** How far (px) a pointer may wander and still be a click or tap, not a drag (fingers jitter). */
const MOVE_TOLERANCE = 4;
/** Part of the map's size one arrow press moves; Shift moves a small step. */
const STEP = 0.25;
const SMALL_STEP = 0.05;
/** Part of the map's size one arrow press moves a selected vertex (vertex-edit.js). */
const VERTEX_STEP = 0.1;
const SMALL_VERTEX_STEP = 0.02;
const DIRECTIONS = {
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
};

/**
 * @param {HTMLElement} element the focusable map element (tabindex=0, labelled by the caller)
 * @param {{styleUrl: string, center: [number, number], zoom: number, maxZoom?: number,
 *   onMoveEnd?: (state: {center: [number, number], zoom: number}) => void,
 *   onChoose?: () => void, onHelp?: () => void, onEscape?: () => void,
 *   onDelete?: () => void, onUndo?: () => void, overlays?: string[],
 *   onKey?: (event: KeyboardEvent) => boolean,
 *   onOverlayError?: (url: string, error: Error) => void,
 *   onGestureHint?: (kind: 'wheel' | 'touch') => void,
 *   onTwoFingerPan?: () => void,
 *   onPoint?: (lonLat: [number, number]) => void, projection?: object | null}} options `onPoint`:
 *   a single click or tap; `projection`: another CRS than Web Mercator (map-projection.js)
 */
export function createMapView(element, options) {
  // Every place in and out is longitude, latitude; the view's own CRS stays inside.
  const crs = options.projection?.projection ?? 'EPSG:3857';
  const fromLonLat = (lonLat) => lonLatTo(lonLat, crs);
  const toLonLat = (xy) => xyTo(xy, crs);
  const view = new View({
    projection: crs,
    ...(options.projection ? { resolutions: options.projection.resolutions } : {}),
    center: fromLonLat(options.center),
    zoom: options.zoom,
    maxZoom: options.maxZoom ?? 20,
    minZoom: 3,
    constrainResolution: true,
  });
  const map = new Map({
    target: element,
    view,
    moveTolerance: MOVE_TOLERANCE,
    controls: [new Attribution({ collapsible: false })],
    interactions: [
      new DragPan({
        // Mouse and pen drag at once; touch needs two fingers, one finger scrolls the page.
        condition(event) {
          const pointer = event.originalEvent.pointerType;
          return pointer !== 'touch' || this.getPointerCount() >= 2;
        },
      }),
      new PinchZoom(),
      new DoubleClickZoom(),
      new MouseWheelZoom({ condition: platformModifierKeyOnly }),
    ],
  });
  // OpenLayers forbids every browser gesture on its viewport; give the page back its scroll.
  map.getViewport().style.touchAction = 'pan-x pan-y';

  const duration = () => (prefersReducedMotion() ? 0 : 150);

  // Where the current animation is heading: a key pressed mid-animation steps from there, so
  // "right, left" always returns to the same place however fast the keys come.
  let target = null;
  const targetCenter = () => (view.getAnimating() && target?.center) || view.getCenter();
  const targetZoom = () => (view.getAnimating() && target?.zoom !== undefined ? target.zoom : view.getZoom() ?? 0);

  function animate(to, done) {
    target = { center: to.center || targetCenter(), zoom: to.zoom ?? targetZoom() };
    view.cancelAnimations();
    const step = { center: target.center, zoom: target.zoom, duration: duration() };
    if (done) view.animate(step, done);
    else view.animate(step);
  }

  function panBy(dx, dy, step) {
    const size = map.getSize();
    const center = targetCenter();
    if (!size || !center) return;
    const resolution = view.getResolutionForZoom(targetZoom());
    animate({ center: [center[0] + dx * size[0] * step * resolution, center[1] - dy * size[1] * step * resolution] });
  }

  function zoomBy(delta) {
    const zoom = Math.round(targetZoom()) + delta;
    animate({ zoom: Math.max(view.getMinZoom(), Math.min(view.getMaxZoom(), zoom)) });
  }

  function onKeyDown(event) {
    if (event.target !== element || event.altKey) return;
    // Vertex editing (drawing) takes its keys first; the arrows pan only when it declines them.
    if (!event.ctrlKey && !event.metaKey && options.onKey?.(event)) {
      event.preventDefault();
      return;
    }
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'z' && options.onUndo) {
      event.preventDefault();
      options.onUndo();
      return;
    }
    if (event.ctrlKey || event.metaKey) return;
    const direction = DIRECTIONS[event.key];
    let handled = true;
    if (direction) panBy(direction[0], direction[1], event.shiftKey ? SMALL_STEP : STEP);
    else if (event.key === '+' || event.key === '=') zoomBy(1);
    else if (event.key === '-' || event.key === '_') zoomBy(-1);
    else if (event.key === 'Enter' || event.key === ' ') options.onChoose?.();
    else if (event.key === '?') options.onHelp?.();
    else if (event.key === 'Escape') options.onEscape?.();
    else if ((event.key === 'Delete' || event.key === 'Backspace') && options.onDelete) options.onDelete();
    else handled = false;
    if (handled) event.preventDefault();
  }

  function onWheel(event) {
    if (!event.ctrlKey && !event.metaKey) options.onGestureHint?.('wheel');
  }

  let touches = 0;
  function onTouchStart(event) {
    touches = event.touches.length;
  }
  function onTouchMove() {
    if (touches === 1) options.onGestureHint?.('touch');
    else if (touches >= 2) options.onTwoFingerPan?.();
  }

  const setApplication = () => element.setAttribute('role', 'application');
  const unsetApplication = () => element.setAttribute('role', 'region');
  element.addEventListener('keydown', onKeyDown);
  element.addEventListener('focus', setApplication);
  element.addEventListener('blur', unsetApplication);
  element.addEventListener('wheel', onWheel, { passive: true });
  element.addEventListener('touchstart', onTouchStart, { passive: true });
  element.addEventListener('touchmove', onTouchMove, { passive: true });

  map.on('moveend', () => options.onMoveEnd?.(state()));

  // Was the gesture that just ended a clean tap? One pointer, not dragged, not cancelled by the
  // browser (a one-finger page scroll), no second finger at any time (two-finger pan, pinch).
  // OpenLayers already leaves most of these out of `singleclick`; this makes sure of all of them.
  let tap = false;
  map.on('pointerdown', (event) => {
    tap = event.activePointers?.length === 1;
  });
  map.on('pointerdrag', () => {
    tap = false;
  });
  map.on('pointerup', (event) => {
    if (event.originalEvent.type === 'pointercancel') tap = false;
  });
  map.on('singleclick', (event) => {
    if (!tap || !options.onPoint) return;
    tap = false;
    options.onPoint(toLonLat(event.coordinate));
  });

  function state() {
    return { center: toLonLat(view.getCenter()), zoom: view.getZoom() ?? 0 };
  }

  // Overlays (the `layers` attribute) are extras: one that fails is left out, the map goes on.
  for (const url of options.overlays || []) {
    overlayLayer(url, { grid: options.projection?.tiles })
      .then((layer) => map.addLayer(layer))
      .catch((error) => options.onOverlayError?.(url, error));
  }

  const tilejsonHint = new URL('../tiles/basemap.json', options.styleUrl).href;
  // When a frame with the labels was complete (the label font had loaded): bench/widget.py.
  let labelled;
  const labelledPromise = new Promise((resolve) => (labelled = resolve));
  // Ready when the first view is drawn; failed (rejected) when the style or TileJSON could not
  // be had, or when not one of the first tiles loaded (the tile server is unreachable): a map of
  // empty squares is no map, and the picker then offers its text field at once.
  // The start view's tiles all decoded before the layer draws (first-tiles.js): one complete
  // frame instead of one frame per tile arriving.
  const withStartTiles = (layer) => layer.get('prefetch')(startTileUrls(layer, map)).then(() => layer);
  const ready = basemapLayer(options.styleUrl, { tilejsonHint, grid: options.projection?.tiles }).then(withStartTiles).then(
    (layer) =>
      new Promise((resolve, reject) => {
        const tiles = { loaded: 0, failed: 0 };
        const source = layer.getSource();
        const onLoad = () => (tiles.loaded += 1);
        const onError = () => (tiles.failed += 1);
        source.on('tileloadend', onLoad);
        source.on('tileloaderror', onError);
        map.getLayers().insertAt(0, layer);
        const withLabels = () => {
          if (!layer.get('labels')?.ready) return;
          map.un('rendercomplete', withLabels);
          labelled(performance.now());
        };
        map.on('rendercomplete', withLabels);
        map.once('rendercomplete', () => {
          source.un('tileloadend', onLoad);
          source.un('tileloaderror', onError);
          if (tiles.failed > 0 && tiles.loaded === 0) reject(new Error(`none of ${tiles.failed} basemap tiles loaded`));
          else resolve(true);
        });
        map.render();
      }),
  );

  return {
    map,
    ready,
    labelled: labelledPromise,
    state,
    panBy: (dx, dy, small = false) => panBy(dx, dy, small ? SMALL_STEP : STEP),
    zoomBy,
    /** Where one vertex step (a share of the map's size, as on screen) from a lon/lat lands. */
    offset(lonLat, dx, dy, small = false) {
      const size = map.getSize() || [320, 320];
      const share = (small ? SMALL_VERTEX_STEP : VERTEX_STEP) * Math.min(size[0], size[1]);
      const resolution = view.getResolutionForZoom(targetZoom());
      const [x, y] = fromLonLat(lonLat);
      return toLonLat([x + dx * share * resolution, y - dy * share * resolution]);
    },
    /**
     * Move the centre (the crosshair) to a point (EPSG:4326) at the current zoom; animated unless
     * reduced motion is asked for. Resolves true when it got there, false when something else
     * (another key, click or gesture) took over on the way.
     */
    centreOn(lonLat) {
      return new Promise((resolve) => animate({ center: fromLonLat(lonLat) }, (arrived) => resolve(arrived)));
    },
    /** Centre on a point (EPSG:4326), at least at `zoom`. */
    goTo(lonLat, zoom) {
      animate({ center: fromLonLat(lonLat), zoom: Math.max(zoom, targetZoom()) });
    },
    destroy() {
      element.removeEventListener('keydown', onKeyDown);
      element.removeEventListener('focus', setApplication);
      element.removeEventListener('blur', unsetApplication);
      element.removeEventListener('wheel', onWheel);
      element.removeEventListener('touchstart', onTouchStart);
      element.removeEventListener('touchmove', onTouchMove);
      map.setTarget(undefined);
    },
  };
}
