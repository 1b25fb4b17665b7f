/**
 * Open ePlatform's map query fields, written by the picker (`fields="open-eplatform"`), so a
 * municipality can put <webmap-picker> into the e-service forms it already runs on Open ePlatform
 * without changing the platform.
 *
 * Open ePlatform's "Fastighetsbeteckning i karta" query (PUDMapQuery, built on BaseMapQuery)
 * renders six hidden inputs named by the query's prefix `q{queryID}` and reads them back on
 * submit (PUDMapQueryTemplates.xsl, pudmapquery.js, BaseMapQueryProviderModule.populate,
 * PUDMapQueryProvider.populate in github.com/Open-ePlatform/Open-ePlatform):
 *
 *   q12_propertyUnitDesignation  the property ("Sundsvall Skönsberg 1:23"); empty = not answered
 *   q12_xCoordinate              easting, in the map's CRS (OpenLayers x; read as POINT(x y))
 *   q12_yCoordinate              northing
 *   q12_epsg                     the map's CRS as OpenLayers 2 names it: "EPSG:3006"
 *   q12_extent                   the visible map: "minx,miny,maxx,maxy" (Bounds.toArray())
 *   q12_baseLayer                "layerName#printLayer" (the part after # goes to the print)
 *
 * The platform refuses a submit with a designation but an empty extent, epsg or baseLayer, or
 * with x or y that are not numbers ("InCompleteMapQuerySubmit"), so all six are written.
 * webmap writes SWEREF 99 TM (EPSG:3006), the CRS Swedish municipalities' map configurations
 * use: x, y from the server's lookup (to the millimetre), the extent projected here.
 *
 * Drawn shapes (`mode="line"` or `mode="polygon"`) also answer the platform's drawing queries,
 * which read the shape as WKT in the map's CRS (JTS's WKTReader; x is the easting):
 *
 *   q12_geometry   GeneralMapQuery and MultiGeometryMapQuery: one input per drawn object,
 *                  "WKT" or "WKT#config" (GeneralMapQueryProviderModule.populate)
 *   q12_polygon    SinglePolygonMapQuery: the area (SinglePolygonMapQueryProvider.populate)
 *
 * An empty `_geometry` would not parse ("GeometryNotValid"), so while nothing is drawn those
 * inputs are disabled (not posted) rather than emptied.
 *
 * Where they go: a form that already has inputs of those names (the platform's own hidden
 * inputs, outside the picker) gets them filled in, so each name is posted once; any name the
 * form lacks is posted by the picker itself (ElementInternals.setFormValue with FormData).
 */
import { toLonLat } from 'ol/proj.js';
import { toSweref99tm } from '../shared/sweref99tm.js';
import { modeOf } from './attributes.js';
import { formValue } from './value.js';

/** The field sets the `fields` attribute knows. */
export const OPEN_EPLATFORM = 'open-eplatform';

/** The six suffixes, in the order Open ePlatform's template renders them. */
export const EPLATFORM_SUFFIXES = [
  'propertyUnitDesignation',
  'xCoordinate',
  'yCoordinate',
  'extent',
  'epsg',
  'baseLayer',
];

/** What a drawn shape adds: `_geometry` for lines and areas, `_polygon` for areas only. */
export const SHAPE_SUFFIXES = { line: ['geometry'], polygon: ['geometry', 'polygon'] };

/** Written to `_baseLayer` unless `eplatform-base-layer` names the platform's print layer. */
export const DEFAULT_BASE_LAYER = 'webmap#webmap';

/** A number as Java's Double.parseDouble reads it: a point, never a decimal comma, no exponent. */
function plain(value, digits) {
  return String(Math.round(value * 10 ** digits) / 10 ** digits);
}

/**
 * A drawn line or area as WKT in SWEREF 99 TM, x the easting, to the millimetre, as the
 * platform's OpenLayers writes it ("POLYGON((617000.1 6920000.2,…))"); null for anything else.
 * @param {{type: string, coordinates: any}} geometry GeoJSON in WGS 84
 */
export function shapeWkt(geometry) {
  const pairs = (ring) => ring.map((c) => toSweref99tm(c).map((v) => plain(v, 3)).join(' ')).join(',');
  if (geometry?.type === 'LineString') return `LINESTRING(${pairs(geometry.coordinates)})`;
  if (geometry?.type === 'Polygon') return `POLYGON(${geometry.coordinates.map((ring) => `(${pairs(ring)})`).join(',')})`;
  return null;
}

/**
 * Why the place cannot be this form's answer, or null: Open ePlatform's property map query needs
 * a property designation (without one it says the question is unanswered), so a place with none
 * is refused at once, as the platform's own map does ("Ingen fastighet hittades").
 * @param {HTMLElement} element the picker
 * @param {object} value the place
 * @param {boolean} looked whether the lookup answered (else the property is unknown, not absent)
 * @param {object} t strings of the language
 */
export function fieldsRefusal(element, value, looked, t) {
  if (element.getAttribute('fields') !== OPEN_EPLATFORM || value.properties.property?.designation) return null;
  // A drawn shape answers the drawing queries, which need no property.
  if (value.geometry?.type !== 'Point') return null;
  return looked ? t.refuseNoProperty : t.refuseNoPropertyLookup;
}

