import { describe, expect, it } from 'vitest';
import TileState from 'ol/TileState.js';
import VectorTile from 'ol/VectorTile.js';
import MVT from 'ol/format/MVT.js';
import { get as getProjection } from 'ol/proj.js';
import { createTileLoader } from '../src/shared/first-tiles.js';

// startTileUrls needs a map with a DOM: tests/browser (every picker test starts with it).
const TEMPLATE = 'http://127.0.0.1:8000/tiles/basemap/{z}/{x}/{y}.mvt?v=abc';

function server() {
  const log = [];
  // An empty tile is a valid MVT (no layers): real bytes for the real format to decode.
  const fetch = async (url) => {
    log.push(url);
    return { ok: !url.includes('/missing/'), status: 200, arrayBuffer: async () => new ArrayBuffer(0) };
  };
  return { fetch, log };
}

function tile(url, loader) {
  const made = new VectorTile([15, 18028, 9634], TileState.IDLE, url, new MVT(), loader.load);
  // What the source sets before loading (VectorTileSource does it for the tiles of a view).
  made.extent = [0, 0, 4096, 4096];
  made.projection = getProjection('EPSG:3857');
  made.resolution = 1;
  return made;
}

const loaded = (made) =>
  new Promise((resolve) => {
    const check = () => (made.getState() === TileState.LOADING ? setTimeout(check, 5) : resolve(made.getState()));
    check();
  });

describe('createTileLoader', () => {
  it('hands a tile fetched early to its loader once, and fetches it again after that', async () => {
    const { fetch, log } = server();
    const loader = createTileLoader(fetch);
    const url = TEMPLATE.replace('{z}/{x}/{y}', '15/18028/9634');
    await loader.prefetch([url]);
    expect(log).toEqual([url]);
    const first = tile(url, loader);
    first.load();
    expect(await loaded(first)).toBe(TileState.LOADED);
    expect(log).toEqual([url]); // the early bytes, not a second request
    const again = tile(url, loader);
    again.load();
    expect(await loaded(again)).toBe(TileState.LOADED);
    expect(log).toEqual([url, url]);
  });

  it('fails a tile whose fetch failed, so the map can tell that no tile loaded', async () => {
    const { fetch } = server();
    const loader = createTileLoader(fetch);
    const url = 'http://127.0.0.1:8000/tiles/missing/15/1/1.mvt';
    await loader.prefetch([url]); // never rejects
    const made = tile(url, loader);
    made.load();
    expect(await loaded(made)).toBe(TileState.ERROR);
  });
});
