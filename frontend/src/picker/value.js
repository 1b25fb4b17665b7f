/**
 * The picker's value: a GeoJSON Feature an e-service can store as it is.
 *
 *   { type: 'Feature',
 *     geometry: { type: 'Point', coordinates: [lon, lat] },          // EPSG:4326
 *     properties: {
 *       label,                                    // the place in words, as shown and spoken
 *       sweref99tm: { srid: 3006, e, n } | null,  // from the server's lookup
 *       address: { label, street, number, letter, postcode, city, distance_m } | null,
 *       property: { designation, fictional } | null,
 *       municipality: { code, name } | null,
 *       source: 'map' | 'search' | 'geolocation',
 *       zoom } }
 *
 * Pure functions over the lookup API's answers (`/api/reverse`, `/api/search`), unit-tested.
 */

const ADDRESS_KEYS = ['label', 'street', 'number', 'letter', 'postcode', 'city', 'distance_m'];

function pick(source, keys) {
  const out = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

function round(value, digits) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * The place in words, with its municipality:
 * "Fastighet Stockholm Rosenbad 2, nära Drottninggatan 5, i Stockholms kommun".
 * @param {{address?: {label: string} | null, property?: {designation: string, fictional?: boolean} | null,
 *          municipality?: {name: string | null} | null}} props
 * @param {object} t strings of the language (i18n/*.js)
 * @param {[number, number]} [coordinates] used when neither address nor property is known
 */
export function describePlace(props, t, coordinates) {
  const parts = [];
  if (props.property && props.property.designation) {
    parts.push(t.property(props.property.designation, Boolean(props.property.fictional)));
  }
  if (props.address && props.address.label) {
    parts.push(parts.length ? t.near(props.address.label) : props.address.label);
  }
  if (parts.length === 0 && coordinates) parts.push(t.pointOnly(coordinates[0], coordinates[1]));
  const name = props.municipality && props.municipality.name;
  if (name) return parts.length ? t.inMunicipality(parts.join(', '), name) : t.municipalityOnly(name);
  return parts.join(', ');
}

/**
 * A value from a reverse lookup at the crosshair (or the person's position).
 * @param {[number, number]} lonLat the chosen point
 * @param {object | null} reverse the `/api/reverse` answer, or null when the lookup failed
 * @param {{zoom?: number, source?: string, t: object}} context
 */
export function valueFromReverse(lonLat, reverse, { zoom, source = 'map', t }) {
  const coordinates = [round(lonLat[0], 7), round(lonLat[1], 7)];
  const props = {
    sweref99tm: null,
    address: null,
    property: null,
    municipality: null,
    source,
    zoom: zoom === undefined ? null : round(zoom, 1),
  };
  if (reverse) {
    if (reverse.sweref99tm) props.sweref99tm = { srid: 3006, e: reverse.sweref99tm.e, n: reverse.sweref99tm.n };
    if (reverse.address) props.address = pick(reverse.address, ADDRESS_KEYS);
    if (reverse.property) props.property = pick(reverse.property, ['designation', 'fictional']);
    if (reverse.municipality) props.municipality = pick(reverse.municipality, ['code', 'name']);
  }
  if (reverse?.address && reverse.attribution?.length) props.attribution = [...reverse.attribution];
  props.label = describePlace(props, t, coordinates);
  return { type: 'Feature', geometry: { type: 'Point', coordinates }, properties: props };
}

/**
 * A value from a chosen search result (a Feature of `/api/search`), optionally completed by a
 * reverse lookup at its point (a street or address result has no property, and vice versa).
 * @param {object} result one feature of the search answer
 * @param {object | null} reverse `/api/reverse` at the result's point, or null
 * @param {{zoom?: number, t: object}} context
 */
export function valueFromSearch(result, reverse, { zoom, t }) {
  const p = result.properties || {};
  const base = valueFromReverse(result.geometry.coordinates, reverse, { zoom, source: 'search', t });
  const props = base.properties;
  if (p.sweref && p.sweref.e !== undefined) props.sweref99tm = { srid: 3006, e: p.sweref.e, n: p.sweref.n };
  if (p.kind === 'address' || p.kind === 'street') {
    props.address = { ...pick(p, ADDRESS_KEYS), distance_m: 0 };
  }
  if (p.kind === 'property' && p.designation) {
    props.property = { designation: p.designation, fictional: Boolean(p.fictional) };
  }
  if (p.municipality_code) props.municipality = { code: p.municipality_code, name: p.municipality || null };
  const credits = new Set([...(props.attribution || []), ...(result.attribution || [])]);
  if (credits.size) props.attribution = [...credits];
  props.label = describePlace(props, t, base.geometry.coordinates);
  return base;
}

/**
 * A value for a drawn line or area: its geometry, with the address, property and municipality
 * found at its centre, and its size (`area_m2` or `length_m`).
 * @param {{geometry: object, centre: [number, number], measure: number}} shape from drawing.js
 * @param {object | null} reverse `/api/reverse` at the shape's centre, or null
 * @param {{zoom?: number, mode: 'line' | 'polygon', t: object}} context
 */
export function valueFromShape(shape, reverse, { zoom, mode, t }) {
  const base = valueFromReverse(shape.centre, reverse, { zoom, source: 'map', t });
  const props = base.properties;
  const key = mode === 'polygon' ? 'area_m2' : 'length_m';
  props[key] = Math.round(shape.measure * 10) / 10;
  props.centre = base.geometry.coordinates;
  const shapeText = t.shapeLabel(mode, shape.measure);
  const name = props.municipality?.name;
  if (props.address || props.property) props.label = t.shapeAt(shapeText, describePlace(props, t));
  else props.label = name ? t.inMunicipality(shapeText, name) : shapeText;
  return { type: 'Feature', geometry: shape.geometry, properties: props };
}

/**
 * Why a place may not be chosen, or null when it may.
 * @param {{zoom: number, minZoom: number, municipalityCode?: string | null,
 *          allowedArea?: string | null, looked?: boolean}} check `looked`: the lookup answered
 * @returns {'zoom' | 'outside' | null}
 */
export function refusal({ zoom, minZoom, municipalityCode, allowedArea, looked = true }) {
  if (zoom < minZoom - 1e-6) return 'zoom';
  if (allowedArea && looked && municipalityCode !== allowedArea) return 'outside';
  return null;
}

/** A place outside `allowed-area`, refused in words: where it is, and where to choose instead. */
export function outsideRefusal(value, allowedName, t) {
  const { municipality } = value.properties;
  return municipality ? t.refuseOutside(municipality.name, allowedName) : t.refuseNoLand(allowedName);
}

/** The value as it is submitted with the form (`FormData` entry under the element's name). */
export function formValue(value) {
  return value ? JSON.stringify(value) : null;
}

function validCoordinates({ type, coordinates: c }) {
  const position = (p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite);
  if (type === 'Point') return position(c);
  if (type === 'LineString') return Array.isArray(c) && c.length >= 2 && c.every(position);
  if (type === 'Polygon') return Array.isArray(c) && c.length >= 1 && c.every((r) => Array.isArray(r) && r.length >= 4 && r.every(position));
  return false;
}

/** A value restored from its submitted text (back/forward cache, autofill); null if unusable. */
export function parseFormValue(text) {
  if (!text) return null;
  try {
    const value = JSON.parse(text);
    const geometry = value && value.geometry;
    if (value.type === 'Feature' && geometry && validCoordinates(geometry)) return value;
  } catch {
    // fall through: not ours
  }
  return null;
}
