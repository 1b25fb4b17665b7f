/**
 * `<webmap-picker municipality="2281">`: the picker of one municipality's e-service.
 *
 * The municipality's public description (`GET /api/municipalities/{code}`: name, bounding box,
 * default layers) decides
 *   - where the map opens: on the municipality's whole extent, unless `center`/`zoom` are given;
 *   - which catalog layers it draws, unless `layers` is given;
 *   - the allowed area, unless `allowed-area` is given: a place in another municipality is refused
 *     in words that name both ("… Den ligger i Stockholms kommun. Välj en plats i Sundsvalls
 *     kommun.") — the same refusal `allowed-area` gives;
 *   - the search's bias: `/api/search?municipality=` ranks places inside it first; the others are
 *     still found, each marked (seen and heard) with the municipality it is in.
 * The allowed area is the code itself, so refusals work even while (or if) the description
 * cannot be had; only its name is then missing from the words.
 */
import { municipalityDescription } from '../shared/external-basemap.js';

const CODE = /^[0-9]{4}$/u;
/** Web Mercator's tile size in px: zoom z shows the world in 256·2^z px. */
const TILE = 256;
/** Room left around the municipality when the map opens on it (share of each side). */
const PADDING = 0.04;

/** The `municipality` attribute when it is a four-digit code, else null. */
export function municipalityCode(element) {
  const code = (element.getAttribute('municipality') || '').trim();
  return CODE.test(code) ? code : null;
}

/**
 * The municipality's description from the server, or null without a `municipality` attribute.
 * Rejects (an Error) when it cannot be had: unknown code, network, server.
 * @param {string | null} code
 * @param {URL} base the webmap service (api.js's `base`)
 * @param {{fetch?: typeof fetch}} [options]
 */
export async function loadMunicipality(code, base, options = {}) {
  if (!code) return null;
  // Shared with the external basemap (one request per page, the page's preload answers it).
  const body = await municipalityDescription(base, code, options.fetch);
  if (!body || body.code !== code || !Array.isArray(body.bbox) || body.bbox.length !== 4) {
    throw new Error(`municipality ${code}: not a municipality description`);
  }
  return body;
}

const mercatorY = (lat) => {
  const phi = (Math.max(-85, Math.min(85, lat)) * Math.PI) / 180;
  return (1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2;
};
const latOf = (y) => (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;

/**
 * The centre and whole zoom level that show all of `bbox` (west, south, east, north in WGS 84)
 * in a map of `size` px. A whole level: the map snaps to them, and a level that cut off part of
 * the municipality would open the map on less than it.
 * @param {number[]} bbox
 * @param {[number, number]} size width, height in px
 * @param {{minZoom?: number, maxZoom?: number}} [limits]
 * @returns {{center: [number, number], zoom: number}}
 */
export function fitView(bbox, size, { minZoom = 3, maxZoom = 18 } = {}) {
  const [west, south, east, north] = bbox;
  const [width, height] = size.map((px) => Math.max(1, px * (1 - 2 * PADDING)));
  const x0 = (west + 180) / 360;
  const x1 = (east + 180) / 360;
  const y0 = mercatorY(north);
  const y1 = mercatorY(south);
  const span = Math.max((x1 - x0) * TILE / width, (y1 - y0) * TILE / height, 1e-12);
  const zoom = Math.floor(Math.log2(1 / span));
  return {
    center: [(x0 + x1) * 180 - 180, latOf((y0 + y1) / 2)],
    zoom: Math.max(minZoom, Math.min(maxZoom, zoom)),
  };
}

/**
 * Where the map opens: on the municipality unless the author gave `center` or `zoom` (theirs
 * wins), or null to keep the author's (or the default) view.
 * @param {HTMLElement} element
 * @param {object | null} municipality the description
 * @param {[number, number]} size the map's size in px
 */
export function startView(element, municipality, size) {
  if (!municipality || element.hasAttribute('center') || element.hasAttribute('zoom')) return null;
  return fitView(municipality.bbox, size);
}

/** The layers the map draws: the `layers` attribute, else the municipality's default layers. */
export function layerNames(element, municipality) {
  if (element.hasAttribute('layers') || !municipality) return null;
  return (municipality.default_layers || []).filter((name) => /^[\w-]+$/u.test(name));
}

/**
 * The area a place must be in: `allowed-area` (with `allowed-area-name`) when given, else the
 * municipality (its code, and its name once known). `{code: null}` when neither.
 * @returns {{code: string | null, name: string | null}}
 */
export function allowedArea(element, code, municipality) {
  const given = element.getAttribute('allowed-area');
  if (given) return { code: given, name: element.getAttribute('allowed-area-name') };
  if (!code) return { code: null, name: null };
  return { code, name: municipality?.name || null };
}

/**
 * The words that mark a search result outside the municipality ("I Stockholms kommun, utanför
 * Sundsvalls kommun"), or null for one inside it (or when no municipality biases the search).
 * @param {object} properties a hit's properties (`in_requested_municipality`, `municipality`)
 * @param {object | null} municipality the description
 * @param {object} t strings of the language
 */
export function outsideMark(properties, municipality, t) {
  if (!municipality || properties.in_requested_municipality !== false) return null;
  return t.resultOutside(properties.municipality || null, municipality.name);
}

/** What is said after the number of results: how many of them lie outside, or ''. */
export function outsideSummary(results, municipality, t) {
  if (!municipality) return '';
  const outside = results.filter((f) => f.properties?.in_requested_municipality === false).length;
  return outside ? t.resultsOutside(outside, results.length, municipality.name) : '';
}
