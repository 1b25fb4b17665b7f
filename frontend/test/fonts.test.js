import { describe, expect, it } from 'vitest';
import { schemeStyleUrl } from '../src/shared/color-scheme.js';
import { loadMapFonts, olFont } from '../src/shared/fonts.js';

describe('olFont', () => {
  it('maps the style fontstack to the Noto Sans web font, with a fallback', () => {
    expect(olFont(['Noto Sans Regular'], 13)).toBe('400 13px "Noto Sans", sans-serif');
    expect(olFont(['Noto Sans Bold'], 15.55)).toBe('700 15.6px "Noto Sans", sans-serif');
    expect(olFont(undefined, 12)).toBe('400 12px "Noto Sans", sans-serif');
  });
});

describe('loadMapFonts', () => {
  it('resolves false where there is no FontFace API (labels then use the system font)', async () => {
    expect(await loadMapFonts('http://127.0.0.1:8000/styles/basemap.json')).toBe(false);
  });
});

describe('schemeStyleUrl', () => {
  const light = 'https://karta.example.se/webmap/styles/basemap.json';
  it('swaps in the dark basemap only when dark is preferred', () => {
    expect(schemeStyleUrl(light, false)).toBe(light);
    expect(schemeStyleUrl(light, true)).toBe('https://karta.example.se/webmap/styles/basemap-dark.json');
  });
  it('leaves other styles alone', () => {
    const other = 'https://karta.example.se/styles/custom.json';
    expect(schemeStyleUrl(other, true)).toBe(other);
  });
});
