import { describe, expect, it } from 'vitest';
import sv from '../src/picker/i18n/sv.js';
import { eplatformEntries, fieldsRefusal, swerefOf } from '../src/picker/eplatform-fields.js';
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
