/**
 * The rules of the MapLibre style subset our widget draws (see mini-style.js): zoom, paint
 * values, filters, label text, and what is not supported. Pure functions without OpenLayers, so
 * node can run them too (frontend/scripts/validate-style.mjs checks the served style with
 * `unsupported`).
 *
 * Filters come in both MapLibre forms: legacy (`["==", "class", "path"]`, `["in", "class", "a",
 * "b"]`, `["has", "name"]`: what our style uses, because QGIS's converter reads only that) and
 * expression (`["==", ["get", "class"], "path"]`, `["in", ["get", …], ["literal", […]]]`).
 */

/** Resolution (m/px) of MapLibre zoom 0 (512 px tiles), as ol-mapbox-style counts it. */
const ZOOM0_RESOLUTION = 78271.51696402048;
export const LAYER_TYPES = new Set(['background', 'fill', 'line', 'circle', 'symbol']);
const PAINT = {
  background: ['background-color'],
  fill: ['fill-color', 'fill-outline-color', 'fill-opacity'],
  line: ['line-color', 'line-width', 'line-dasharray', 'line-opacity'],
  circle: ['circle-color', 'circle-radius', 'circle-stroke-color', 'circle-stroke-width'],
  symbol: ['text-color', 'text-halo-color', 'text-halo-width'],
};
const LAYOUT = new Set([
  'line-join',
  'line-cap',
  'visibility',
  'text-field',
  'text-font',
  'text-size',
  'text-max-width',
  'text-transform',
  'text-letter-spacing',
  'text-anchor',
  'text-offset',
  'text-max-angle',
  'symbol-placement',
]);
const FILTER_OPS = new Set(['==', '!=', '!', 'in', '!in', 'all', 'any', 'none', 'has', '!has', 'get', 'literal']);

/** MapLibre zoom for an OpenLayers resolution. */
export function styleZoom(resolution) {
  return Math.log2(ZOOM0_RESOLUTION / resolution);
}

/** Value of a paint property at `zoom`: a constant, or `interpolate` over `["zoom"]`. */
export function evaluate(value, zoom) {
  if (!Array.isArray(value) || value[0] !== 'interpolate') return value;
  const [, curve, , ...stops] = value;
  const base = curve[0] === 'exponential' ? curve[1] : 1;
  if (zoom <= stops[0]) return stops[1];
  for (let i = 0; i + 2 < stops.length; i += 2) {
    const [z0, v0, z1, v1] = [stops[i], stops[i + 1], stops[i + 2], stops[i + 3]];
    if (zoom <= z1) {
      const t = base === 1 ? (zoom - z0) / (z1 - z0) : (base ** (zoom - z0) - 1) / (base ** (z1 - z0) - 1);
      return v0 + t * (v1 - v0);
    }
  }
  return stops[stops.length - 1];
}

function operand(expression, get) {
  if (Array.isArray(expression)) {
    if (expression[0] === 'get') return get(expression[1]);
    if (expression[0] === 'literal') return expression[1];
  }
  return expression;
}

/** The left side of a comparison: in a legacy filter a bare string names a property. */
function subject(arg, get) {
  return typeof arg === 'string' ? get(arg) : operand(arg, get);
}

/** Whether a feature (its property getter `get`) passes a MapLibre filter (either form). */
export function passes(filter, get) {
  if (filter === undefined || filter === true) return true;
  const [op, ...args] = filter;
  switch (op) {
    case '==':
      return subject(args[0], get) === operand(args[1], get);
    case '!=':
      return subject(args[0], get) !== operand(args[1], get);
    case '!':
      return !passes(args[0], get);
    case 'in':
    case '!in': {
      // Legacy: ["in", key, v1, v2, …]; expression: ["in", value, ["literal", [v1, v2, …]]].
      const legacy = typeof args[0] === 'string';
      const list = legacy ? args.slice(1) : operand(args[1], get);
      const found = Array.isArray(list) && list.includes(subject(args[0], get));
      return op === 'in' ? found : !found;
    }
    case 'all':
      return args.every((f) => passes(f, get));
    case 'any':
      return args.some((f) => passes(f, get));
    case 'none':
      return !args.some((f) => passes(f, get));
    case 'has':
      return get(args[0]) !== undefined && get(args[0]) !== null;
    case '!has':
      return get(args[0]) === undefined || get(args[0]) === null;
    default:
      return false;
  }
}

/**
 * A label's text: `text-field` as a `{field}` template (what our style uses) or `["get", key]`;
 * `text-transform` applied. Empty string when the feature has no value.
 */
export function labelText(layout, get) {
  const field = layout['text-field'];
  let text = '';
  if (typeof field === 'string') {
    text = field.replace(/\{([^}]+)\}/g, (_, key) => {
      const value = get(key);
      return value === undefined || value === null ? '' : String(value);
    });
  } else if (Array.isArray(field) && field[0] === 'get') {
    const value = get(field[1]);
    text = value === undefined || value === null ? '' : String(value);
  }
  text = text.trim();
  if (layout['text-transform'] === 'uppercase') return text.toLocaleUpperCase('sv');
  if (layout['text-transform'] === 'lowercase') return text.toLocaleLowerCase('sv');
  return text;
}

function filterProblems(filter, where) {
  // A literal's array is data, not an expression.
  if (!Array.isArray(filter) || filter[0] === 'literal') return [];
  const problems = FILTER_OPS.has(filter[0]) ? [] : [`${where}: filter operator ${filter[0]}`];
  for (const arg of filter.slice(1)) problems.push(...filterProblems(arg, where));
  return problems;
}

/** What in `style` this renderer would not draw (empty for a style it fully supports). */
export function unsupported(style) {
  const problems = [];
  // Glyphs are for MapLibre; the widget draws text with the same font as a web font (fonts.js).
  if (style.sprite) problems.push('sprite');
  const sources = Object.entries(style.sources || {});
  if (sources.length !== 1 || sources[0][1].type !== 'vector') problems.push('exactly one vector source');
  for (const layer of style.layers || []) {
    const where = `layer ${layer.id}`;
    if (!LAYER_TYPES.has(layer.type)) {
      problems.push(`${where}: type ${layer.type}`);
      continue;
    }
    for (const key of Object.keys(layer.paint || {})) {
      if (!PAINT[layer.type].includes(key)) problems.push(`${where}: paint ${key}`);
    }
    for (const key of Object.keys(layer.layout || {})) {
      if (!LAYOUT.has(key)) problems.push(`${where}: layout ${key}`);
    }
    if (layer.type === 'symbol') {
      const field = layer.layout?.['text-field'];
      if (!(typeof field === 'string' || (Array.isArray(field) && field[0] === 'get'))) {
        problems.push(`${where}: text-field`);
      }
    }
    problems.push(...filterProblems(layer.filter, where));
  }
  return problems;
}

