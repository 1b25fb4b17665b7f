import { describe, expect, it } from 'vitest';
import { isSameOrigin, localOnlyStyle, styleUrls } from '../src/shared/local-style.js';

const BASE = 'http://127.0.0.1:8000/styles/basemap.json';

function style(extra = {}) {
  return {
    version: 8,
    sources: {
      basemap: { type: 'vector', url: 'http://127.0.0.1:8000/tiles/basemap.json' },
    },
    layers: [
      { id: 'background', type: 'background' },
      { id: 'roads', type: 'line', source: 'basemap', 'source-layer': 'roads' },
    ],
    ...extra,
  };
}

describe('isSameOrigin', () => {
  it('accepts relative, same-origin, data: and templated URLs', () => {
    expect(isSameOrigin('/tiles/basemap.json', BASE)).toBe(true);
    expect(isSameOrigin('http://127.0.0.1:8000/tiles/b/{z}/{x}/{y}.mvt?v=1', BASE)).toBe(true);
    expect(isSameOrigin('data:text/css,', BASE)).toBe(true);
  });
  it('rejects other hosts, ports and schemes', () => {
    expect(isSameOrigin('https://fonts.googleapis.com/css', BASE)).toBe(false);
    expect(isSameOrigin('http://127.0.0.1:9000/x', BASE)).toBe(false);
    expect(isSameOrigin('https://127.0.0.1:8000/x', BASE)).toBe(false);
    expect(isSameOrigin('mapbox://styles/x', BASE)).toBe(false);
  });
});

describe('localOnlyStyle', () => {
  it('returns our own style untouched', () => {
    const ours = style();
    const { style: result, removed } = localOnlyStyle(ours, BASE);
    expect(removed).toEqual([]);
    expect(result).toBe(ours);
  });

  it('drops foreign glyphs, sprites, web fonts and sources with their layers', () => {
    const theirs = style({
      glyphs: 'https://demotiles.example.org/font/{fontstack}/{range}.pbf',
      sprite: 'https://cdn.example.org/sprite',
      metadata: { 'ol:webfonts': 'https://fonts.example.org/{font-family}.css' },
    });
    theirs.sources.satellite = { type: 'raster', tiles: ['https://tiles.example.org/{z}/{x}/{y}.png'] };
    theirs.layers.push(
      { id: 'photo', type: 'raster', source: 'satellite' },
      { id: 'labels', type: 'symbol', source: 'basemap', layout: { 'text-field': '{name}' } },
    );
    const { style: result, removed } = localOnlyStyle(theirs, BASE);
    expect(removed.map((r) => r.where).sort()).toEqual(
      ['glyphs', 'ol:webfonts', 'source satellite tiles', 'sprite'].sort(),
    );
    expect(result.glyphs).toBeUndefined();
    expect(result.sprite).toBeUndefined();
    expect(result.metadata['ol:webfonts']).toBeUndefined();
    expect(Object.keys(result.sources)).toEqual(['basemap']);
    expect(result.layers.map((l) => l.id)).toEqual(['background', 'roads', 'labels']);
    expect(result.layers[2].layout['text-field']).toBeUndefined();
    // The input is not modified.
    expect(theirs.glyphs).toContain('example.org');
  });

  it('lists every URL a style refers to', () => {
    const urls = styleUrls(style({ sprite: [{ id: 'a', url: '/sprites/a' }] }));
    expect(urls).toEqual([
      { where: 'sprite a', url: '/sprites/a' },
      { where: 'source basemap', url: 'http://127.0.0.1:8000/tiles/basemap.json' },
    ]);
  });
});
