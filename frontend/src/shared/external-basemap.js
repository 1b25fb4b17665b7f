/**
 * A municipality's external raster basemap (the topographic web map it already licenses), drawn
 * under webmap's own layers when the picker runs for that municipality (`municipality="2281"`).
 *
 * The municipality names it in its settings (`webmap municipalities set --basemap-url …`,
 * `GET /api/municipalities/{code}` → `basemap`): an XYZ or WMTS RESTful URL template, in
 * EPSG:3857 (Web Mercator's XYZ grid) or EPSG:3006 (Lantmäteriet's SWEREF 99 TM grid, as
 * map-projection.js). A WMTS RESTful template is an XYZ one with other names: {TileMatrix} is the
 * level, {TileRow} the row from the top, {TileCol} the column.
 *
 * Where it sits: above webmap's own basemap (zIndex 0), below the catalog overlays (10), the
 * sketch and the marker. webmap's own basemap still loads beneath it, so a tile the external
 * server does not deliver shows webmap's map in its place; when none of its first tiles load (a
 * page whose CSP does not name its host, an expired licence, the host down) the layer is removed
 * and the failure reported: the picker goes on, on webmap's own basemap.
 *
 * A basemap in the other CRS than the map's is reprojected by OpenLayers (raster reprojection,
 * triangulated from EPSG:4326): correct, a little softer; a basemap in the map's own CRS is drawn
 * as it is. The tiles load as plain images (no CORS): a municipality's tile server need not send
 * CORS headers, and nothing reads their pixels.
 */
import TileLayer from 'ol/layer/Tile.js';
import { addCoordinateTransforms, get as getProjection, getTransformFromProjections, transform } from 'ol/proj.js';
import XYZ from 'ol/source/XYZ.js';
import TileGrid from 'ol/tilegrid/TileGrid.js';
import { SWEREF_GRID_EXTENT, SWEREF_GRID_RESOLUTIONS, swerefProjection } from './map-projection.js';

/** Above webmap's own basemap (0), below overlays (10), the sketch and the marker (100). */
export const EXTERNAL_BASEMAP_Z = 1;
const WMTS_NAMES = { '{TileMatrix}': '{z}', '{TileRow}': '{y}', '{TileCol}': '{x}' };
const MERCATOR_MAX_ZOOM = 20;

const described = new Map();

/**
 * EPSG:3006 ⇄ EPSG:3857 for raster reprojection. OpenLayers chains transforms through EPSG:4326
 * only with proj4 loaded, which the widget does without (map-projection.js); the chain is
 * registered here, once, the first time a basemap is in the other CRS than the map's.
 */
function linkSwerefAndMercator() {
  const sweref = swerefProjection();
  const mercator = getProjection('EPSG:3857');
  if (getTransformFromProjections(sweref, mercator)) return;
  addCoordinateTransforms(
    sweref,
    mercator,
    (xy) => transform(transform(xy, sweref, 'EPSG:4326'), 'EPSG:4326', mercator),
    (xy) => transform(transform(xy, mercator, 'EPSG:4326'), 'EPSG:4326', sweref),
  );
}

/**
 * The municipality's public description (`GET {base}api/municipalities/{code}`), read once per
 * page however many pickers or modules ask.
 * @param {URL | string} base the server's base URL (ends with /)
 * @param {string} code four digits
 * @returns {Promise<object | null>} null for a code that is not four digits
 */
export function municipalityDescription(base, code, doFetch = (...args) => fetch(...args)) {
  if (!/^[0-9]{4}$/u.test(code || '')) return Promise.resolve(null);
  const url = new URL(`api/municipalities/${code}`, base).href;
  if (!described.has(url)) {
    // Credentials as the page's `<link rel=preload crossorigin=anonymous>` (same-origin), so the
    // preloaded answer is the one used.
    const reading = doFetch(url, { credentials: 'same-origin' }).then((response) => {
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      return response.json();
    });
    reading.catch(() => described.delete(url));
    described.set(url, reading);
  }
  return described.get(url);
}

/** The basemap's template in OpenLayers' XYZ names ({z}, {x}, {y}, {-y}). */
export function xyzTemplate(basemap) {
  if (basemap.kind !== 'wmts') return basemap.url;
  return basemap.url.replace(/\{TileMatrix\}|\{TileRow\}|\{TileCol\}/gu, (name) => WMTS_NAMES[name]);
}

/** Text for OpenLayers' attribution control, which takes HTML: the municipality's words only. */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/gu, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The OpenLayers layer drawing `basemap` (as the municipality's description has it).
 * @param {{kind: 'xyz'|'wmts', url: string, crs: number, attribution: string}} basemap
 */
export function externalBasemapLayer(basemap) {
  const sweref = Number(basemap.crs) === 3006;
  linkSwerefAndMercator();
  const grid = sweref
    ? {
        projection: swerefProjection(),
        tileGrid: new TileGrid({
          origin: [SWEREF_GRID_EXTENT[0], SWEREF_GRID_EXTENT[3]],
          extent: SWEREF_GRID_EXTENT,
          resolutions: SWEREF_GRID_RESOLUTIONS,
          tileSize: 256,
        }),
      }
    : { projection: 'EPSG:3857', maxZoom: MERCATOR_MAX_ZOOM };
  const layer = new TileLayer({
    zIndex: EXTERNAL_BASEMAP_Z,
    source: new XYZ({
      url: xyzTemplate(basemap),
      attributions: escapeHtml(basemap.attribution),
      attributionsCollapsible: false,
      ...grid,
    }),
  });
  layer.set('webmap-external-basemap', new URL(basemap.url.replace(/\{[^}]*\}/gu, '0')).origin);
  return layer;
}

/**
 * Draw municipality `code`'s external basemap, if it has one, into `map`.
 * @param {import('ol/Map.js').default} map
 * @param {URL | string} base the server's base URL
 * @param {string | null} code the `municipality` attribute
 * @param {{onError?: (error: Error) => void, fetch?: typeof fetch}} [options]
 * @returns {Promise<TileLayer | null>} the layer while it draws; null: none, or it failed
 */
export async function addExternalBasemap(map, base, code, options = {}) {
  let basemap;
  try {
    basemap = (await municipalityDescription(base, code, options.fetch))?.basemap;
  } catch (error) {
    options.onError?.(error);
    return null;
  }
  if (!basemap) return null;
  const layer = externalBasemapLayer(basemap);
  const source = layer.getSource();
  const tiles = { loaded: 0, failed: 0 };
  const onLoad = () => (tiles.loaded += 1);
  const onFail = () => (tiles.failed += 1);
  source.on('tileloadend', onLoad);
  source.on('tileloaderror', onFail);
  map.addLayer(layer);
  return new Promise((resolve) => {
    const settle = () => {
      if (tiles.loaded + tiles.failed === 0) return; // a frame before any of its tiles settled
      map.un('rendercomplete', settle);
      source.un('tileloadend', onLoad);
      source.un('tileloaderror', onFail);
      if (tiles.loaded === 0) {
        map.removeLayer(layer);
        options.onError?.(new Error(`none of ${tiles.failed} tiles of the external basemap ${layer.get('webmap-external-basemap')} loaded`));
        resolve(null);
      } else resolve(layer);
    };
    map.on('rendercomplete', settle);
  });
}
