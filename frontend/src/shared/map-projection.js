/**
 * The map in SWEREF 99 TM (`projection="EPSG:3006"`), as Swedish municipal maps (Origo,
 * Lantmäteriet's topographic web map) are drawn, so staff can compare the picker with them.
 *
 * What changes is only the picture: the view's CRS, and tiles from the server's OGC API – Tiles
 * `SWEREF99TM` tile matrix set (Lantmäteriet's grid: top-left E −1 200 000, N 8 500 000, 256-px
 * tiles, 4096 m cells at level 0 halving to 0.5 m at level 13; tiles/matrix_sets.py). The value,
 * the lookups and the zoom levels stay those of Web Mercator mode: the view's zoom z has the
 * ground resolution Web Mercator's zoom z has at the start latitude, so `zoom`,
 * `min-zoom-to-choose` and the spoken "Zoomnivå 16" mean the same in both; vector tiles are
 * drawn crisp at any resolution, so the view need not step with the grid.
 *
 * OpenLayers knows EPSG:3006 only when told: the projection and its transforms to and from
 * EPSG:4326 are registered here (sweref99tm.js, Krüger's series; no proj4, which would cost the
 * widget's size budget far more than these few hundred bytes).
 */
import Projection from 'ol/proj/Projection.js';
import { addCoordinateTransforms, addProjection, get as getProjection } from 'ol/proj.js';
import TileGrid from 'ol/tilegrid/TileGrid.js';
import { fromSweref99tm, toSweref99tm } from './sweref99tm.js';

export const SWEREF99TM = 'EPSG:3006';
/** The OGC API – Tiles matrix set id of Lantmäteriet's grid on this server. */
export const SWEREF_MATRIX_SET = 'SWEREF99TM';
/** The grid's extent (minE, minN, maxE, maxN) and its cell sizes, levels 0–13. */
export const SWEREF_GRID_EXTENT = [-1200000, 4305696, 2994304, 8500000];
export const SWEREF_GRID_RESOLUTIONS = Array.from({ length: 14 }, (_, level) => 4096 / 2 ** level);

/** Web Mercator's resolution at zoom 0 (metres of EPSG:3857 per pixel). */
const MERCATOR_RESOLUTION_0 = (2 * Math.PI * 6378137) / 256;
const MAX_ZOOM = 22;

const apply = (convert) => (input, output, dimension = 2) => {
  const out = output || new Array(input.length);
  for (let i = 0; i + 1 < input.length; i += dimension) {
    const [a, b] = convert([input[i], input[i + 1]]);
    out[i] = a;
    out[i + 1] = b;
  }
  return out;
};

/** EPSG:3006 as an OpenLayers projection, registered (once) with its transforms. */
export function swerefProjection() {
  const known = getProjection(SWEREF99TM);
  if (known) return known;
  const projection = new Projection({ code: SWEREF99TM, units: 'm', extent: SWEREF_GRID_EXTENT });
  addProjection(projection);
  addCoordinateTransforms('EPSG:4326', projection, apply(toSweref99tm), apply(fromSweref99tm));
  return projection;
}

/** Resolutions (EPSG:3006 m/px) with Web Mercator's ground resolution per zoom at `lat`. */
export function mercatorLikeResolutions(lat) {
  const ground = Math.cos((lat * Math.PI) / 180);
  return Array.from({ length: MAX_ZOOM + 1 }, (_, z) => (MERCATOR_RESOLUTION_0 / 2 ** z) * ground);
}

/**
 * The OGC API – Tiles URL template of a collection in the SWEREF99TM set, with the same data
 * version (`v`) as the Web Mercator tiles of its TileJSON: immutable, cached like them.
 * @param {string} xyzTemplate the TileJSON's `tiles[0]` (absolute), e.g. …/tiles/basemap/{z}/{x}/{y}.mvt?v=…
 */
export function swerefTileUrl(xyzTemplate) {
  const url = new URL(xyzTemplate);
  const match = /^(.*\/)tiles\/([\w-]+)\/\{z\}\/\{x\}\/\{y\}\.(?:mvt|pbf)$/u.exec(decodeURI(url.pathname));
  if (!match) throw new Error(`not a vector tile template: ${xyzTemplate}`);
  const [, base, name] = match;
  const version = url.searchParams.get('v');
  const path = `${base}ogc/collections/${name}/tiles/${SWEREF_MATRIX_SET}/{z}/{y}/{x}`;
  return `${url.origin}${path}${version ? `?v=${encodeURIComponent(version)}` : ''}`;
}

/**
 * What the map needs to be drawn in a CRS other than Web Mercator, or null for Web Mercator.
 * @param {string | null} code the `projection` attribute
 * @param {number} lat the start latitude (for the zoom levels' ground resolution)
 * @returns {null | {projection: Projection, resolutions: number[],
 *   tiles: {projection: Projection, tileGrid: TileGrid, url: (xyzTemplate: string) => string}}}
 */
export function mapProjection(code, lat) {
  if (String(code || '').toUpperCase() !== SWEREF99TM) return null;
  const projection = swerefProjection();
  return {
    projection,
    resolutions: mercatorLikeResolutions(lat),
    tiles: {
      projection,
      tileGrid: new TileGrid({
        origin: [SWEREF_GRID_EXTENT[0], SWEREF_GRID_EXTENT[3]],
        extent: SWEREF_GRID_EXTENT,
        resolutions: SWEREF_GRID_RESOLUTIONS,
        tileSize: 256,
      }),
      url: swerefTileUrl,
    },
  };
}
