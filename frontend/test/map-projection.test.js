import { fromLonLat, toLonLat } from 'ol/proj.js';
import { describe, expect, it } from 'vitest';
import {
  mapProjection,
  mercatorLikeResolutions,
  SWEREF_GRID_RESOLUTIONS,
  swerefTileUrl,
} from '../src/shared/map-projection.js';

describe('the map in SWEREF 99 TM', () => {
  it('is asked for by projection="EPSG:3006" only', () => {
    expect(mapProjection(null, 59)).toBeNull();
    expect(mapProjection('EPSG:3857', 59)).toBeNull();
    expect(mapProjection('epsg:3006', 59).projection.getCode()).toBe('EPSG:3006');
  });

  it('registers EPSG:3006 with OpenLayers, to the millimetre of PROJ', () => {
    mapProjection('EPSG:3006', 59);
    const [e, n] = fromLonLat([18.075, 59.338], 'EPSG:3006');
    expect(e).toBeCloseTo(674891.058, 3); // PROJ: 674891.0580, 6581727.9368
    expect(n).toBeCloseTo(6581727.937, 3);
    const [lon, lat] = toLonLat([e, n], 'EPSG:3006');
    expect(lon).toBeCloseTo(18.075, 9);
    expect(lat).toBeCloseTo(59.338, 9);
  });

  it("uses Lantmäteriet's grid: 4096 m cells at level 0, 0.5 m at level 13", () => {
    expect(SWEREF_GRID_RESOLUTIONS[0]).toBe(4096);
    expect(SWEREF_GRID_RESOLUTIONS.at(-1)).toBe(0.5);
    const grid = mapProjection('EPSG:3006', 59).tiles.tileGrid;
    expect(grid.getOrigin(0)).toEqual([-1200000, 8500000]);
    // The tile holding Östermalm at level 12 (1 m cells), as morecantile puts it in the
    // server's SWEREF99TM set: Tile(x=7323, y=7493, z=12), column from the west, row from the top.
    expect(grid.getTileCoordForCoordAndZ([674891.058, 6581727.937], 12)).toEqual([12, 7323, 7493]);
  });

  it("keeps Web Mercator's ground resolution per zoom at the start latitude", () => {
    const resolutions = mercatorLikeResolutions(60);
    expect(resolutions[16]).toBeCloseTo(2.388657 * 0.5, 5);
    expect(resolutions[15] / resolutions[16]).toBeCloseTo(2, 10);
  });

  it('asks for the OGC API – Tiles URL with the same data version', () => {
    expect(swerefTileUrl('https://karta.example.se/webmap/tiles/basemap/%7Bz%7D/%7Bx%7D/%7By%7D.mvt?v=abc123')).toBe(
      'https://karta.example.se/webmap/ogc/collections/basemap/tiles/SWEREF99TM/{z}/{y}/{x}?v=abc123',
    );
    expect(() => swerefTileUrl('https://karta.example.se/other/{z}.png')).toThrow();
  });
});
