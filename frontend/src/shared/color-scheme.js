/**
 * The dark basemap for pages that prefer dark colours.
 *
 * The server has a dark variant of the basemap style beside the light one
 * (`/styles/basemap-dark.json`, same tiles, colours for WCAG contrast on a dark ground). Both
 * maps ask for `basemap.json`; this swaps in the dark one when `prefers-color-scheme: dark`
 * matches, so neither the viewer's page nor an e-service's `<webmap-picker>` needs to know.
 */

/** Whether the page prefers dark colours. */
export function prefersDark() {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
}

/**
 * `styleUrl`, or its dark variant when the page prefers dark and the URL is our light basemap.
 * @param {string} styleUrl absolute URL
 * @param {boolean} [dark] defaults to `prefersDark()`
 */
export function schemeStyleUrl(styleUrl, dark = prefersDark()) {
  if (!dark) return styleUrl;
  const url = new URL(styleUrl);
  if (!url.pathname.endsWith('/styles/basemap.json')) return styleUrl;
  url.pathname = url.pathname.replace(/basemap\.json$/, 'basemap-dark.json');
  return url.href;
}
