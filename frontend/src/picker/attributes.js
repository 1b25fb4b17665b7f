/**
 * What the <webmap-picker> element's attributes ask for, read once and with safe defaults, so
 * element.js deals in values rather than attribute strings.
 *
 * Attributes: name, required, disabled, label (the question, its accessible name), lang (sv|en),
 * server, center ("lon,lat"), zoom, layers (catalog layers drawn over the basemap, comma-separated),
 * min-zoom-to-choose, allowed-area (municipality code), allowed-area-name (its name, for the
 * refusal's words), mode (point | line | polygon), search-placeholder (the search field's examples),
 * fields (how the value is posted: JSON under `name` by default, or `open-eplatform`: Open
 * ePlatform's map query fields with `name` as the query's prefix, see eplatform-fields.js) and
 * eplatform-base-layer (what those fields say in `_baseLayer`), and municipality (an SCB code: the
 * picker of that municipality's e-service — its start view, layers, search bias and allowed area,
 * see municipality.js).
 */
import { OSTERMALM } from '../shared/geo.js';

/** A number attribute, or `fallback` when it is missing or not a number. */
export function number(value, fallback) {
  const parsed = Number.parseFloat(value);
  return Number.isFinite(parsed) ? parsed : fallback;
}

/** The zoom at which a place may be chosen (`min-zoom-to-choose`, 15 by default). */
export function minZoomToChoose(element) {
  return number(element.getAttribute('min-zoom-to-choose'), 15);
}

/** `point`, `line` or `polygon` (`mode`; anything else is a point). */
export function modeOf(element) {
  const mode = element.getAttribute('mode');
  return mode === 'line' || mode === 'polygon' ? mode : 'point';
}

/** Where the map opens: `center` ("lon,lat") and `zoom`, else Östermalm. */
export function initialView(element) {
  const center = (element.getAttribute('center') || '').split(',').map(Number);
  return {
    center: center.length === 2 && center.every(Number.isFinite) ? center : OSTERMALM.center,
    zoom: number(element.getAttribute('zoom'), OSTERMALM.zoom),
  };
}

/** The TileJSON URLs of the catalog layers named in `layers` (names that could be one only). */
export function overlayUrls(element, base) {
  return layerUrls((element.getAttribute('layers') || '').split(','), base);
}

/** The TileJSON URLs of catalog layers by name (names that could be one only). */
export function layerUrls(names, base) {
  return names
    .map((name) => name.trim())
    .filter((name) => /^[\w-]+$/u.test(name))
    .map((name) => new URL(`tiles/${encodeURIComponent(name)}.json`, base).href);
}
