/**
 * Draws a sketch (sketch.js) on the map: the shape so far, its vertices, and a dashed "rubber
 * band" from the last vertex to the crosshair so a person sees where the next edge will go.
 * Colours keep 3:1 against the basemap (dark line with a white halo).
 */
import Feature from 'ol/Feature.js';
import LineString from 'ol/geom/LineString.js';
import MultiPoint from 'ol/geom/MultiPoint.js';
import Point from 'ol/geom/Point.js';
import Polygon from 'ol/geom/Polygon.js';
import VectorLayer from 'ol/layer/Vector.js';
import { fromLonLat } from 'ol/proj.js';
import VectorSource from 'ol/source/Vector.js';
import CircleStyle from 'ol/style/Circle.js';
import Fill from 'ol/style/Fill.js';
import Stroke from 'ol/style/Stroke.js';
import Style from 'ol/style/Style.js';

const INK = '#a40040';
const HALO = new Style({ stroke: new Stroke({ color: '#ffffff', width: 7 }) });
const SHAPE = new Style({
  stroke: new Stroke({ color: INK, width: 3 }),
  fill: new Fill({ color: 'rgba(164, 0, 64, 0.18)' }),
});
const BAND = new Style({ stroke: new Stroke({ color: INK, width: 2, lineDash: [8, 6] }) });
// The vertex selected for moving (vertex-edit.js): larger and filled, so it stands out by shape
// as well as colour.
const SELECTED = new Style({
  image: new CircleStyle({ radius: 10, fill: new Fill({ color: INK }), stroke: new Stroke({ color: '#ffffff', width: 3 }) }),
});
const VERTEX = new Style({
  image: new CircleStyle({ radius: 6, fill: new Fill({ color: '#ffffff' }), stroke: new Stroke({ color: INK, width: 3 }) }),
});

/**
 * @param {import('ol/Map.js').default} map
 * @param {{mode: 'line' | 'polygon', vertices: number[][]}} sketch
 * @param {() => number | null} [selected] the selected vertex's index
 */
export function createSketchLayer(map, sketch, selected = () => null) {
  const source = new VectorSource();
  map.addLayer(new VectorLayer({ source, zIndex: 90 }));
  const view = map.getView();

  function redraw() {
    source.clear();
    const points = sketch.vertices.map((v) => fromLonLat(v, view.getProjection()));
    if (!points.length) return;
    if (sketch.mode === 'polygon' && points.length >= 3) {
      const shape = new Feature(new Polygon([[...points, points[0]]]));
      shape.setStyle([HALO, SHAPE]);
      source.addFeature(shape);
    } else if (points.length >= 2) {
      const shape = new Feature(new LineString(points));
      shape.setStyle([HALO, SHAPE]);
      source.addFeature(shape);
    }
    const center = view.getCenter();
    if (center) {
      const band = new Feature(new LineString([points[points.length - 1], center]));
      band.setStyle(BAND);
      source.addFeature(band);
    }
    const vertices = new Feature(new MultiPoint(points));
    vertices.setStyle(VERTEX);
    source.addFeature(vertices);
    const chosen = selected();
    if (chosen !== null && points[chosen]) {
      const mark = new Feature(new Point(points[chosen]));
      mark.setStyle(SELECTED);
      source.addFeature(mark);
    }
  }

  view.on('change:center', redraw);
  return { redraw };
}
