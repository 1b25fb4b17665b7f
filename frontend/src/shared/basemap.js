/**
 * Draws our MapLibre basemap style into an OpenLayers map, from our own server only.
 *
 * Shared by the viewer at `/` and the <webmap-picker> element, so both get the same offline-safe
 * set-up: the style is fetched by us (same origin), stripped of anything foreign
 * (see local-style.js), and handed to ol-mapbox-style with web fonts disabled.
 */
import { apply } from 'ol-mapbox-style';
import { NO_WEBFONTS, localOnlyStyle } from './local-style.js';

/**
 * Load the style at `styleUrl` into `map`.
 * @param {import('ol/Map.js').default} map
 * @param {string} styleUrl URL of a MapLibre style on this server
 * @param {{fetch?: typeof fetch, onRemoved?: (removed: {where: string, url: string}[]) => void}} [options]
 * @returns {Promise<object>} the style as applied
 */
export async function loadBasemap(map, styleUrl, options = {}) {
  const doFetch = options.fetch || fetch;
  const absolute = new URL(styleUrl, document.baseURI).href;
  const response = await doFetch(absolute, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`style ${absolute}: HTTP ${response.status}`);
  const { style, removed } = localOnlyStyle(await response.json(), absolute);
  if (removed.length && options.onRemoved) options.onRemoved(removed);
  await apply(map, style, { styleUrl: absolute, webfonts: NO_WEBFONTS });
  return style;
}
