import { describe, expect, it } from 'vitest';
import en from '../src/picker/i18n/en.js';
import { LANGUAGES, strings } from '../src/picker/i18n/index.js';
import sv from '../src/picker/i18n/sv.js';
import {
  describePlace,
  formValue,
  parseFormValue,
  refusal,
  valueFromReverse,
  valueFromSearch,
} from '../src/picker/value.js';

const REVERSE = {
  point: { lon: 18.0712, lat: 59.3381 },
  sweref99tm: { e: 674512.3, n: 6581234.5 },
  address: { label: 'Karlavägen 10, 114 31 Stockholm', street: 'Karlavägen', number: '10', letter: '', postcode: '114 31', city: 'Stockholm', distance_m: 8.4 },
  property: { designation: 'Stockholm Lärkstaden 1:23', fictional: true },
  municipality: { code: '0180', name: 'Stockholm' },
  inside_municipality: true,
  message: 'ok',
};

describe('valueFromReverse', () => {
  it('builds a GeoJSON Feature with SWEREF 99 TM, address, property and municipality', () => {
    const value = valueFromReverse([18.071234567, 59.338123456], REVERSE, { zoom: 17.04, t: sv });
    expect(value.type).toBe('Feature');
    expect(value.geometry).toEqual({ type: 'Point', coordinates: [18.0712346, 59.3381235] });
    expect(value.properties.sweref99tm).toEqual({ srid: 3006, e: 674512.3, n: 6581234.5 });
    expect(value.properties.address.label).toBe('Karlavägen 10, 114 31 Stockholm');
    expect(value.properties.address.distance_m).toBe(8.4);
    expect(value.properties.property).toEqual({ designation: 'Stockholm Lärkstaden 1:23', fictional: true });
    expect(value.properties.municipality).toEqual({ code: '0180', name: 'Stockholm' });
    expect(value.properties.zoom).toBe(17);
    expect(value.properties.source).toBe('map');
    expect(value.properties.label).toBe('Fastighet Stockholm Lärkstaden 1:23 (fiktiv), nära Karlavägen 10, 114 31 Stockholm, i Stockholms kommun');
  });

  it('names the municipality also when no address or property is near', () => {
    const reverse = { ...REVERSE, address: null, property: null, municipality: { code: '0184', name: 'Solna' } };
    expect(valueFromReverse([18.0, 59.36], reverse, { zoom: 16, t: sv }).properties.label).toBe(
      'Punkt 59,36000 N, 18,00000 E, i Solna kommun',
    );
    expect(valueFromReverse([18.0, 59.36], reverse, { zoom: 16, t: en }).properties.label).toBe(
      'Point 59.36000 N, 18.00000 E, in Solna municipality',
    );
  });

  it('still gives a usable value when the lookup failed', () => {
    const value = valueFromReverse([18.07, 59.338], null, { zoom: 16, t: en });
    expect(value.properties.address).toBeNull();
    expect(value.properties.sweref99tm).toBeNull();
    expect(value.properties.label).toBe('Point 59.33800 N, 18.07000 E');
  });

  it('writes coordinates the Swedish way in Swedish (decimal comma, spaced thousands)', () => {
    const value = valueFromReverse([18.07, 59.338], null, { zoom: 16, t: sv });
    expect(value.properties.label).toBe('Punkt 59,33800 N, 18,07000 E');
    expect(sv.coordinates(674032, 6580822)).toBe('SWEREF 99 TM: N 6\u00a0580\u00a0822, E 674\u00a0032');
  });
});

