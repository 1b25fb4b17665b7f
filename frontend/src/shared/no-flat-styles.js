/**
 * Stands in for OpenLayers' `ol/render/canvas/style.js` in the widget's build (vite.config.js).
 *
 * Why: OpenLayers' vector layers import it to accept "flat" style objects, and with it the whole
 * style-expression compiler (about 26 KB unminified), though the widget only ever gives its
 * layers `Style` objects or style functions. On a slow mobile link every KB of the script is
 * time before the map's first frame (bench/widget.py). A flat style reaching a layer is a bug
 * here: it says so rather than drawing nothing.
 */
export function flatStyleLikeToStyleFunction() {
  throw new Error('webmap: flat styles are not in the widget build; give the layer ol/style/Style objects or a function');
}
