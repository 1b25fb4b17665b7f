import { describe, expect, it } from 'vitest';
import { escapeHtml, externalBasemapLayer, municipalityDescription, xyzTemplate } from '../src/shared/external-basemap.js';

const WMTS = {
  kind: 'wmts',
  url: 'https://maps.example.se/wmts/topowebb/default/3006/{TileMatrix}/{TileRow}/{TileCol}.png',
  crs: 3006,
  attribution: '© Lantmäteriet <b>',
};

describe('external basemap', () => {
  it('reads a WMTS RESTful template as XYZ: level, row from the top, column', () => {
    expect(xyzTemplate(WMTS)).toBe('https://maps.example.se/wmts/topowebb/default/3006/{z}/{y}/{x}.png');
    const xyz = { kind: 'xyz', url: 'https://t.example.se/{z}/{x}/{-y}.png' };
    expect(xyzTemplate(xyz)).toBe(xyz.url);
  });

  it('never hands the attribution to the control as HTML', () => {
    expect(escapeHtml('<img src=x onerror="a()">&\'')).toBe('&#60;img src=x onerror=&#34;a()&#34;&#62;&#38;&#39;');
  });

  it('draws a SWEREF 99 TM basemap in Lantmäteriet grid, a Web Mercator one in XYZ', () => {
    const sweref = externalBasemapLayer(WMTS).getSource();
    expect(sweref.getProjection().getCode()).toBe('EPSG:3006');
    const grid = sweref.getTileGrid();
    expect(grid.getOrigin(0)).toEqual([-1200000, 8500000]);
    expect(grid.getResolution(0)).toBe(4096);
    // Level 13 (128 m tiles), the tile holding E 617 000, N 6 920 000 (Sundsvall): its row counted
    // from N 8 500 000 down, its column from E −1 200 000.
    const coord = grid.getTileCoordForCoordAndZ([617000, 6920000], 13);
    expect(coord).toEqual([13, 14195, 12343]);
    expect(sweref.getTileUrlFunction()(coord)).toBe('https://maps.example.se/wmts/topowebb/default/3006/13/12343/14195.png');
    const mercator = externalBasemapLayer({ ...WMTS, kind: 'xyz', url: 'https://t.example.se/{z}/{x}/{y}.png', crs: 3857 });
    expect(mercator.getSource().getProjection().getCode()).toBe('EPSG:3857');
    expect(mercator.get('webmap-external-basemap')).toBe('https://t.example.se');
  });

  it('reads a municipality once per page, and not for a malformed code', async () => {
    let calls = 0;
    const fake = async () => {
      calls += 1;
      return { ok: true, json: async () => ({ code: '2281', basemap: null }) };
    };
    const base = 'https://webmap.example.se/';
    expect(await municipalityDescription(base, '2281', fake)).toEqual({ code: '2281', basemap: null });
    await municipalityDescription(base, '2281', fake);
    expect(calls).toBe(1);
    expect(await municipalityDescription(base, '22;81', fake)).toBeNull();
    expect(calls).toBe(1);
  });
});

describe('reprojection between the two grids', () => {
  it('links EPSG:3006 and EPSG:3857 (through EPSG:4326) once a basemap is made', async () => {
    const { transform } = await import('ol/proj.js');
    externalBasemapLayer({ kind: 'xyz', url: 'https://t.example.se/{z}/{x}/{y}.png', crs: 3857, attribution: 'x' });
    // Sundsvall's centre, E 617 000 N 6 920 000, and back.
    const mercator = transform([617000, 6920000], 'EPSG:3006', 'EPSG:3857');
    const lonLat = transform(mercator, 'EPSG:3857', 'EPSG:4326');
    expect(lonLat[0]).toBeCloseTo(17.3, 1);
    expect(lonLat[1]).toBeCloseTo(62.4, 1);
    const back = transform(mercator, 'EPSG:3857', 'EPSG:3006');
    expect(back[0]).toBeCloseTo(617000, 2);
    expect(back[1]).toBeCloseTo(6920000, 2);
  });
});
