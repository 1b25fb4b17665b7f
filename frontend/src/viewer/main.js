/**
 * The map viewer at `/`: the basemap over Östermalm, with attribution and a way to see all of
 * Sweden. It proves the tiles render in a real browser; the citizen-facing picker is
 * <webmap-picker> (src/picker/).
 *
 * The map element exposes its state for people and tests alike: `data-state`
 * (loading | ready | error), `data-tiles-loaded` and `data-tile-errors`, and a status line.
 */
import 'ol/ol.css';
import './viewer.css';
import Map from 'ol/Map.js';
import View from 'ol/View.js';
import Attribution from 'ol/control/Attribution.js';
import Control from 'ol/control/Control.js';
import ScaleLine from 'ol/control/ScaleLine.js';
import { defaults as defaultInteractions } from 'ol/interaction/defaults.js';
import { fromLonLat, transformExtent } from 'ol/proj.js';
import { loadBasemap } from '../shared/basemap.js';
import { addExternalBasemap } from '../shared/external-basemap.js';
import { mapProjection } from '../shared/map-projection.js';
import { basemapLayer } from '../shared/mini-style.js';
import { OSTERMALM, SWEDEN_EXTENT, prefersReducedMotion } from '../shared/geo.js';
import { TEXT_EN, TEXT_SV } from './i18n.js';
import { addOverlay } from './overlay.js';

const TEXT = (document.documentElement.lang || 'sv').startsWith('en') ? TEXT_EN : TEXT_SV;

function button(label, text, onClick) {
  const element = document.createElement('button');
  element.type = 'button';
  element.className = 'viewer-button';
  element.textContent = text;
  if (label !== text) element.setAttribute('aria-label', label);
  element.addEventListener('click', onClick);
  return element;
}

function duration() {
  return prefersReducedMotion() ? 0 : 250;
}

/**
 * The place the map opens on and returns to: Östermalm, or with `?municipality=` (the page's
 * data-municipality, data-bbox in WGS 84, data-municipality-name) the municipality's whole extent.
 */
function homePlace(element) {
  const bbox = (element.dataset.bbox || '').split(',').map(Number);
  const name = element.dataset.municipalityName;
  if (bbox.length !== 4 || !bbox.every(Number.isFinite) || !name) {
    return {
      label: TEXT.ostermalm,
      shown: TEXT.ostermalmShown,
      ready: TEXT.ready,
      show: (view, options = {}) =>
        view.animate({ center: fromLonLat(OSTERMALM.center, view.getProjection()), zoom: OSTERMALM.zoom, ...options }),
    };
  }
  const named = (text) => text.replace('{name}', name);
  return {
    label: named(TEXT.place),
    shown: named(TEXT.placeShown),
    ready: named(TEXT.placeReady),
    show: (view, options = {}) =>
      view.fit(transformExtent(bbox, 'EPSG:4326', view.getProjection()), { padding: [16, 16, 16, 16], ...options }),
  };
}

/** Buttons for zoom and the two places, as one OpenLayers control so they sit over the map. */
function placeControls(view, announce, home) {
  const group = document.createElement('div');
  group.className = 'viewer-controls ol-unselectable';
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', 'Kartverktyg');
  const zoomBy = (delta) => () =>
    view.animate({ zoom: (view.getZoom() ?? 0) + delta, duration: duration() });
  group.append(
    button(TEXT.zoomIn, '+', zoomBy(1)),
    button(TEXT.zoomOut, '−', zoomBy(-1)),
    button(TEXT.sweden, TEXT.sweden, () => {
      view.fit(transformExtent(SWEDEN_EXTENT, 'EPSG:4326', view.getProjection()), {
        duration: duration(),
        padding: [16, 16, 16, 16],
      });
      announce(TEXT.swedenShown);
    }),
    button(home.label, home.label, () => {
      home.show(view, { duration: duration() });
      announce(home.shown);
    }),
  );
  return new Control({ element: group });
}

