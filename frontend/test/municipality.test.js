import { describe, expect, it } from 'vitest';
import en from '../src/picker/i18n/en.js';
import sv from '../src/picker/i18n/sv.js';
import {
  allowedArea,
  fitView,
  layerNames,
  loadMunicipality,
  municipalityCode,
  outsideMark,
  outsideSummary,
  startView,
} from '../src/picker/municipality.js';

// Sundsvall's bounding box as GET /api/municipalities/2281 gives it (WGS 84).
const SUNDSVALL = {
  code: '2281',
  name: 'Sundsvall',
  bbox: [16.535, 62.158, 17.677, 62.691],
  default_layers: ['roads', 'not a name', 'parks'],
};

/** What municipality.js reads of the element: its attributes (no DOM in these tests). */
function element(attributes = {}) {
  return {
    getAttribute: (name) => (name in attributes ? attributes[name] : null),
    hasAttribute: (name) => name in attributes,
  };
}

/** The map's extent in lon/lat at `zoom` around `center`, for a `size` px map (Web Mercator). */
function extentAt({ center, zoom }, [width, height]) {
  const world = 256 * 2 ** zoom;
  const y = (lat) => (1 - Math.log(Math.tan((lat * Math.PI) / 180) + 1 / Math.cos((lat * Math.PI) / 180)) / Math.PI) / 2;
  const lat = (v) => (Math.atan(Math.sinh(Math.PI * (1 - 2 * v))) * 180) / Math.PI;
  const cy = y(center[1]);
  return [
    center[0] - (width / 2 / world) * 360,
    lat(cy + height / 2 / world),
    center[0] + (width / 2 / world) * 360,
    lat(cy - height / 2 / world),
  ];
}

describe('municipality', () => {
  it('reads a four-digit code only', () => {
    expect(municipalityCode(element({ municipality: '2281' }))).toBe('2281');
    expect(municipalityCode(element({ municipality: ' 2281 ' }))).toBe('2281');
    for (const bad of ['228', '22811', 'abcd', '']) expect(municipalityCode(element({ municipality: bad }))).toBeNull();
    expect(municipalityCode(element())).toBeNull();
  });

  it('fits the whole municipality, and one level closer would not', () => {
    for (const size of [[640, 400], [320, 320], [1200, 300]]) {
      const view = fitView(SUNDSVALL.bbox, size);
      const [w, s, e, n] = extentAt(view, size);
      expect(w).toBeLessThanOrEqual(SUNDSVALL.bbox[0]);
      expect(s).toBeLessThanOrEqual(SUNDSVALL.bbox[1]);
      expect(e).toBeGreaterThanOrEqual(SUNDSVALL.bbox[2]);
      expect(n).toBeGreaterThanOrEqual(SUNDSVALL.bbox[3]);
      const [w2, s2, e2, n2] = extentAt({ ...view, zoom: view.zoom + 1 }, size);
      expect(w2 > SUNDSVALL.bbox[0] || s2 > SUNDSVALL.bbox[1] || e2 < SUNDSVALL.bbox[2] || n2 < SUNDSVALL.bbox[3]).toBe(true);
      expect(view.center[0]).toBeCloseTo((16.535 + 17.677) / 2, 6);
      expect(view.center[1]).toBeGreaterThan(62.158);
      expect(view.center[1]).toBeLessThan(62.691);
    }
  });

  it('opens on the municipality unless the author placed the map', () => {
    expect(startView(element({ municipality: '2281' }), SUNDSVALL, [640, 400])).toEqual(fitView(SUNDSVALL.bbox, [640, 400]));
    expect(startView(element({ municipality: '2281', center: '18,59' }), SUNDSVALL, [640, 400])).toBeNull();
    expect(startView(element({ municipality: '2281', zoom: '12' }), SUNDSVALL, [640, 400])).toBeNull();
    expect(startView(element({ municipality: '2281' }), null, [640, 400])).toBeNull();
  });

  it("draws the municipality's default layers unless `layers` is given", () => {
    expect(layerNames(element({ municipality: '2281' }), SUNDSVALL)).toEqual(['roads', 'parks']);
    expect(layerNames(element({ municipality: '2281', layers: 'buildings' }), SUNDSVALL)).toBeNull();
    expect(layerNames(element(), null)).toBeNull();
  });

  it('allows its own municipality unless allowed-area says otherwise', () => {
    expect(allowedArea(element({ municipality: '2281' }), '2281', SUNDSVALL)).toEqual({ code: '2281', name: 'Sundsvall' });
    expect(allowedArea(element({ municipality: '2281' }), '2281', null)).toEqual({ code: '2281', name: null });
    const both = element({ municipality: '2281', 'allowed-area': '2280', 'allowed-area-name': 'Härnösand' });
    expect(allowedArea(both, '2281', SUNDSVALL)).toEqual({ code: '2280', name: 'Härnösand' });
    expect(allowedArea(element(), null, null)).toEqual({ code: null, name: null });
  });

  it('marks results outside in words, in Swedish and English', () => {
    const outside = { municipality: 'Stockholm', in_requested_municipality: false };
    expect(outsideMark(outside, SUNDSVALL, sv)).toBe('I Stockholms kommun, utanför Sundsvalls kommun');
    expect(outsideMark(outside, SUNDSVALL, en)).toBe('In Stockholm municipality, outside Sundsvall municipality');
    expect(outsideMark({ municipality: 'Sundsvall', in_requested_municipality: true }, SUNDSVALL, sv)).toBeNull();
    expect(outsideMark(outside, null, sv)).toBeNull();
    const results = [{ properties: { in_requested_municipality: true } }, { properties: outside }, { properties: outside }];
    expect(outsideSummary(results, SUNDSVALL, sv)).toBe('2 av dem ligger utanför Sundsvalls kommun.');
    expect(outsideSummary(results, SUNDSVALL, en)).toBe('2 of them are outside Sundsvall municipality.');
    expect(outsideSummary(results.slice(1), SUNDSVALL, sv)).toBe('Alla ligger utanför Sundsvalls kommun.');
    expect(outsideSummary(results.slice(2), SUNDSVALL, en)).toBe('It is outside Sundsvall municipality.');
    expect(outsideSummary(results.slice(0, 1), SUNDSVALL, sv)).toBe('');
  });

  it('loads the description, and rejects what is not one', async () => {
    const base = new URL('https://karta.example.se/');
    const asked = [];
    const answer = (status, body) => async (url) => {
      asked.push(url);
      return { ok: status === 200, status, json: async () => body };
    };
    expect(await loadMunicipality('2281', base, { fetch: answer(200, SUNDSVALL) })).toEqual(SUNDSVALL);
    expect(asked[0]).toBe('https://karta.example.se/api/municipalities/2281');
    expect(await loadMunicipality(null, base, { fetch: answer(200, SUNDSVALL) })).toBeNull();
    await expect(loadMunicipality('9999', base, { fetch: answer(404, {}) })).rejects.toThrow('HTTP 404');
    await expect(loadMunicipality('2280', base, { fetch: answer(200, SUNDSVALL) })).rejects.toThrow('not a municipality');
  });
});
