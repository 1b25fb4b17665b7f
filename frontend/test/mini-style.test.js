import { describe, expect, it } from 'vitest';
import { basemapLayer } from '../src/shared/mini-style.js';

const STYLE_URL = 'http://127.0.0.1:8000/styles/basemap.json';
const TILEJSON_URL = 'http://127.0.0.1:8000/tiles/basemap.json';

function server(routes) {
  const log = [];
  const fetch = async (url) => {
    log.push(url);
    const body = routes[url];
    if (body === undefined) return { ok: false, status: 404, json: async () => ({}) };
    return { ok: true, status: 200, json: async () => structuredClone(body) };
  };
  return { fetch, log };
}

const STYLE = {
  version: 8,
  sources: { basemap: { type: 'vector', url: TILEJSON_URL, maxzoom: 16 } },
  layers: [
    { id: 'background', type: 'background', paint: { 'background-color': '#e4e2dd' } },
    { id: 'roads', type: 'line', source: 'basemap', 'source-layer': 'roads', paint: { 'line-color': '#ffffff' } },
  ],
};
const TILEJSON = {
  tilejson: '3.0.0',
  tiles: ['http://127.0.0.1:8000/tiles/basemap/{z}/{x}/{y}.mvt?v=abc'],
  attribution: '© OpenStreetMap contributors',
  maxzoom: 22,
};

describe('basemapLayer', () => {
  it('fetches the hinted TileJSON alongside the style and builds a versioned tile source', async () => {
    const { fetch, log } = server({ [STYLE_URL]: STYLE, [TILEJSON_URL]: TILEJSON });
    const layer = await basemapLayer(STYLE_URL, { fetch, tilejsonHint: TILEJSON_URL });
    expect(log).toEqual([TILEJSON_URL, STYLE_URL]); // both asked before either answered
    expect(layer.getBackground()).toBe('#e4e2dd');
    const source = layer.getSource();
    expect(source.getUrls()).toEqual(['http://127.0.0.1:8000/tiles/basemap/{z}/{x}/{y}.mvt?v=abc']);
    expect(source.getTileGrid().getMaxZoom()).toBe(16); // the style's source caps the TileJSON
  });

  it('ignores a wrong hint and follows the style', async () => {
    const other = 'http://127.0.0.1:8000/tiles/other.json';
    const style = structuredClone(STYLE);
    style.sources.basemap.url = other;
    const { fetch, log } = server({ [STYLE_URL]: style, [other]: TILEJSON });
    await basemapLayer(STYLE_URL, { fetch, tilejsonHint: TILEJSON_URL });
    expect(log).toEqual([TILEJSON_URL, STYLE_URL, other]);
  });

  it('refuses tiles or TileJSON from another host', async () => {
    const foreign = structuredClone(STYLE);
    foreign.sources.basemap.url = 'https://tiles.example.com/basemap.json';
    const { fetch } = server({ [STYLE_URL]: foreign });
    await expect(basemapLayer(STYLE_URL, { fetch })).rejects.toThrow('TileJSON must come from the style server');
    const tiles = structuredClone(TILEJSON);
    tiles.tiles = ['https://tiles.example.com/{z}/{x}/{y}.mvt'];
    const second = server({ [STYLE_URL]: STYLE, [TILEJSON_URL]: tiles });
    await expect(basemapLayer(STYLE_URL, { fetch: second.fetch })).rejects.toThrow('tiles must come from the style server');
  });
});
