/**
 * Draws our MapLibre basemap style into an OpenLayers map, from our own server only.
 *
 * Used by the viewer at `/` (and the admin's layer preview), so it gets an offline-safe set-up:
 * the style is fetched by us (same origin), stripped of anything foreign (see local-style.js),
 * and handed to ol-mapbox-style with web fonts disabled; the label font, Noto Sans, comes from
 * our own /fonts (fonts.js). A page that prefers dark colours gets the dark basemap.
 */
import { apply } from 'ol-mapbox-style';
import { schemeStyleUrl } from './color-scheme.js';
import { loadMapFonts, loadMoreFonts } from './fonts.js';
import { NO_WEBFONTS, localOnlyStyle } from './local-style.js';

/**
 * Load the style at `styleUrl` (or its dark variant) into `map`.
 * @param {import('ol/Map.js').default} map
 * @param {string} styleUrl URL of a MapLibre style on this server
 * @param {{fetch?: typeof fetch, onRemoved?: (removed: {where: string, url: string}[]) => void}} [options]
 * @returns {Promise<object>} the style as applied
 */
export async function loadBasemap(map, styleUrl, options = {}) {
  const doFetch = options.fetch || fetch;
  const absolute = schemeStyleUrl(new URL(styleUrl, document.baseURI).href);
  // The font loads while the style is on its way; labels are then drawn in it from the start.
  const fonts = loadMapFonts(absolute);
  const response = await doFetch(absolute, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`style ${absolute}: HTTP ${response.status}`);
  const { style, removed } = localOnlyStyle(await response.json(), absolute);
  if (removed.length && options.onRemoved) options.onRemoved(removed);
  await fonts;
  await apply(map, style, { styleUrl: absolute, webfonts: NO_WEBFONTS });
  // Bold and the Sámi letters after the first drawing; labels are then drawn again with them.
  map.once('rendercomplete', () =>
    loadMoreFonts().then((ok) => ok && map.getAllLayers().forEach((layer) => layer.changed())),
  );
  return style;
}
