/**
 * The chosen place drawn on the map: a ring with a white halo, visible on every basemap colour
 * (3:1 against roads, parks, water and buildings). The text beside the map is the primary
 * record; this is the picture of it.
 */
import Feature from 'ol/Feature.js';
import Point from 'ol/geom/Point.js';
import VectorLayer from 'ol/layer/Vector.js';
import { fromLonLat } from 'ol/proj.js';
import VectorSource from 'ol/source/Vector.js';
import CircleStyle from 'ol/style/Circle.js';
import Fill from 'ol/style/Fill.js';
import Stroke from 'ol/style/Stroke.js';
import Style from 'ol/style/Style.js';

const STYLE = [
  new Style({ image: new CircleStyle({ radius: 11, stroke: new Stroke({ color: '#ffffff', width: 7 }) }) }),
  new Style({
    image: new CircleStyle({
      radius: 11,
      fill: new Fill({ color: 'rgba(164, 0, 64, 0.15)' }),
      stroke: new Stroke({ color: '#a40040', width: 4 }),
    }),
  }),
];

/** @param {import('ol/Map.js').default} map */
export function createMarker(map) {
  // The layer is added with the first marker: until something is chosen the map's frames (the
  // first ones above all, on a slow phone) have one layer less to prepare.
  let source = null;
  return {
    /** Show the marker at `lonLat` (EPSG:4326), or remove it with null. */
    show(lonLat) {
      if (!source && !lonLat) return;
      if (!source) {
        source = new VectorSource();
        map.addLayer(new VectorLayer({ source, style: STYLE, zIndex: 100 }));
      }
      source.clear();
      if (lonLat) source.addFeature(new Feature(new Point(fromLonLat(lonLat, map.getView().getProjection()))));
    },
  };
}