function trackTiles(map, element, announce) {
  let loaded = 0;
  let failed = 0;
  for (const layer of map.getAllLayers()) {
    const source = layer.getSource();
    if (!source || typeof source.on !== 'function') continue;
    source.on('tileloadend', () => {
      loaded += 1;
      element.dataset.tilesLoaded = String(loaded);
    });
    source.on('tileloaderror', () => {
      failed += 1;
      element.dataset.tileErrors = String(failed);
      announce(TEXT.tileFailed);
    });
  }
}

async function start() {
  const element = document.getElementById('map');
  const status = document.getElementById('map-status');
  if (!element) return;
  const announce = (text) => {
    if (status) status.textContent = text;
  };
  element.dataset.state = 'loading';
  element.dataset.tilesLoaded = '0';
  element.dataset.tileErrors = '0';
  announce(TEXT.loading);

  // data-projection="EPSG:3006": SWEREF 99 TM from the OGC API – Tiles SWEREF99TM tiles, drawn by
  // the widget's renderer (mini-style.js), which takes any tile grid (shared/map-projection.js).
  const home = homePlace(element);
  const sweref = mapProjection(element.dataset.projection, OSTERMALM.center[1]);
  const projection = sweref ? sweref.projection : 'EPSG:3857';
  const view = new View({
    projection,
    ...(sweref ? { resolutions: sweref.resolutions } : {}),
    center: fromLonLat(OSTERMALM.center, projection),
    zoom: OSTERMALM.zoom,
    maxZoom: 20,
  });
  const map = new Map({
    target: element,
    view,
    controls: [
      new Attribution({ collapsible: false }),
      new ScaleLine(),
      placeControls(view, announce, home),
    ],
    // Keyboard pan/zoom listen on the map element itself, so they act only while it has focus
    // (WCAG 2.1.4). The viewer fills the window, so wheel zoom traps no page scroll.
    interactions: defaultInteractions(),
    keyboardEventTarget: element,
  });
  // Open on the municipality's whole extent (the map has its size once it has its target), so
  // no tile of Östermalm is asked for first.
  if (element.dataset.municipality && map.getSize()) home.show(view);
  try {
    if (sweref) {
      const styleUrl = new URL(element.dataset.styleUrl, document.baseURI).href;
      map.addLayer(await basemapLayer(styleUrl, { grid: sweref.tiles }));
    } else {
      await loadBasemap(map, element.dataset.styleUrl, {
        onRemoved: (removed) => console.warn('Ignored parts of the style from another host', removed),
      });
    }
  } catch (error) {
    element.dataset.state = 'error';
    announce(TEXT.failed);
    console.error(error);
    return;
  }
  // data-overlay: a layer's TileJSON drawn over the basemap (the admin preview), announced with
  // the page's own data-ready-text instead of the Östermalm message.
  if (element.dataset.overlay) {
    try {
      await addOverlay(map, element.dataset.overlay);
      element.dataset.overlayState = 'ready';
    } catch (error) {
      element.dataset.overlayState = 'error';
      console.error(error);
    }
  }
  // A municipality's external basemap (its settings), over webmap's own; when none of its tiles
  // load, it is removed again and webmap's basemap stays (shared/external-basemap.js).
  // data-external-basemap says which (loading | drawn | none).
  if (element.dataset.municipality) {
    element.dataset.externalBasemap = 'loading';
    addExternalBasemap(map, new URL('/', document.baseURI), element.dataset.municipality, {
      onError: (error) => console.warn('External basemap not drawn', error),
    }).then((layer) => {
      element.dataset.externalBasemap = layer ? 'drawn' : 'none';
    });
  }
  trackTiles(map, element, announce);
  // data-renders counts finished renders (all tiles loaded and drawn), data-zoom the view's zoom:
  // a test or a monitoring script can wait for "drawn after this action" without guessing time.
  let renders = 0;
  map.on('rendercomplete', () => {
    renders += 1;
    element.dataset.renders = String(renders);
    if (renders === 1) {
      element.dataset.state = 'ready';
      announce(element.dataset.readyText || home.ready);
    }
  });
  const showZoom = () => {
    element.dataset.zoom = String(Math.round((view.getZoom() ?? 0) * 100) / 100);
  };
  showZoom();
  map.on('moveend', showZoom);
  map.render();
}

start();
