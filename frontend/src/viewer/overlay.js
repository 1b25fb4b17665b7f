/**
 * One staff layer drawn over the basemap, for the admin preview (/admin/layers/<name>/preview).
 *
 * The page names the layer's TileJSON on this server in `data-overlay`; vector layers (.mvt
 * tiles) are drawn with one high-contrast style, raster layers (.png tiles) as images. The view
 * is fitted to the layer's bounds. Requests go to the same origin with the staff session, so
 * private layers preview too.
 */
import { transformExtent } from 'ol/proj.js';
import MVT from 'ol/format/MVT.js';
import TileLayer from 'ol/layer/Tile.js';
import VectorTileLayer from 'ol/layer/VectorTile.js';
import VectorTileSource from 'ol/source/VectorTile.js';
import XYZ from 'ol/source/XYZ.js';
import CircleStyle from 'ol/style/Circle.js';
import Fill from 'ol/style/Fill.js';
import Stroke from 'ol/style/Stroke.js';
import Style from 'ol/style/Style.js';

const INK = '#b30059';
const STYLE = new Style({
  fill: new Fill({ color: 'rgba(179, 0, 89, 0.25)' }),
  stroke: new Stroke({ color: INK, width: 2 }),
  image: new CircleStyle({
    radius: 6,
    fill: new Fill({ color: INK }),
    stroke: new Stroke({ color: '#ffffff', width: 2 }),
  }),
});

/**
 * Add the layer described by the TileJSON at `url` to `map` and fit the view to it.
 * @returns {Promise<import('ol/layer/Base.js').default>} the added layer
 */
export async function addOverlay(map, url, { fetch: doFetch = fetch, duration = 0 } = {}) {
  const absolute = new URL(url, document.baseURI).href;
  const response = await doFetch(absolute, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`overlay ${absolute}: HTTP ${response.status}`);
  const tilejson = await response.json();
  const template = String(tilejson.tiles?.[0] ?? '');
  const parsed = new URL(template, absolute);
  if (parsed.origin !== window.location.origin) {
    throw new Error(`overlay tiles from another host refused: ${template}`);
  }
  const options = {
    url: template,
    minZoom: tilejson.minzoom ?? 0,
    maxZoom: tilejson.maxzoom ?? 22,
    attributions: tilejson.attribution || undefined,
  };
  const layer = parsed.pathname.endsWith('.mvt')
    ? new VectorTileLayer({ source: new VectorTileSource({ ...options, format: new MVT() }), style: STYLE })
    : new TileLayer({ source: new XYZ(options) });
  layer.set('overlay', tilejson.name || true);
  map.addLayer(layer);
  if (Array.isArray(tilejson.bounds) && tilejson.bounds.length === 4) {
    map.getView().fit(transformExtent(tilejson.bounds, 'EPSG:4326', 'EPSG:3857'), {
      padding: [32, 32, 32, 32],
      maxZoom: 17,
      duration,
    });
  }
  return layer;
}