describe('valueFromSearch', () => {
  it('keeps the address found by search (å, ä, ö intact) and adds the property from reverse', () => {
    const result = {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [18.08, 59.34] },
      properties: {
        label: 'Östermalmsgatan 5, Stockholm', kind: 'address', street: 'Östermalmsgatan', number: '5',
        city: 'Stockholm', municipality_code: '0180', municipality: 'Stockholm',
        sweref: { srid: 3006, e: 675000, n: 6582000, axis_order: 'n,e' },
      },
    };
    const value = valueFromSearch(result, { ...REVERSE, address: null }, { zoom: 17, t: sv });
    expect(value.properties.address.label).toBe('Östermalmsgatan 5, Stockholm');
    expect(value.properties.address.distance_m).toBe(0);
    expect(value.properties.sweref99tm).toEqual({ srid: 3006, e: 675000, n: 6582000 });
    expect(value.properties.property.designation).toBe('Stockholm Lärkstaden 1:23');
    expect(value.properties.source).toBe('search');
    expect(value.properties.label).toBe('Fastighet Stockholm Lärkstaden 1:23 (fiktiv), nära Östermalmsgatan 5, Stockholm, i Stockholms kommun');
  });

  it('takes a property result as the property', () => {
    const result = {
      geometry: { type: 'Point', coordinates: [18.07, 59.33] },
      properties: { label: 'Stockholm Rosenbad 2', kind: 'property', designation: 'Stockholm Rosenbad 2', fictional: false, municipality_code: '0180' },
    };
    const value = valueFromSearch(result, null, { zoom: 17, t: en });
    expect(value.properties.property).toEqual({ designation: 'Stockholm Rosenbad 2', fictional: false });
    expect(value.properties.label).toBe('Property Stockholm Rosenbad 2');
    expect(value.properties.municipality.code).toBe('0180');
  });
});

describe('describePlace', () => {
  it('says the address alone when there is no property', () => {
    expect(describePlace({ address: { label: 'Storgatan 12' }, property: null }, sv)).toBe('Storgatan 12');
  });
});

describe('refusal', () => {
  it('refuses too low a zoom, then a place outside the allowed municipality', () => {
    expect(refusal({ zoom: 12, minZoom: 15 })).toBe('zoom');
    expect(refusal({ zoom: 16, minZoom: 15, municipalityCode: '0181', allowedArea: '0180' })).toBe('outside');
    expect(refusal({ zoom: 16, minZoom: 15, municipalityCode: '0180', allowedArea: '0180' })).toBeNull();
    expect(refusal({ zoom: 16, minZoom: 15, municipalityCode: null, allowedArea: null })).toBeNull();
  });
});

describe('form value', () => {
  it('round-trips through its submitted text and rejects junk', () => {
    const value = valueFromReverse([18.07, 59.338], REVERSE, { zoom: 17, t: sv });
    expect(parseFormValue(formValue(value))).toEqual(value);
    expect(formValue(null)).toBeNull();
    expect(parseFormValue('{"type":"Feature"}')).toBeNull();
    expect(parseFormValue('not json')).toBeNull();
  });
});

describe('strings', () => {
  it('defaults to Swedish and has every key in English too', () => {
    expect(strings(undefined)).toBe(sv);
    expect(strings('en-GB')).toBe(en);
    expect(strings('fi')).toBe(sv);
    for (const lang of Object.values(LANGUAGES)) {
      expect(Object.keys(lang).sort()).toEqual(Object.keys(sv).sort());
    }
  });
});

describe('attribution', () => {
  const CREDIT = '© Lantmäteriet (CC BY 4.0)';

  it('travels from a reverse answer with an address into the value', () => {
    const value = valueFromReverse([18.07, 59.33], { ...REVERSE, attribution: [CREDIT] }, { t: sv });
    expect(value.properties.attribution).toEqual([CREDIT]);
  });

  it('is left out when the answer used no address', () => {
    const noAddress = { ...REVERSE, address: null, attribution: [CREDIT] };
    expect(valueFromReverse([18.07, 59.33], noAddress, { t: sv }).properties).not.toHaveProperty('attribution');
    expect(valueFromReverse([18.07, 59.33], REVERSE, { t: sv }).properties).not.toHaveProperty('attribution');
  });

  it('comes with a chosen search result, once', () => {
    const result = {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [18.07, 59.33] },
      properties: { kind: 'address', label: 'Karlavägen 10', street: 'Karlavägen', number: 10 },
      attribution: [CREDIT],
    };
    const value = valueFromSearch(result, { ...REVERSE, attribution: [CREDIT] }, { t: sv });
    expect(value.properties.attribution).toEqual([CREDIT]);
  });

  it('is worded in both languages', () => {
    expect(sv.dataSource(CREDIT)).toBe(`Adressdata: ${CREDIT}`);
    expect(en.dataSource(CREDIT)).toBe(`Address data: ${CREDIT}`);
  });
});
