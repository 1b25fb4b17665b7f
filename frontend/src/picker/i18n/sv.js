/** Svenska: every string the picker shows or speaks (the default language). */

/** "Stockholms kommun", "Borås kommun", "Solna kommun" (no genitive s after a vowel or s, x, z). */
const municipality = (name) => `${name}${/[aeiouyåäösxz]$/iu.test(name) ? '' : 's'} kommun`;
const chooseIn = (allowed) => (allowed ? `Välj en plats i ${municipality(allowed)}.` : 'Välj en plats inom kommunen.');

/** Swedish numbers: decimal comma, a space between thousands ("59,33812", "6 580 822"). */
const decimals = new Intl.NumberFormat('sv-SE', { minimumFractionDigits: 5, maximumFractionDigits: 5 });
const whole = new Intl.NumberFormat('sv-SE', { maximumFractionDigits: 0 });

export default {
  lang: 'sv',
  pickerLabel: 'Välj plats',
  searchLabel: 'Sök adress eller fastighet',
  searchHint: 'Skriv minst två tecken. Välj bland förslagen med pil upp och ned och Enter.',
  // Both examples exist in the sample data (the property register there is invented);
  // an e-service with real data sets its own with the search-placeholder attribute.
  searchPlaceholder: 'T.ex. Karlavägen 10 eller Fiktiva Rosen 1',
  mapLabel: 'Karta för att välja plats',
  // The buttons' group: a name of its own, not the map's (two landmarks with one name confuse).
  mapTools: 'Kartknappar',
  mapHint:
    'Flytta kartan med piltangenterna, håll ned Skift för korta steg. Zooma med plus och minus. Tryck Enter eller knappen Välj denna plats för att välja platsen under hårkorset. Frågetecken visar hjälp.',
  choose: 'Välj denna plats',
  locate: 'Använd min position',
  zoomIn: 'Zooma in',
  zoomOut: 'Zooma ut',
  panNorth: 'Flytta kartan norrut',
  panSouth: 'Flytta kartan söderut',
  panWest: 'Flytta kartan västerut',
  panEast: 'Flytta kartan österut',
  help: 'Kortkommandon',
  helpTitle: 'Kortkommandon för kartan',
  helpClose: 'Stäng hjälpen',
  helpKeys: [
    ['Piltangenter', 'flytta kartan'],
    ['Skift + piltangent', 'flytta kartan en kort bit'],
    ['+ och −', 'zooma in och ut'],
    ['?', 'visa eller dölj den här hjälpen'],
    ['Esc', 'stäng hjälpen'],
  ],
  helpKeysPoint: [
    ['Enter', 'välj platsen under hårkorset'],
    ['Klick eller tryck på kartan', 'välj den platsen'],
  ],
  gestureHintWheel: 'Håll ned Ctrl och skrolla för att zooma kartan.',
  gestureHintTouch: 'Använd två fingrar för att flytta kartan.',
  gestureHintClose: 'Stäng tipset',
  chosenLabel: 'Vald plats',
  dataSource: (credits) => `Adressdata: ${credits}`,
  nothingChosen: 'Ingen plats vald ännu.',
  clear: 'Ta bort vald plats',
  coordinates: (e, n) => `SWEREF 99 TM: N ${whole.format(n)}, E ${whole.format(e)}`,
  // Invented sample designations say so wherever they are shown ("… (fiktiv)").
  property: (designation, fictional = false) =>
    `Fastighet ${designation}${fictional && !/\(fiktiv\)$/u.test(designation) ? ' (fiktiv)' : ''}`,
  near: (address) => `nära ${address}`,
  inMunicipality: (place, name) => `${place}, i ${municipality(name)}`,
  municipalityOnly: (name) => `I ${municipality(name)}`,
  fictionalNote: 'Fastighetsbeteckningen är påhittad (exempeldata).',
  atCrosshair: (place) => `Vid hårkorset: ${place}.`,
  noAddressIn: (name) => `ingen adress i närheten, i ${municipality(name)}`,
  noMunicipality: 'ingen adress och ingen svensk kommun här',
  zoomLevel: (zoom) => `Zoomnivå ${zoom}.`,
  looking: 'Hämtar adress och fastighet …',
  chosenPrefix: 'Vald plats:',
  pointOnly: (lon, lat) => `Punkt ${decimals.format(lat)} N, ${decimals.format(lon)} E`,
  refuseZoom: (min, now) => `Zooma in för att välja en plats: zooma till nivå ${min} (nu ${now}).`,
  // place: the municipality the place is in; allowed: the one that may be chosen (either may be null).
  refuseOutside: (place, allowed) =>
    `Platsen ligger utanför kommunen.${place ? ` Den ligger i ${municipality(place)}.` : ''} ${chooseIn(allowed)}`,
  refuseNoLand: (allowed) => `Platsen ligger inte i någon svensk kommun. ${chooseIn(allowed)}`,
  // fields="open-eplatform": the form asks for a property (Open ePlatform's property map query).
  refuseNoProperty: 'Här finns ingen fastighet. Välj en plats på en fastighet, eller sök på fastighetsbeteckningen.',
  refuseNoPropertyLookup: 'Fastigheten kunde inte hämtas. Försök igen, eller sök på fastighetsbeteckningen.',
  shapeMissing: (mode, missing) =>
    mode === 'polygon'
      ? `Ett område behöver minst 3 hörn. Lägg till ${missing === 1 ? 'ett hörn till' : `${missing} hörn till`}.`
      : `En linje behöver minst 2 punkter. Lägg till ${missing === 1 ? 'en punkt till' : `${missing} punkter till`}.`,
  lookupFailed: 'Adressen kunde inte hämtas. Platsen är vald med koordinater.',
  results: (count) =>
    count === 1 ? '1 förslag. Välj med pil ned och Enter.' : `${count} förslag. Välj med pil ned och Enter.`,
  noResults: 'Inga träffar. Prova en annan stavning eller en fastighetsbeteckning.',
  searchFailed: 'Sökningen fungerar inte just nu.',
  cleared: 'Den valda platsen är borttagen.',
  mapFailed: 'Kartan kunde inte laddas. Sök på adress eller fastighet i stället.',
  mapFailedFallback: 'Kartan kunde inte laddas. Skriv adress eller fastighetsbeteckning i fältet nedan i stället.',
  locating: 'Hämtar din position …',
  locateDenied: 'Din position kunde inte hämtas eftersom du inte har gett tillåtelse. Sök på adress i stället.',
  locateFailed: 'Din position kunde inte hämtas. Sök på adress i stället.',
  required: 'Välj en plats på kartan eller sök på en adress eller fastighet.',
  requiredShape: (mode) =>
    mode === 'polygon'
      ? 'Rita området på kartan och tryck Klar när området är ritat.'
      : 'Rita linjen på kartan och tryck Klar när linjen är ritad.',
  searchToDraw: (mode, place) =>
    mode === 'polygon'
      ? `Kartan visar nu ${place}. Rita området där: lägg till hörn och tryck Klar när området är ritat.`
      : `Kartan visar nu ${place}. Rita linjen där: lägg till punkter och tryck Klar när linjen är ritad.`,
  outsideInvalid: 'Den valda platsen ligger utanför kommunen. Välj en annan plats.',
  kinds: { street: 'Gata', address: 'Adress', property: 'Fastighet' },
  // municipality="2281": a search result in another municipality, and how many there are.
  resultOutside: (place, asked) =>
    place ? `I ${municipality(place)}, utanför ${municipality(asked)}` : `Utanför ${municipality(asked)}`,
  resultsOutside: (outside, total, asked) =>
    total === 1
      ? `Det ligger utanför ${municipality(asked)}.`
      : `${outside === total ? 'Alla' : `${outside} av dem`} ligger utanför ${municipality(asked)}.`,
  // Drawing lines and areas (mode="line" | "polygon").
  addVertex: 'Lägg till punkt här',
  removeVertex: 'Ta bort senaste punkten',
  undo: 'Ångra',
  finish: (mode) => (mode === 'polygon' ? 'Klar med området' : 'Klar med linjen'),
  mapHintDraw:
    'Flytta kartan med piltangenterna så att hårkorset hamnar där nästa punkt ska vara och tryck Enter. Delete tar bort senaste punkten, Ctrl+Z ångrar. Page Down och Page Up väljer en punkt som sedan flyttas med piltangenterna; Esc släpper den. Välj Klar när formen är färdig.',
  helpKeysDraw: [
    ['Enter', 'lägg till en punkt vid hårkorset'],
    ['Klick eller tryck på kartan', 'lägg till en punkt där'],
    ['Delete', 'ta bort den valda punkten, annars den senaste'],
    ['Ctrl + Z', 'ångra senaste ändringen'],
    ['Page Down och Page Up (eller ] och [)', 'välj nästa eller föregående punkt'],
    ['Piltangenter när en punkt är vald', 'flytta punkten (Skift: korta steg)'],
    ['Esc eller Enter', 'släpp den valda punkten, piltangenterna flyttar kartan igen'],
  ],
  vertexSelected: (n, total) => `Punkt ${n} av ${total} vald. Piltangenterna flyttar punkten, Esc släpper den.`,
  vertexMoved: (n, metres, direction) =>
    `Punkt ${n} flyttad ${metres} m ${{ north: 'norrut', south: 'söderut', east: 'österut', west: 'västerut' }[direction]}.`,
  vertexReleased: (n) => `Punkt ${n} släppt. Piltangenterna flyttar kartan.`,
  vertexDeleted: (n) => `Punkt ${n} borttagen.`,
  noVertexToSelect: 'Det finns ingen punkt att välja. Lägg till en med Enter.',
  vertexAdded: (n) => `Punkt ${n} tillagd.`,
  vertexRemoved: 'Senaste punkten borttagen.',
  undone: 'Ångrat.',
  vertexRepeat: 'Det finns redan en punkt här. Flytta kartan först.',
  nothingToRemove: 'Det finns ingen punkt att ta bort.',
  nothingToUndo: 'Det finns inget att ångra.',
  vertexCount: (mode, n) =>
    mode === 'polygon' ? `Området har ${n} hörn.` : `Linjen har ${n} ${n === 1 ? 'punkt' : 'punkter'}.`,
  shapeReady: (mode) => (mode === 'polygon' ? 'Området kan väljas med Klar.' : 'Linjen kan väljas med Klar.'),
  shapeProblem: (mode, problem) =>
    ({
      tooFew: mode === 'polygon' ? 'Ett område behöver minst 3 hörn.' : 'En linje behöver minst 2 punkter.',
      crosses: 'Kanterna korsar varandra. Ta bort eller ångra en punkt.',
      noArea: 'Området har ingen yta.',
    })[problem],
  shapeLabel: (mode, measure) =>
    mode === 'polygon'
      ? `Område på cirka ${new Intl.NumberFormat('sv-SE').format(Math.round(measure))} m²`
      : `Sträcka på cirka ${new Intl.NumberFormat('sv-SE').format(Math.round(measure))} m`,
  shapeAt: (shape, place) => (place ? `${shape}, vid ${place}` : shape),
};
