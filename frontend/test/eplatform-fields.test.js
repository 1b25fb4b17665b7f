import { describe, expect, it } from 'vitest';
import sv from '../src/picker/i18n/sv.js';
import { eplatformEntries, fieldsRefusal, shapeWkt, swerefOf } from '../src/picker/eplatform-fields.js';
import { toSweref99tm } from '../src/shared/sweref99tm.js';
import { valueFromReverse } from '../src/picker/value.js';

const REVERSE = {
  sweref99tm: { e: 617012.345, n: 6920345.678 },
  address: { label: 'Storgatan 12, 852 30 Sundsvall', street: 'Storgatan', number: '12' },
  property: { designation: 'Sundsvall Skönsberg 1:23', fictional: false },
  municipality: { code: '2281', name: 'Sundsvall' },
};
const element = (fields) => ({ getAttribute: (name) => (name === 'fields' ? fields : null) });

describe('Open ePlatform fields', () => {
  it('names the six fields by the prefix, in the platform template\'s order', () => {
    const value = valueFromReverse([17.3, 62.39], REVERSE, { zoom: 17, t: sv });
    const entries = eplatformEntries('q12', value, { extent: [616900, 6920300, 617100, 6920400], baseLayer: 'topo#topowebb' });
    expect(entries).toEqual([
      ['q12_propertyUnitDesignation', 'Sundsvall Skönsberg 1:23'],
      ['q12_xCoordinate', '617012.345'], // easting: OpenLayers x, read as POINT(x y)
      ['q12_yCoordinate', '6920345.678'],
      // The map's size (200 × 100 m), centred on the place; whole metres.
      ['q12_extent', '616912,6920296,617112,6920396'],
      ['q12_epsg', 'EPSG:3006'],
      ['q12_baseLayer', 'topo#topowebb'],
    ]);
  });

  it('posts empty fields when nothing is chosen', () => {
    expect(eplatformEntries('q7', null).map(([, text]) => text)).toEqual(['', '', '', '', '', '']);
    expect(eplatformEntries('q7', null)[0][0]).toBe('q7_propertyUnitDesignation');
  });

  it('projects the point itself when the lookup did not answer', () => {
    const value = valueFromReverse([17.3063, 62.3908], null, { zoom: 17, t: sv });
    expect(swerefOf(value)).toEqual(toSweref99tm([17.3063, 62.3908]));
    const [, x, y, extent] = eplatformEntries('q3', value);
    expect(Number(x[1])).toBeCloseTo(619229.241, 3);
    expect(Number(y[1])).toBeCloseTo(6919843.697, 3);
    expect(extent[1]).toBe('619129,6919744,619329,6919944');
  });

  it('never writes a decimal comma or an exponent (Java reads the numbers)', () => {
    const value = valueFromReverse([17.3, 62.39], { ...REVERSE, sweref99tm: { e: 500000.1, n: 7000000 } }, { t: sv });
    const [, x, y] = eplatformEntries('q1', value);
    expect([x[1], y[1]]).toEqual(['500000.1', '7000000']);
  });

  it('refuses a place without a property, only for the Open ePlatform fields', () => {
    const street = valueFromReverse([17.3, 62.39], { ...REVERSE, property: null }, { t: sv });
    expect(fieldsRefusal(element('open-eplatform'), street, true, sv)).toBe(sv.refuseNoProperty);
    expect(fieldsRefusal(element('open-eplatform'), street, false, sv)).toBe(sv.refuseNoPropertyLookup);
    expect(fieldsRefusal(element(null), street, true, sv)).toBeNull();
    const property = valueFromReverse([17.3, 62.39], REVERSE, { t: sv });
    expect(fieldsRefusal(element('open-eplatform'), property, true, sv)).toBeNull();
  });
});

describe('Open ePlatform fields for drawn shapes', () => {
  const triangle = [[17.3, 62.39], [17.301, 62.39], [17.301, 62.391], [17.3, 62.39]];
  const area = {
    type: 'Feature',
    geometry: { type: 'Polygon', coordinates: [triangle] },
    properties: { ...valueFromReverse([17.3007, 62.3903], { ...REVERSE, property: null }, { t: sv }).properties, centre: [17.3007, 62.3903] },
  };

  it('writes an area as WKT in SWEREF 99 TM, easting first, to _geometry and _polygon', () => {
    const entries = Object.fromEntries(eplatformEntries('q5', area, { mode: 'polygon' }));
    const corners = triangle.map((c) => toSweref99tm(c).map((v) => String(Math.round(v * 1000) / 1000)).join(' '));
    expect(entries.q5_geometry).toBe(`POLYGON((${corners.join(',')}))`);
    expect(entries.q5_polygon).toBe(entries.q5_geometry);
    const [e] = toSweref99tm(triangle[0]);
    expect(e).toBeGreaterThan(500000); // x is the easting (SWEREF 99 TM's false easting 500 km)
    expect(entries.q5_epsg).toBe('EPSG:3006');
    expect(entries.q5_propertyUnitDesignation).toBe('');
  });

  it('writes a line to _geometry only, and a point to neither', () => {
    const line = { ...area, geometry: { type: 'LineString', coordinates: triangle.slice(0, 3) } };
    const names = eplatformEntries('q5', line, { mode: 'line' }).map(([name]) => name);
    expect(names).toContain('q5_geometry');
    expect(names).not.toContain('q5_polygon');
    expect(Object.fromEntries(eplatformEntries('q5', line, { mode: 'line' })).q5_geometry).toMatch(/^LINESTRING\(\d+(\.\d+)? \d+/u);
    expect(eplatformEntries('q5', valueFromReverse([17.3, 62.39], REVERSE, { t: sv })).length).toBe(6);
    expect(shapeWkt({ type: 'Point', coordinates: [17.3, 62.39] })).toBeNull();
  });

  it('empties the shape fields when nothing is drawn, and needs no property for a shape', () => {
    const entries = Object.fromEntries(eplatformEntries('q5', null, { mode: 'polygon' }));
    expect([entries.q5_geometry, entries.q5_polygon]).toEqual(['', '']);
    expect(fieldsRefusal(element('open-eplatform'), area, true, sv)).toBeNull();
  });
});
