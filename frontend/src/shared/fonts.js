/**
 * The map labels' font, Noto Sans, loaded from our own server for canvas text.
 *
 * Why: the MapLibre style's glyphs are made from Noto Sans (tiles/glyphs.py), so the OpenLayers
 * maps draw the same letters — å, ä, ö and the Sámi Ŋ, Đ, Ŧ, Ʒ, Ǯ … — instead of whatever the
 * phone has. The faces are added with the FontFace API rather than CSS @font-face because the
 * picker lives in a shadow root, where @font-face does not apply, and on e-services' pages,
 * whose style sheets we do not control. Canvas text only uses a face that has finished loading,
 * so callers wait for `loadMapFonts` before drawing labels.
 */

/** Noto Sans subsets as @fontsource splits them: file stem and unicode-range. */
const SUBSETS = [
  [
    'latin',
    'U+0000-00FF, U+0131, U+0152-0153, U+02BB-02BC, U+02C6, U+02DA, U+02DC, U+0304, U+0308, U+0329, U+2000-206F, U+20AC, U+2122, U+2191, U+2193, U+2212, U+2215, U+FEFF, U+FFFD',
  ],
  [
    'latin-ext',
    'U+0100-02BA, U+02BD-02C5, U+02C7-02CC, U+02CE-02D7, U+02DD-02FF, U+0304, U+0308, U+0329, U+1D00-1DBF, U+1E00-1E9F, U+1EF2-1EFF, U+2020, U+20A0-20AB, U+20AD-20C0, U+2113, U+2C60-2C7F, U+A720-A7FF',
  ],
];
const WEIGHTS = ['400', '700'];
export const FAMILY = 'Noto Sans';

let faces = null;
let basic = null;
let rest = null;

function load(list, what) {
  return Promise.all(list.map((face) => face.load())).then(
    () => true,
    (error) => {
      console.warn(`webmap: the label font (${what}) did not load; using the system font`, error);
      return false;
    },
  );
}

function addFaces(styleUrl) {
  if (typeof FontFace !== 'function' || typeof document === 'undefined' || !document.fonts) return null;
  const added = [];
  for (const [subset, unicodeRange] of SUBSETS) {
    for (const weight of WEIGHTS) {
      const url = new URL(`../fonts/noto-sans-${subset}-${weight}-normal.woff2`, styleUrl).href;
      const face = new FontFace(FAMILY, `url("${url}") format("woff2")`, { weight, unicodeRange });
      document.fonts.add(face);
      added.push({ subset, weight, face });
    }
  }
  return added;
}

/**
 * Add the four Noto Sans faces (latin and latin-ext, regular and bold) from the server of
 * `styleUrl` (`…/styles/x.json` → `…/fonts/<file>.woff2`) and load the one most labels need:
 * latin regular (13 KB, every Swedish street name). Resolves when it is ready, or when loading
 * failed (e.g. a page's CSP forbids our fonts): labels then use the fallback font rather than
 * not appearing at all. Call `loadMoreFonts` once the first labels are drawn. Once per page.
 * @param {string} styleUrl absolute URL of a style on our server
 * @returns {Promise<boolean>} whether Noto Sans is in use
 */
export function loadMapFonts(styleUrl) {
  if (basic) return basic;
  faces = addFaces(styleUrl);
  basic = faces
    ? load(faces.filter((f) => f.subset === 'latin' && f.weight === '400').map((f) => f.face), 'latin')
    : Promise.resolve(false);
  return basic;
}

/**
 * Load the other faces (bold, and latin-ext: Sámi and other letters, 115 KB) — after the first
 * tiles and labels, so on a slow phone network they do not hold those up. Resolves true when
 * they are there, so the map can draw those names again in Noto Sans.
 * @returns {Promise<boolean>}
 */
export function loadMoreFonts() {
  if (rest) return rest;
  rest = faces
    ? load(faces.filter((f) => !(f.subset === 'latin' && f.weight === '400')).map((f) => f.face), 'bold, latin-ext')
    : Promise.resolve(false);
  return rest;
}

/**
 * A CSS font for canvas text from a MapLibre `text-font` list (`["Noto Sans Bold"]`) and size.
 * @param {string[]|undefined} textFont
 * @param {number} size px
 */
export function olFont(textFont, size) {
  const name = (textFont && textFont[0]) || '';
  const weight = /bold/i.test(name) ? 700 : 400;
  return `${weight} ${Math.round(size * 10) / 10}px "${FAMILY}", sans-serif`;
}