/** The place's SWEREF 99 TM point [e, n]: the server's when it answered, else projected here. */
export function swerefOf(value) {
  const props = value.properties || {};
  const sweref = props.sweref99tm;
  if (sweref && Number.isFinite(sweref.e) && Number.isFinite(sweref.n)) return [sweref.e, sweref.n];
  const point = value.geometry.type === 'Point' ? value.geometry.coordinates : props.centre;
  return point ? toSweref99tm(point) : null;
}

/**
 * The fields for a value, as [name, text] entries (empty texts when nothing is chosen).
 * @param {string} prefix the element's `name`, the query's prefix ("q12")
 * @param {object | null} value the picker's value (value.js)
 * @param {{extent?: number[] | null, baseLayer?: string, mode?: string}} [context] `extent`: the
 *   visible map in SWEREF 99 TM [minE, minN, maxE, maxN] (its size is kept, centred on the
 *   place); `mode`: the picker's (point | line | polygon), whose shape fields follow the six
 */
export function eplatformEntries(prefix, value, { extent = null, baseLayer = DEFAULT_BASE_LAYER, mode = 'point' } = {}) {
  const texts = Object.fromEntries(EPLATFORM_SUFFIXES.map((suffix) => [suffix, '']));
  const point = value ? swerefOf(value) : null;
  if (value && point) {
    texts.propertyUnitDesignation = value.properties.property?.designation || '';
    texts.xCoordinate = plain(point[0], 3);
    texts.yCoordinate = plain(point[1], 3);
    // The map's visible size, centred on the place (a search result's fly-to may still be on
    // its way); without a map (search only), the 200 m around it.
    const [w, h] = extent ? [extent[2] - extent[0], extent[3] - extent[1]] : [200, 200];
    const box = [point[0] - w / 2, point[1] - h / 2, point[0] + w / 2, point[1] + h / 2];
    texts.extent = box.map((v) => plain(v, 0)).join(',');
    texts.epsg = 'EPSG:3006';
    texts.baseLayer = baseLayer;
  }
  const wkt = value ? shapeWkt(value.geometry) || '' : '';
  for (const suffix of SHAPE_SUFFIXES[mode] || []) texts[suffix] = wkt;
  return [...EPLATFORM_SUFFIXES, ...(SHAPE_SUFFIXES[mode] || [])].map((suffix) => [`${prefix}_${suffix}`, texts[suffix]]);
}

/** Whether a field is one of the shape fields, which are left out (disabled) while empty. */
const isShapeField = (name) => /_(geometry|polygon)$/u.test(name);

/** The visible map in SWEREF 99 TM [minE, minN, maxE, maxN], or null before it has a size. */
export function visibleExtent(map) {
  const size = map?.getSize();
  if (!size || !size[0] || !size[1]) return null;
  const view = map.getView();
  const [minX, minY, maxX, maxY] = view.calculateExtent(size);
  const projection = view.getProjection();
  const corners = [[minX, minY], [minX, maxY], [maxX, minY], [maxX, maxY]].map((c) =>
    toSweref99tm(toLonLat(c, projection)),
  );
  const es = corners.map((c) => c[0]);
  const ns = corners.map((c) => c[1]);
  return [Math.min(...es), Math.min(...ns), Math.max(...es), Math.max(...ns)];
}

/** Controls of the form with this name that the page itself renders (not the picker's own). */
function pageControls(element, name) {
  const form = element.form;
  if (!form) return [];
  return [...form.elements].filter((control) => control !== element && control.name === name && !element.contains(control));
}

/**
 * How the element's value reaches the form: as JSON under `name` (the default), or as Open
 * ePlatform's fields (`fields="open-eplatform"`).
 * @param {HTMLElement} element the <webmap-picker>
 * @param {ElementInternals} internals
 * @param {() => object | null} map the OpenLayers map, when there is one (for the extent)
 */
export function createFormWriter(element, internals, map) {
  return {
    write(value) {
      const state = formValue(value);
      if (element.getAttribute('fields') !== OPEN_EPLATFORM || !element.name) {
        internals.setFormValue(state, state);
        return;
      }
      const entries = eplatformEntries(element.name, value, {
        extent: value ? visibleExtent(map()) : null,
        baseLayer: element.getAttribute('eplatform-base-layer') || DEFAULT_BASE_LAYER,
        mode: modeOf(element),
      });
      const own = new FormData();
      for (const [name, text] of entries) {
        const controls = pageControls(element, name);
        controls.forEach((control, index) => {
          control.value = isShapeField(name) && index > 0 ? '' : text;
          // An empty shape field would not parse on the platform; the picker's value is one
          // shape, so a second saved `_geometry` input is dropped too.
          if (isShapeField(name)) control.disabled = !text || index > 0;
        });
        // Nothing chosen: post nothing of our own (a fallback field with this name may answer).
        if (controls.length === 0 && value) own.append(name, text);
      }
      internals.setFormValue(value ? own : null, state);
    },
  };
}
