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
 * Where they go: a form that already has inputs of those names (the platform's own hidden
 * inputs, outside the picker) gets them filled in, so each name is posted once; any name the
 * form lacks is posted by the picker itself (ElementInternals.setFormValue with FormData).
 */
import { toLonLat } from 'ol/proj.js';
import { toSweref99tm } from '../shared/sweref99tm.js';
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

/** Written to `_baseLayer` unless `eplatform-base-layer` names the platform's print layer. */
export const DEFAULT_BASE_LAYER = 'webmap#webmap';

/** A number as Java's Double.parseDouble reads it: a point, never a decimal comma, no exponent. */
function plain(value, digits) {
  return String(Math.round(value * 10 ** digits) / 10 ** digits);
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
 * @param {{extent?: number[] | null, baseLayer?: string}} [context] `extent`: the visible map in
 *   SWEREF 99 TM [minE, minN, maxE, maxN] (its size is kept, centred on the place)
 */
export function eplatformEntries(prefix, value, { extent = null, baseLayer = DEFAULT_BASE_LAYER } = {}) {
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
  return EPLATFORM_SUFFIXES.map((suffix) => [`${prefix}_${suffix}`, texts[suffix]]);
}

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
      });
      const own = new FormData();
      for (const [name, text] of entries) {
        const controls = pageControls(element, name);
        for (const control of controls) control.value = text;
        // Nothing chosen: post nothing of our own (a fallback field with this name may answer).
        if (controls.length === 0 && value) own.append(name, text);
      }
      internals.setFormValue(value ? own : null, state);
    },
  };
}
