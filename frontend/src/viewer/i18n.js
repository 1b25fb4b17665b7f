/**
 * The viewer's strings, Swedish (the default) and English; the same keys in both
 * (test/i18n.test.js checks). Server-rendered pages take their words from gettext catalogues
 * (webmap/translations/); the bundles carry their own.
 */
export const TEXT_SV = {
  loading: 'Kartan laddas …',
  ready: 'Kartan visar Östermalm, Stockholm. Använd piltangenterna för att flytta och + eller − för att zooma när kartan har fokus.',
  failed: 'Kartan kunde inte laddas. Försök igen senare.',
  tileFailed: 'En del av kartan kunde inte laddas.',
  zoomIn: 'Zooma in',
  zoomOut: 'Zooma ut',
  sweden: 'Visa hela Sverige',
  ostermalm: 'Visa Östermalm',
  swedenShown: 'Kartan visar hela Sverige.',
  ostermalmShown: 'Kartan visar Östermalm, Stockholm.',
  // ?municipality=: the municipality takes Östermalm's place ({name}: its display name).
  placeReady: 'Kartan visar {name}. Använd piltangenterna för att flytta och + eller − för att zooma när kartan har fokus.',
  place: 'Visa {name}',
  placeShown: 'Kartan visar {name}.',
};

// English for pages in English (the admin preview at /admin/layers/<name>/preview?lang=en).
export const TEXT_EN = {
  loading: 'The map is loading …',
  ready: 'The map shows Östermalm, Stockholm. Use the arrow keys to move and + or − to zoom while the map has focus.',
  failed: 'The map could not be loaded. Try again later.',
  tileFailed: 'Part of the map could not be loaded.',
  zoomIn: 'Zoom in',
  zoomOut: 'Zoom out',
  sweden: 'Show all of Sweden',
  ostermalm: 'Show Östermalm',
  swedenShown: 'The map shows all of Sweden.',
  ostermalmShown: 'The map shows Östermalm, Stockholm.',
  placeReady: 'The map shows {name}. Use the arrow keys to move and + or − to zoom while the map has focus.',
  place: 'Show {name}',
  placeShown: 'The map shows {name}.',
};
