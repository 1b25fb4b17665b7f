/**
 * Guards that keep a map style on our own server.
 *
 * Why: a citizen's browser must never be sent to another host (privacy, and e-services behind
 * strict CSPs). A MapLibre style can pull glyphs, sprites, tiles and web fonts from anywhere, so
 * before we hand a style to the renderer we list every URL it would reach and drop what is not
 * same-origin. Pure functions, unit-tested without a browser.
 */

/** Web-font template handed to ol-mapbox-style: a data: URL, so a text layer can never make it
 * fetch fonts from a CDN (its default); labels fall back to the system fonts. */
export const NO_WEBFONTS = 'data:text/css,';

/**
 * Every URL a style refers to, with where it was found.
 * @param {object} style MapLibre style document
 * @returns {{where: string, url: string}[]}
 */
export function styleUrls(style) {
  const found = [];
  if (typeof style.sprite === 'string') found.push({ where: 'sprite', url: style.sprite });
  if (Array.isArray(style.sprite)) {
    for (const entry of style.sprite) found.push({ where: `sprite ${entry.id}`, url: entry.url });
  }
  if (typeof style.glyphs === 'string') found.push({ where: 'glyphs', url: style.glyphs });
  const webfonts = style.metadata && style.metadata['ol:webfonts'];
  if (typeof webfonts === 'string') found.push({ where: 'ol:webfonts', url: webfonts });
  for (const [id, source] of Object.entries(style.sources || {})) {
    if (typeof source.url === 'string') found.push({ where: `source ${id}`, url: source.url });
    for (const tile of source.tiles || []) found.push({ where: `source ${id} tiles`, url: tile });
    if (typeof source.data === 'string') found.push({ where: `source ${id} data`, url: source.data });
  }
  return found;
}

/**
 * Whether a URL (absolute, or relative to `base`) stays on `base`'s origin. URL templates with
 * `{z}` placeholders are fine: the URL parser leaves braces in the path alone.
 * @param {string} url
 * @param {string} base absolute URL of the page or style
 */
export function isSameOrigin(url, base) {
  if (url.startsWith('data:')) return true;
  try {
    return new URL(url, base).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

/**
 * A copy of `style` without anything that would reach another host, and the list of what was
 * removed (so the caller can report it). Sources from elsewhere are dropped with the layers
 * that use them; foreign sprites and glyphs are dropped (symbols then draw without icons/text).
 * @param {object} style MapLibre style document
 * @param {string} base absolute URL the style was loaded from
 * @returns {{style: object, removed: {where: string, url: string}[]}}
 */
export function localOnlyStyle(style, base) {
  const removed = styleUrls(style).filter(({ url }) => !isSameOrigin(url, base));
  if (removed.length === 0) return { style, removed };
  const copy = structuredClone(style);
  const foreign = new Set(removed.map(({ url }) => url));
  if (typeof copy.sprite === 'string' && foreign.has(copy.sprite)) delete copy.sprite;
  if (Array.isArray(copy.sprite)) {
    copy.sprite = copy.sprite.filter((entry) => !foreign.has(entry.url));
    if (copy.sprite.length === 0) delete copy.sprite;
  }
  if (typeof copy.glyphs === 'string' && foreign.has(copy.glyphs)) {
    delete copy.glyphs;
    // Without glyphs a text layer cannot draw; keep icons, drop the text.
    for (const layer of copy.layers) {
      if (layer.layout) delete layer.layout['text-field'];
    }
  }
  if (copy.metadata && foreign.has(copy.metadata['ol:webfonts'])) {
    delete copy.metadata['ol:webfonts'];
  }
  const droppedSources = new Set();
  for (const [id, source] of Object.entries(copy.sources || {})) {
    const urls = [source.url, source.data, ...(source.tiles || [])].filter(
      (url) => typeof url === 'string',
    );
    if (urls.some((url) => foreign.has(url))) {
      droppedSources.add(id);
      delete copy.sources[id];
    }
  }
  copy.layers = copy.layers.filter((layer) => !droppedSources.has(layer.source));
  return { style: copy, removed };
}
