/**
 * Client for the lookup API (`/api/search`, `/api/reverse`) on the picker's server.
 *
 * The `server` attribute says where that is (the widget may be embedded on an e-service's own
 * host); without it the page's own origin is used. Requests never carry cookies to another
 * origin. Coordinates travel only in the query string, which the server does not log.
 */

export class LookupError extends Error {}

/**
 * @param {string | null} server base URL of the webmap service, or null for this origin
 * @param {{fetch?: typeof fetch}} [options]
 */
export function createLookup(server, options = {}) {
  const doFetch = options.fetch || ((...args) => fetch(...args));
  const base = new URL(server || '/', document.baseURI);

  async function getJson(path, params, signal) {
    const url = new URL(path, base);
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    let response;
    try {
      response = await doFetch(url.href, { signal, headers: { Accept: 'application/json' } });
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new LookupError(`network: ${error.message}`);
    }
    if (!response.ok) throw new LookupError(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  return {
    /** Base URL of the service (for the style and tiles too). */
    base,
    /**
     * Addresses, streets and properties matching `q` (å, ä, ö are sent as typed, UTF-8);
     * with `municipality` (a code) those inside it first, each saying whether it is.
     * @returns {Promise<object[]>} GeoJSON Point features
     */
    async search(q, { limit = 8, near, municipality, signal } = {}) {
      const body = await getJson(
        'api/search',
        { q, limit, near: near ? near.map((v) => v.toFixed(5)).join(',') : undefined, municipality },
        signal,
      );
      const features = Array.isArray(body.features) ? body.features : [];
      // The credit the data's licence asks for travels with each result into the value.
      const attribution = Array.isArray(body.attribution) ? body.attribution : [];
      if (attribution.length) {
        for (const feature of features) feature.attribution = attribution;
      }
      return features;
    },
    /** Nearest address, property and municipality of a point (EPSG:4326). */
    reverse(lon, lat, { signal } = {}) {
      return getJson('api/reverse', { lon: lon.toFixed(7), lat: lat.toFixed(7) }, signal);
    },
  };
}

/**
 * The query as typed, tidied: Unicode-normalised (so "å" typed as a + ring matches), spaces
 * collapsed. Letters of every script are kept (`\p{L}` with the `u` flag), as are digits and
 * the `:` and `-` of property designations.
 */
export function normaliseQuery(text) {
  return String(text || '')
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}\s:.,\-/]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}
