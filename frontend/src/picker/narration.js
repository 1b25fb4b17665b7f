/**
 * When the map comes to rest, what the live region should say: the zoom level when it changed
 * (with "zoom in to choose" while too far out) and what is under the crosshair (whereabouts.js).
 * Two rests say nothing: the map's first settling after it loads, and arriving where a click or
 * tap chose a place — the choice's own announcement speaks for that.
 */

/**
 * @param {{whereabouts: {moved: Function}, t: object, minZoom: () => number,
 *   zoomRefusal: (zoom: number) => string}} options
 */
export function createNarration({ whereabouts, t, minZoom, zoomRefusal }) {
  let lastZoom = null;
  let tapped = null;

  /** Speak (ambient) the zoom level, when asked, and what is under the crosshair. */
  function tell({ center, zoom }, wait = undefined, withZoom = true) {
    const rounded = Math.round(zoom);
    const canLook = rounded >= minZoom();
    const zoomText = withZoom ? `${t.zoomLevel(rounded)}${canLook ? '' : ` ${zoomRefusal(rounded)}`}` : '';
    whereabouts.moved({ center, zoomText, canLook }, wait);
  }

  return {
    tell,
    /** A click or tap is moving the crosshair to `lonLat` to choose there. */
    tapped(lonLat) {
      tapped = lonLat;
    },
    /** The map stopped at `state` (said when it is news); true when that was news and the map
     * is zoomed in far enough to choose, so a "zoom in" refusal no longer applies. */
    stopped(state) {
      const rounded = Math.round(state.zoom);
      const first = lastZoom === null;
      const zoomChanged = rounded !== lastZoom;
      lastZoom = rounded;
      const arrived = tapped;
      tapped = null;
      if (first) return false;
      const [x, y] = state.center;
      if (arrived && !zoomChanged && Math.hypot(arrived[0] - x, arrived[1] - y) < 1e-6) return false;
      tell(state, undefined, zoomChanged);
      return rounded >= minZoom();
    },
  };
}
