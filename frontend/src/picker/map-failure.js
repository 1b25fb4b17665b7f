/**
 * When the map cannot be drawn (the style, TileJSON or every first tile unreachable, or no
 * canvas): say so where the map was, and give the person a way to answer at once.
 *
 * If the author gave a plain text field (the light-DOM fallback), it replaces the search at once,
 * not only after a search has failed too: with what was already typed in the search copied into
 * it, and with focus moved there when focus was in the picker (someone typing or on the map).
 * Focus is not taken from elsewhere on the page: a map failing while the person fills in another
 * field must not move them. Without a fallback field the search stays, and the message says so.
 */
import { setFallbackEnabled } from './view-state.js';

/** The author's text field inside the picker (light DOM), if any. */
function fallbackField(host) {
  return host.querySelector('input:not([type=hidden]):not([type=radio]):not([type=checkbox]), textarea');
}

/**
 * @param {HTMLElement} host the <webmap-picker>
 * @param {Record<string, HTMLElement>} refs its shadow DOM (template.js)
 * @param {object} t strings
 * @returns {string} what was shown, to be spoken
 */
export function showMapFailed(host, refs, t) {
  const focusInside = Boolean(host.shadowRoot.activeElement);
  refs.map.dataset.state = 'error';
  refs.mapArea.classList.add('failed');
  // The crosshair would sit on the message: it marks nothing without a map.
  refs.crosshair.hidden = true;
  refs.gestureHint.hidden = true;
  refs.tools.hidden = true;
  refs.actions.hidden = true;
  refs.help.hidden = true;
  refs.map.removeAttribute('tabindex');
  const field = fallbackField(host);
  const text = field ? t.mapFailedFallback : t.mapFailed;
  refs.mapStatus.textContent = text;
  refs.mapStatus.hidden = false;
  if (!field) return text;
  const typed = refs.input.value.trim();
  refs.search.hidden = true;
  setFallbackEnabled(host, refs, true);
  if (typed && !field.value) field.value = typed;
  if (focusInside) field.focus();
  return text;
}
