/**
 * A small renderer for our own MapLibre basemap style in OpenLayers, for the widget.
 *
 * Why not ol-mapbox-style here (the viewer uses it): it brings the full MapLibre expression
 * engine, about 60 KB gzipped, to draw a style that uses a handful of features. The widget's
 * budget is 150 KB for everything (issue 5), and on a slow phone each KB is time before the
 * first tiles. This module supports exactly what tiles/style.py emits — background, fill, line,
 * circle and symbol (text) layers; `minzoom`/`maxzoom`; legacy and expression filters (`==`,
 * `!=`, `!`, `in`, `!in`, `all`, `any`, `none`, `has`, `!has`); numbers or `interpolate` (linear /
 * exponential) on `zoom` — and reports anything else through `unsupported()`, which a test runs
 * on the served style so a new style feature cannot silently vanish from the widget's map.
 *
 * Labels are canvas text in Noto Sans, the font the glyph files are made from, loaded from our
 * server (fonts.js); they appear once it has loaded, so no label is first drawn in a fallback
 * font. The layer declutters: a label that would overlap a more important one is not drawn.
 */
import MVT from 'ol/format/MVT.js';
import VectorTileLayer from 'ol/layer/VectorTile.js';
import { fromLonLat } from 'ol/proj.js';
import VectorTileSource from 'ol/source/VectorTile.js';
import CircleStyle from 'ol/style/Circle.js';
import Fill from 'ol/style/Fill.js';
import Stroke from 'ol/style/Stroke.js';
import Style from 'ol/style/Style.js';
import Text from 'ol/style/Text.js';
import { createXYZ } from 'ol/tilegrid.js';
import { schemeStyleUrl } from './color-scheme.js';
import { createTileLoader } from './first-tiles.js';
import { loadMapFonts, loadMoreFonts, olFont } from './fonts.js';
import { LAYER_TYPES, evaluate, labelText, passes, styleZoom, unsupported } from './style-rules.js';

/** MapLibre `text-anchor` → OpenLayers text alignment and baseline. */
const ANCHORS = {
  top: ['center', 'top'],
  bottom: ['center', 'bottom'],
  left: ['left', 'middle'],
  right: ['right', 'middle'],
};

function textStyle(layer, zoom, zIndex) {
  const paint = layer.paint || {};
  const layout = layer.layout || {};
  const size = evaluate(layout['text-size'] ?? 16, zoom);
  const line = layout['symbol-placement'] === 'line';
  const [textAlign, textBaseline] = ANCHORS[layout['text-anchor']] || [undefined, 'middle'];
  const offset = layout['text-offset'] || [0, 0];
  const halo = evaluate(paint['text-halo-width'] ?? 0, zoom);
  return new Style({
    zIndex,
    text: new Text({
      font: olFont(layout['text-font'], size),
      fill: new Fill({ color: evaluate(paint['text-color'] ?? '#000000', zoom) }),
      // MapLibre's halo width is outside the glyph; a canvas stroke is centred on the outline.
      stroke: halo ? new Stroke({ color: evaluate(paint['text-halo-color'], zoom), width: 2 * halo }) : undefined,
      placement: line ? 'line' : 'point',
      maxAngle: ((layout['text-max-angle'] ?? 45) * Math.PI) / 180,
      // A point or area label may exceed its polygon (decluttering still keeps labels apart);
      // a street name must fit its street.
      overflow: !line,
      textAlign: line ? undefined : textAlign,
      textBaseline,
      offsetX: offset[0] * size,
      offsetY: offset[1] * size,
    }),
  });
}

function styleFor(layer, zoom, zIndex) {
  if (layer.type === 'symbol') return textStyle(layer, zoom, zIndex);
  const paint = layer.paint || {};
  const at = (key, fallback) => (paint[key] === undefined ? fallback : evaluate(paint[key], zoom));
  if (layer.type === 'fill') {
    const outline = at('fill-outline-color');
    return new Style({
      zIndex,
      fill: new Fill({ color: at('fill-color', '#000000') }),
      stroke: outline ? new Stroke({ color: outline, width: 1 }) : undefined,
    });
  }
  if (layer.type === 'line') {
    const width = at('line-width', 1);
    const dash = at('line-dasharray');
    const layout = layer.layout || {};
    return new Style({
      zIndex,
      stroke: new Stroke({
        color: at('line-color', '#000000'),
        width,
        lineCap: layout['line-cap'] || 'butt',
        lineJoin: layout['line-join'] || 'miter',
        lineDash: dash ? dash.map((d) => d * width) : undefined,
      }),
    });
  }
  return new Style({
    zIndex,
    image: new CircleStyle({
      radius: at('circle-radius', 5),
      fill: new Fill({ color: at('circle-color', '#000000') }),
      stroke: paint['circle-stroke-width']
        ? new Stroke({ color: at('circle-stroke-color', '#000000'), width: at('circle-stroke-width', 0) })
        : undefined,
    }),
  });
}

