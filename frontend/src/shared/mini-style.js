/**
 * A small renderer for our own MapLibre basemap style in OpenLayers, for the widget.
 *
 * Why not ol-mapbox-style here (the viewer uses it): it brings the full MapLibre expression
 * engine, about 60 KB gzipped, to draw a style that uses a handful of features. The widget's
 * budget is 150 KB for everything (issue 5), and on a slow phone each KB is time before the
 * first tiles. This module supports exactly what tiles/style.py emits — background, fill, line
 * and circle layers; `minzoom`/`maxzoom`; filters `==`, `!=`, `!`, `in` (+`literal`), `all`,
 * `any`, `has` over `get`; numbers or `interpolate` (linear / exponential) on `zoom` — and
 * reports anything else through `unsupported()`, which a test runs on the served style so a new
 * style feature cannot silently vanish from the widget's map.
 */
import MVT from 'ol/format/MVT.js';
import VectorTileLayer from 'ol/layer/VectorTile.js';
import { fromLonLat } from 'ol/proj.js';
import VectorTileSource from 'ol/source/VectorTile.js';
import CircleStyle from 'ol/style/Circle.js';
import Fill from 'ol/style/Fill.js';
import Stroke from 'ol/style/Stroke.js';
import Style from 'ol/style/Style.js';
import { createXYZ } from 'ol/tilegrid.js';
import { LAYER_TYPES, evaluate, passes, styleZoom, unsupported } from './style-rules.js';

function styleFor(layer, zoom, zIndex) {
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
 */
export function styleFunction(style) {
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
      if (!passes(layer.filter, get)) continue;
      const key = `${index}@${zoom}`;
      let cached = cache.get(key);
      if (!cached) {
        cached = styleFor(layer, zoom, index);
        cache.set(key, cached);
      }
      styles.push(cached);
    }
    return styles;
  };
}

/**
 * The basemap as one OpenLayers layer: fetches the style and its TileJSON (same origin as the
 * style), and draws the tiles with `styleFunction`.
 * @param {string} styleUrl absolute URL of the style
 * @param {{fetch?: typeof fetch, tilejsonHint?: string}} [options] `tilejsonHint`: the TileJSON
 *   URL the style probably names, fetched in parallel with the style
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
  return new VectorTileLayer({
    background: background ? background.paint['background-color'] : undefined,
    renderMode: 'hybrid',
    source: new VectorTileSource({
      // URL templates keep their {z}/{x}/{y} braces; URL() would escape them.
      url: decodeURI(template.href),
      format: new MVT(),
      tileGrid: createXYZ({ tileSize: 512, maxZoom, minZoom: tilejson.minzoom ?? 0 }),
      attributions: tilejson.attribution || source.attribution,
      extent: bounds
        ? [...fromLonLat([bounds[0], bounds[1]]), ...fromLonLat([bounds[2], bounds[3]])]
        : undefined,
    }),
    style: styleFunction(style),
  });
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
 * @param {{fetch?: typeof fetch}} [options]
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
    }),
    style: overlayStyle,
  });
}
