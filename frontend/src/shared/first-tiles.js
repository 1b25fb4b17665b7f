/**
 * The basemap's first tiles fetched and decoded together, before the map draws them.
 *
 * Why: OpenLayers asks for tiles only after it has drawn one (empty) frame, and draws again as
 * each one arrives. On a slow phone a frame with labels costs 0.3–0.7 s (bench/widget.py), and
 * tiles that are ready meanwhile wait for the main thread: four tiles arriving over two frames
 * cost a whole extra frame before the map is complete. Here the tiles of the start view are
 * asked for as soon as the layer exists (the page's preload hints usually answer at once), and
 * OpenLayers' loader gets the bytes from here, so they are all decoded before the first frame
 * that draws tiles, and that frame is the complete one. Tiles fetched here are handed over once;
 * every later tile is fetched by the same loader as it is needed.
 */

/**
 * A tile loader for a VectorTileSource (`tileLoadFunction`) that can be given tiles early.
 * @returns {{load: Function, prefetch: (urls: string[]) => Promise<void>}}
 */
export function createTileLoader(doFetch = (...args) => fetch(...args)) {
  const early = new Map();
  const get = (url) =>
    doFetch(url, { credentials: 'same-origin' }).then((response) => {
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      return response.arrayBuffer();
    });
  return {
    /** OpenLayers' `tileLoadFunction`: decode the tile's bytes (fetched early, or now). */
    load(tile, url) {
      tile.setLoader((extent, resolution, projection) => {
        const bytes = early.get(url) || get(url);
        early.delete(url);
        bytes
          .then((buffer) => {
            const format = tile.getFormat();
            tile.onLoad(format.readFeatures(buffer, { extent, featureProjection: projection }), format.readProjection(buffer));
          })
          .catch(() => tile.onError());
      });
    },
    /** Fetch these tiles now; resolves when all have arrived or failed (never rejects). */
    prefetch(urls) {
      for (const url of urls) if (!early.has(url)) early.set(url, get(url));
      return Promise.allSettled(urls.map((url) => early.get(url))).then(() => undefined);
    },
  };
}

/**
 * The URLs of the source tiles a VectorTileLayer draws first in `map`'s current view.
 * @param {import('ol/layer/VectorTile.js').default} layer
 * @param {import('ol/Map.js').default} map
 * @returns {string[]}
 */
export function startTileUrls(layer, map) {
  const size = map.getSize();
  const view = map.getView();
  const resolution = view.getResolution();
  if (!size || !size[0] || !size[1] || resolution === undefined) return [];
  const source = layer.getSource();
  const grid = source.getTileGrid();
  const projection = view.getProjection();
  const z = grid.getZForResolution(resolution, source.zDirection);
  const urlOf = source.getTileUrlFunction();
  const urls = [];
  grid.forEachTileCoord(view.calculateExtent(size), z, (coord) => {
    const url = urlOf(coord, 1, projection);
    if (url) urls.push(url);
  });
  return urls;
}