/**
 * An OpenLayers style function for `style`'s drawable layers (features carry their MVT layer
 * name in the `layer` property). Styles are cached per layer and tenth of a zoom level.
 * `labels.ready` says whether text may be drawn yet (the font has loaded).
 *
 * Label precedence: OpenLayers gives a decluttered label drawn earlier the right of way, and
 * draws lower zIndex first; MapLibre places the topmost layer's labels first. So symbol layers
 * get zIndex in reverse (above all geometry, which declutters separately anyway).
 */
export function styleFunction(style, labels = { ready: true }) {
  const symbolBase = 2 * style.layers.length;
  const bySourceLayer = new Map();
  style.layers.forEach((layer, index) => {
    if (layer.type === 'background' || !LAYER_TYPES.has(layer.type)) return;
    if (layer.layout && layer.layout.visibility === 'none') return;
    const list = bySourceLayer.get(layer['source-layer']) || [];
    list.push({ layer, index });
    bySourceLayer.set(layer['source-layer'], list);
  });
  const cache = new Map();
  return (feature, resolution) => {
    const candidates = bySourceLayer.get(feature.get('layer'));
    if (!candidates) return undefined;
    const zoom = Math.round(styleZoom(resolution) * 10) / 10;
    const get = (key) => feature.get(key);
    const styles = [];
    for (const { layer, index } of candidates) {
      if (layer.minzoom !== undefined && zoom < layer.minzoom) continue;
      if (layer.maxzoom !== undefined && zoom >= layer.maxzoom) continue;
      const symbol = layer.type === 'symbol';
      if (symbol && !labels.ready) continue;
      if (!passes(layer.filter, get)) continue;
      const text = symbol ? labelText(layer.layout || {}, get) : '';
      if (symbol && !text) continue;
      const key = `${index}@${zoom}`;
      let cached = cache.get(key);
      if (!cached) {
        cached = styleFor(layer, zoom, symbol ? symbolBase - index : index);
        cache.set(key, cached);
      }
      // Shared per layer and zoom; OpenLayers reads the text when the feature is drawn.
      if (symbol) cached.getText().setText(text);
      styles.push(cached);
    }
    return styles;
  };
}

/** A vector tile source's options for tiles in another grid and CRS (the grid's own URL, same
 * data version), or none: Web Mercator's XYZ tiles of the TileJSON. */
function gridOptions(grid, xyzTemplate) {
  if (!grid) return {};
  return { url: grid.url(xyzTemplate), tileGrid: grid.tileGrid, projection: grid.projection, extent: undefined };
}

/**
 * The basemap as one OpenLayers layer: fetches the style and its TileJSON (same origin as the
 * style), and draws the tiles with `styleFunction`.
 * @param {string} styleUrl absolute URL of the style
 * @param {{fetch?: typeof fetch, tilejsonHint?: string, grid?: object}} [options] `tilejsonHint`:
 *   the TileJSON URL the style probably names, fetched in parallel with the style; `grid`: tiles
 *   in another CRS (picker/map-projection.js), else Web Mercator's XYZ tiles
 * @returns {Promise<VectorTileLayer>}
 */
