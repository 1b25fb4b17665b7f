const chooseIn = (allowed) =>
  allowed ? `Choose a place in ${allowed} municipality.` : 'Choose a place inside the municipality.';

/** English: the same keys as sv.js (a test checks that no key is missing). */
export default {
  lang: 'en',
  pickerLabel: 'Choose a place',
  searchLabel: 'Search for an address or property',
  searchHint: 'Type at least two characters. Pick a suggestion with the up and down arrows and Enter.',
  searchPlaceholder: 'E.g. Karlavägen 10 or Fiktiva Rosen 1',
  mapLabel: 'Map for choosing a place',
  mapTools: 'Map buttons',
  mapHint:
    'Move the map with the arrow keys, hold Shift for small steps. Zoom with plus and minus. Press Enter or the Choose this place button to choose the place under the crosshair. Question mark shows help.',
  choose: 'Choose this place',
  locate: 'Use my location',
  zoomIn: 'Zoom in',
  zoomOut: 'Zoom out',
  panNorth: 'Move the map north',
  panSouth: 'Move the map south',
  panWest: 'Move the map west',
  panEast: 'Move the map east',
  help: 'Keyboard shortcuts',
  helpTitle: 'Keyboard shortcuts for the map',
  helpClose: 'Close help',
  helpKeys: [
    ['Arrow keys', 'move the map'],
    ['Shift + arrow key', 'move the map a small step'],
    ['+ and −', 'zoom in and out'],
    ['?', 'show or hide this help'],
    ['Esc', 'close the help'],
  ],
  helpKeysPoint: [
    ['Enter', 'choose the place under the crosshair'],
    ['Click or tap on the map', 'choose that place'],
  ],
  gestureHintWheel: 'Hold Ctrl and scroll to zoom the map.',
  gestureHintTouch: 'Use two fingers to move the map.',
  gestureHintClose: 'Close the tip',
  chosenLabel: 'Chosen place',
  dataSource: (credits) => `Address data: ${credits}`,
  nothingChosen: 'No place chosen yet.',
  clear: 'Remove chosen place',
  coordinates: (e, n) => `SWEREF 99 TM: N ${n}, E ${e}`,
  property: (designation, fictional = false) =>
    `Property ${designation}${fictional && !/\((fiktiv|fictional)\)$/u.test(designation) ? ' (fictional)' : ''}`,
  near: (address) => `near ${address}`,
  inMunicipality: (place, name) => `${place}, in ${name} municipality`,
  municipalityOnly: (name) => `In ${name} municipality`,
  fictionalNote: 'The property designation is made up (sample data).',
  atCrosshair: (place) => `At the crosshair: ${place}.`,
  noAddressIn: (name) => `no address nearby, in ${name} municipality`,
  noMunicipality: 'no address and no Swedish municipality here',
  zoomLevel: (zoom) => `Zoom level ${zoom}.`,
  looking: 'Looking up address and property …',
  chosenPrefix: 'Chosen place:',
  pointOnly: (lon, lat) => `Point ${lat.toFixed(5)} N, ${lon.toFixed(5)} E`,
  refuseZoom: (min, now) => `Zoom in to choose a place: zoom to level ${min} (now ${now}).`,
  // place: the municipality the place is in; allowed: the one that may be chosen (either may be null).
  refuseOutside: (place, allowed) =>
    `The place is outside the municipality.${place ? ` It is in ${place} municipality.` : ''} ${chooseIn(allowed)}`,
  refuseNoLand: (allowed) => `The place is not in any Swedish municipality. ${chooseIn(allowed)}`,
  // fields="open-eplatform": the form asks for a property (Open ePlatform's property map query).
  refuseNoProperty: 'There is no property here. Choose a place on a property, or search for its designation.',
  refuseNoPropertyLookup: 'The property could not be looked up. Try again, or search for its designation.',
  shapeMissing: (mode, missing) =>
    mode === 'polygon'
      ? `An area needs at least 3 corners. Add ${missing === 1 ? 'one more corner' : `${missing} more corners`}.`
      : `A line needs at least 2 points. Add ${missing === 1 ? 'one more point' : `${missing} more points`}.`,
  lookupFailed: 'The address could not be looked up. The place is chosen by its coordinates.',
  results: (count) =>
    count === 1 ? '1 suggestion. Pick with down arrow and Enter.' : `${count} suggestions. Pick with down arrow and Enter.`,
  noResults: 'No matches. Try another spelling or a property designation.',
  searchFailed: 'Search is not working right now.',
  cleared: 'The chosen place was removed.',
  mapFailed: 'The map could not be loaded. Search for an address or property instead.',
  mapFailedFallback: 'The map could not be loaded. Type the address or property designation in the field below instead.',
  locating: 'Finding your location …',
  locateDenied: 'Your location could not be found because you did not give permission. Search for an address instead.',
  locateFailed: 'Your location could not be found. Search for an address instead.',
  required: 'Choose a place on the map or search for an address or property.',
  requiredShape: (mode) =>
    mode === 'polygon'
      ? 'Draw the area on the map and press Done when the area is drawn.'
      : 'Draw the line on the map and press Done when the line is drawn.',
  searchToDraw: (mode, place) =>
    mode === 'polygon'
      ? `The map now shows ${place}. Draw the area there: add corners and press Done when the area is drawn.`
      : `The map now shows ${place}. Draw the line there: add points and press Done when the line is drawn.`,
  outsideInvalid: 'The chosen place is outside the municipality. Choose another place.',
  kinds: { street: 'Street', address: 'Address', property: 'Property' },
  // municipality="2281": a search result in another municipality, and how many there are.
  resultOutside: (place, asked) =>
    place ? `In ${place} municipality, outside ${asked} municipality` : `Outside ${asked} municipality`,
  resultsOutside: (outside, total, asked) =>
    total === 1
      ? `It is outside ${asked} municipality.`
      : `${outside === total ? 'All' : `${outside} of them`} ${outside === 1 ? 'is' : 'are'} outside ${asked} municipality.`,
  // Drawing lines and areas (mode="line" | "polygon").
  addVertex: 'Add point here',
  removeVertex: 'Remove last point',
  undo: 'Undo',
  finish: (mode) => (mode === 'polygon' ? 'Done with the area' : 'Done with the line'),
  mapHintDraw:
    'Move the map with the arrow keys so the crosshair is where the next point goes and press Enter. Delete removes the last point, Ctrl+Z undoes. Page Down and Page Up select a point, which the arrow keys then move; Esc releases it. Choose Done when the shape is finished.',
  helpKeysDraw: [
    ['Enter', 'add a point at the crosshair'],
    ['Click or tap on the map', 'add a point there'],
    ['Delete', 'remove the selected point, otherwise the last one'],
    ['Ctrl + Z', 'undo the last change'],
    ['Page Down and Page Up (or ] and [)', 'select the next or previous point'],
    ['Arrow keys while a point is selected', 'move the point (Shift: small steps)'],
    ['Esc or Enter', 'release the selected point, the arrow keys move the map again'],
  ],
  vertexSelected: (n, total) => `Point ${n} of ${total} selected. The arrow keys move the point, Esc releases it.`,
  vertexMoved: (n, metres, direction) => `Point ${n} moved ${metres} m ${direction}.`,
  vertexReleased: (n) => `Point ${n} released. The arrow keys move the map.`,
  vertexDeleted: (n) => `Point ${n} removed.`,
  noVertexToSelect: 'There is no point to select. Add one with Enter.',
  vertexAdded: (n) => `Point ${n} added.`,
  vertexRemoved: 'Last point removed.',
  undone: 'Undone.',
  vertexRepeat: 'There is already a point here. Move the map first.',
  nothingToRemove: 'There is no point to remove.',
  nothingToUndo: 'There is nothing to undo.',
  vertexCount: (mode, n) =>
    mode === 'polygon'
      ? `The area has ${n} ${n === 1 ? 'corner' : 'corners'}.`
      : `The line has ${n} ${n === 1 ? 'point' : 'points'}.`,
  shapeReady: (mode) => (mode === 'polygon' ? 'The area can be chosen with Done.' : 'The line can be chosen with Done.'),
  shapeProblem: (mode, problem) =>
    ({
      tooFew: mode === 'polygon' ? 'An area needs at least 3 corners.' : 'A line needs at least 2 points.',
      crosses: 'The edges cross each other. Remove or undo a point.',
      noArea: 'The area has no size.',
    })[problem],
  shapeLabel: (mode, measure) =>
    mode === 'polygon'
      ? `Area of about ${new Intl.NumberFormat('en-GB').format(Math.round(measure))} m²`
      : `Distance of about ${new Intl.NumberFormat('en-GB').format(Math.round(measure))} m`,
  shapeAt: (shape, place) => (place ? `${shape}, at ${place}` : shape),
};
