import { describe, expect, it } from 'vitest';
import { evaluate, labelText, passes, styleZoom, unsupported } from '../src/shared/style-rules.js';

describe('styleZoom', () => {
  it('counts zoom as MapLibre does (512 px tiles), one less than OpenLayers', () => {
    expect(styleZoom(78271.51696402048)).toBeCloseTo(0);
    expect(styleZoom(78271.51696402048 / 2 ** 14)).toBeCloseTo(14);
  });
});

describe('evaluate', () => {
  const ramp = ['interpolate', ['exponential', 1.5], ['zoom'], 12, 0.75, 18, 13];
  it('clamps outside the stops and hits them exactly', () => {
    expect(evaluate(ramp, 5)).toBe(0.75);
    expect(evaluate(ramp, 12)).toBeCloseTo(0.75);
    expect(evaluate(ramp, 18)).toBeCloseTo(13);
    expect(evaluate(ramp, 22)).toBe(13);
  });
  it('interpolates exponentially between stops (like MapLibre)', () => {
    // MapLibre: t = (1.5^(z - z0) - 1) / (1.5^(z1 - z0) - 1)
    const t = (1.5 ** 3 - 1) / (1.5 ** 6 - 1);
    expect(evaluate(ramp, 15)).toBeCloseTo(0.75 + t * (13 - 0.75));
    expect(evaluate(['interpolate', ['linear'], ['zoom'], 0, 0, 10, 10], 4)).toBeCloseTo(4);
  });
  it('passes constants through', () => {
    expect(evaluate('#ffffff', 10)).toBe('#ffffff');
    expect(evaluate([2, 1], 10)).toEqual([2, 1]);
  });
});

describe('passes', () => {
  const feature = { class: 'park', name: 'Humlegården' };
  const get = (key) => feature[key];
  it('evaluates the filters our style uses', () => {
    expect(passes(undefined, get)).toBe(true);
    expect(passes(['==', ['get', 'class'], 'park'], get)).toBe(true);
    expect(passes(['!', ['==', ['get', 'class'], 'path']], get)).toBe(true);
    expect(passes(['in', ['get', 'class'], ['literal', ['park', 'grass']]], get)).toBe(true);
    expect(passes(['in', ['get', 'class'], ['literal', ['water']]], get)).toBe(false);
    expect(passes(['all', ['has', 'name'], ['!=', ['get', 'class'], 'wood']], get)).toBe(true);
    expect(passes(['any', ['has', 'ref'], ['==', ['get', 'name'], 'Tessinparken']], get)).toBe(false);
  });
  it('evaluates legacy filters (what QGIS reads, and what our style now uses)', () => {
    expect(passes(['==', 'class', 'park'], get)).toBe(true);
    expect(passes(['==', 'class', 'path'], get)).toBe(false);
    expect(passes(['!=', 'class', 'path'], get)).toBe(true);
    expect(passes(['in', 'class', 'park', 'grass'], get)).toBe(true);
    expect(passes(['in', 'class', 'water'], get)).toBe(false);
    expect(passes(['!in', 'class', 'water', 'wood'], get)).toBe(true);
    expect(passes(['all', ['has', 'name'], ['in', 'class', 'park']], get)).toBe(true);
    expect(passes(['!has', 'name'], get)).toBe(false);
    expect(passes(['none', ['==', 'class', 'path'], ['has', 'ref']], get)).toBe(true);
  });
});

describe('labelText', () => {
  const feature = { name: 'Karlavägen', housenumber: 12, empty: null };
  const get = (key) => feature[key];
  it('fills {field} templates and get expressions', () => {
    expect(labelText({ 'text-field': '{name}' }, get)).toBe('Karlavägen');
    expect(labelText({ 'text-field': '{housenumber}' }, get)).toBe('12');
    expect(labelText({ 'text-field': ['get', 'name'] }, get)).toBe('Karlavägen');
    expect(labelText({ 'text-field': '{empty}' }, get)).toBe('');
    expect(labelText({ 'text-field': '{missing}' }, get)).toBe('');
  });
  it('applies text-transform with Swedish case rules', () => {
    expect(labelText({ 'text-field': '{name}', 'text-transform': 'uppercase' }, get)).toBe('KARLAVÄGEN');
    expect(labelText({ 'text-field': 'Ŋŧǯ', 'text-transform': 'uppercase' }, get)).toBe('ŊŦǮ');
  });
});

describe('unsupported', () => {
  it('accepts a style made of what we draw, and names everything else', () => {
    const ok = {
      version: 8,
      sources: { basemap: { type: 'vector', url: '/tiles/basemap.json' } },
      layers: [
        { id: 'bg', type: 'background', paint: { 'background-color': '#eee' } },
        { id: 'roads', type: 'line', source: 'basemap', 'source-layer': 'roads', layout: { 'line-cap': 'round' }, paint: { 'line-width': 2 } },
      ],
    };
    expect(unsupported(ok)).toEqual([]);
    const more = structuredClone(ok);
    more.glyphs = '/fonts/{fontstack}/{range}.pbf';
    more.sprite = '/sprites/basemap';
    more.layers.push(
      { id: 'labels', type: 'symbol', source: 'basemap', 'source-layer': 'roads' },
      {
        id: 'names',
        type: 'symbol',
        source: 'basemap',
        'source-layer': 'roads',
        filter: ['has', 'name'],
        layout: { 'text-field': '{name}', 'text-font': ['Noto Sans Regular'], 'symbol-placement': 'line' },
        paint: { 'text-color': '#000', 'text-halo-color': '#fff', 'text-halo-width': 1.5 },
      },
      { id: 'x', type: 'fill', source: 'basemap', 'source-layer': 'water', paint: { 'fill-pattern': 'waves' }, filter: ['>=', ['zoom'], 3] },
    );
    expect(unsupported(more)).toEqual([
      'sprite',
      'layer labels: text-field',
      'layer x: paint fill-pattern',
      'layer x: filter operator >=',
      'layer x: filter operator zoom',
    ]);
  });
});