export async function basemapLayer(styleUrl, options = {}) {
  const doFetch = options.fetch || ((...args) => fetch(...args));
  const getJson = async (url) => {
    const response = await doFetch(url, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  };
  // Ask for the TileJSON we expect the style to name while the style itself is on its way: on a
  // slow phone network that saves a round trip (~0.5 s on 3G) before the first tiles.
  const early = options.tilejsonHint ? getJson(options.tilejsonHint) : null;
  early?.catch(() => {}); // used only if the style names it; a failure is not an error here
  styleUrl = schemeStyleUrl(styleUrl);
  // The label font loads alongside the style and tiles; labels appear when it is there.
  const fonts = loadMapFonts(styleUrl);
  const style = await getJson(styleUrl);
  const problems = unsupported(style);
  if (problems.length) console.warn('webmap: parts of the style are not drawn', problems);
  const [, source] = Object.entries(style.sources)[0];
  const origin = new URL(styleUrl).origin;
  const tilejsonUrl = source.tiles ? null : new URL(source.url, styleUrl);
  if (tilejsonUrl && tilejsonUrl.origin !== origin) throw new Error('TileJSON must come from the style server');
  let tilejson = source;
  if (tilejsonUrl) {
    const hinted = early && tilejsonUrl.href === new URL(options.tilejsonHint).href;
    tilejson = hinted ? await early.catch(() => getJson(tilejsonUrl.href)) : await getJson(tilejsonUrl.href);
  }
  const template = new URL(tilejson.tiles[0], styleUrl);
  if (template.origin !== origin) throw new Error('tiles must come from the style server');
  const maxZoom = Math.min(tilejson.maxzoom ?? 22, source.maxzoom ?? 22);
  const bounds = tilejson.bounds || source.bounds;
  const background = style.layers.find((layer) => layer.type === 'background');
  const labels = { ready: false };
  // Fetches the start view's tiles ahead of OpenLayers (first-tiles.js, `prefetch` below).
  const tileLoader = createTileLoader(doFetch);
  const layer = new VectorTileLayer({
    background: background ? background.paint['background-color'] : undefined,
    // 'vector', not 'hybrid': hybrid first paints every 512-px tile whole into its own image
    // (at the device's pixel ratio), though the picker's small box shows a tenth of the 2 × 2
    // start tiles; drawing only what is in view halved the first frame on a throttled phone
    // (bench/widget.py, README), and each later frame redraws the decluttered labels anyway.
    renderMode: 'vector',
    declutter: true,
    source: new VectorTileSource({
      // URL templates keep their {z}/{x}/{y} braces; URL() would escape them.
      url: decodeURI(template.href),
      format: new MVT(),
      tileLoadFunction: tileLoader.load,
      tileGrid: createXYZ({ tileSize: 512, maxZoom, minZoom: tilejson.minzoom ?? 0 }),
      attributions: tilejson.attribution || source.attribution,
      extent: bounds
        ? [...fromLonLat([bounds[0], bounds[1]]), ...fromLonLat([bounds[2], bounds[3]])]
        : undefined,
      ...gridOptions(options.grid, template.href),
    }),
    style: styleFunction(style, labels),
  });
  // Whether labels are drawn yet, for whoever times the map (map-view.js's `labelled`).
  layer.set('labels', labels);
  layer.set('prefetch', tileLoader.prefetch);
  // Bold and the latin-ext letters once the first tiles and labels are on screen (no tile
  // loading), so they do not compete with them on a slow network; then draw again.
  let pending = 0;
  const tiles = layer.getSource();
  tiles.on('tileloadstart', () => (pending += 1));
  tiles.on(['tileloadend', 'tileloaderror'], () => (pending = Math.max(0, pending - 1)));
  const afterFirstTiles = () => {
    if (!labels.ready || pending > 0) return;
    layer.un('postrender', afterFirstTiles);
    loadMoreFonts().then((ok) => ok && layer.changed());
  };
  layer.on('postrender', afterFirstTiles);
  fonts.then(() => {
    labels.ready = true;
    layer.changed();
  });
  return layer;
}

/** How overlay layers (`layers` attribute) are drawn: one outline colour with a light fill,
 * 3:1 against the basemap, the same for every layer type so the map stays calm. */
const OVERLAY = '#005a9c';
const OVERLAY_STYLES = {
  fill: [
    new Style({
      fill: new Fill({ color: 'rgba(0, 90, 156, 0.18)' }),
      stroke: new Stroke({ color: OVERLAY, width: 2 }),
    }),
  ],
  line: [
    new Style({ stroke: new Stroke({ color: '#ffffff', width: 5 }) }),
    new Style({ stroke: new Stroke({ color: OVERLAY, width: 3 }) }),
  ],
  point: [
    new Style({
      image: new CircleStyle({
        radius: 6,
        fill: new Fill({ color: OVERLAY }),
        stroke: new Stroke({ color: '#ffffff', width: 2 }),
      }),
    }),
  ],
};

function overlayStyle(feature) {
  const type = feature.getGeometry().getType();
  if (type.endsWith('Polygon')) return OVERLAY_STYLES.fill;
  if (type.endsWith('LineString')) return OVERLAY_STYLES.line;
  return OVERLAY_STYLES.point;
}

/**
 * A catalog layer of this server (its TileJSON at `tilejsonUrl`) drawn over the basemap.
 * @param {string} tilejsonUrl absolute URL, same origin as the style
 * @param {{fetch?: typeof fetch, grid?: object}} [options] `grid`: as for basemapLayer
 */
export async function overlayLayer(tilejsonUrl, options = {}) {
  const doFetch = options.fetch || ((...args) => fetch(...args));
  const response = await doFetch(tilejsonUrl, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`${tilejsonUrl}: HTTP ${response.status}`);
  const tilejson = await response.json();
  const template = new URL(tilejson.tiles[0], tilejsonUrl);
  if (template.origin !== new URL(tilejsonUrl).origin) throw new Error('tiles must come from the same server');
  return new VectorTileLayer({
    zIndex: 10,
    renderMode: 'hybrid',
    source: new VectorTileSource({
      url: decodeURI(template.href),
      format: new MVT(),
      tileGrid: createXYZ({ tileSize: 512, maxZoom: Math.min(tilejson.maxzoom ?? 22, 16) }),
      attributions: tilejson.attribution,
      ...gridOptions(options.grid, template.href),
    }),
    style: overlayStyle,
  });
}
