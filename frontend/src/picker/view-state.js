/**
 * What the picker shows as text: the chosen place beside the map, and the field's error.
 * Kept apart from the element so the element stays about behaviour, not markup.
 */

/**
 * The chosen place in words, its SWEREF 99 TM coordinates and a note when the property
 * designation is sample data; "nothing chosen" otherwise.
 */
export function renderChosen(refs, value, t) {
  const { chosenText, chosenDetail, clear } = refs;
  if (!chosenText) return;
  chosenText.textContent = value ? value.properties.label : t.nothingChosen;
  clear.hidden = !value;
  const details = [];
  const sweref = value?.properties.sweref99tm;
  if (sweref) details.push(t.coordinates(Math.round(sweref.e), Math.round(sweref.n)));
  if (value?.properties.property?.fictional) details.push(t.fictionalNote);
  chosenDetail.textContent = details.join(' ');
  chosenDetail.hidden = details.length === 0;
}

/** A message with a warning glyph that screen readers skip (the words say it all). */
function setWarning(element, text) {
  const glyph = document.createElement('span');
  glyph.setAttribute('aria-hidden', 'true');
  glyph.className = 'glyph';
  glyph.textContent = '⚠ ';
  const words = document.createElement('span');
  words.className = 'text';
  words.textContent = text;
  element.replaceChildren(glyph, words);
  element.hidden = false;
}

/**
 * Show why a choice was refused and what to do, beside the map (the map and the choose button
 * point at it with aria-describedby). Not a field error: the controls are not marked invalid.
 */
export function showRefusal(refs, text) {
  if (refs.refusal && text) setWarning(refs.refusal, text);
}

export function hideRefusal(refs) {
  if (!refs.refusal) return;
  refs.refusal.replaceChildren();
  refs.refusal.hidden = true;
}

/** Show an error under the field and mark its controls invalid (announced via describedby). */
export function showError(refs, text) {
  const { error, input, map } = refs;
  if (!error || !text) return;
  setWarning(error, text);
  input.setAttribute('aria-invalid', 'true');
  map.setAttribute('aria-invalid', 'true');
}

export function hideError(refs) {
  const { error, input, map } = refs;
  if (!error) return;
  error.replaceChildren();
  error.hidden = true;
  input.removeAttribute('aria-invalid');
  map.removeAttribute('aria-invalid');
}

/** The map could not load: hide everything that needs it and say what still works. */
export function showMapFailed(refs, t) {
  refs.map.dataset.state = 'error';
  refs.mapArea.classList.add('failed');
  refs.tools.hidden = true;
  refs.actions.hidden = true;
  refs.map.removeAttribute('tabindex');
  refs.mapStatus.textContent = t.mapFailed;
  refs.mapStatus.hidden = false;
}

/**
 * Show (and enable) or hide (and disable) the author's fallback fields in the light DOM. Fields
 * the author had disabled stay disabled; only the ones we disabled are enabled again.
 */
export function setFallbackEnabled(host, refs, on) {
  refs.fallback.hidden = !on;
  for (const field of host.querySelectorAll('input, select, textarea')) {
    if (on) {
      if (field.dataset.webmapDisabled) field.disabled = false;
      delete field.dataset.webmapDisabled;
    } else if (!field.disabled) {
      field.dataset.webmapDisabled = 'true';
      field.disabled = true;
    }
  }
}

/** Disable or enable every control of the picker, the map's tab stop included. */
export function setControlsDisabled(root, refs, disabled, mapOk) {
  for (const control of root.querySelectorAll('button, input')) control.disabled = disabled;
  if (!refs.map) return;
  if (disabled) refs.map.removeAttribute('tabindex');
  else if (mapOk) refs.map.setAttribute('tabindex', '0');
}

/**
 * A hint over the map (cooperative gestures). A passing one (the wheel's) hides itself after
 * `ms`; a sticky one (the touch hint) stays, with a close button, until `dismiss()` (the button,
 * or the first two-finger pan), and is not shown again after that.
 * `show` returns true when the hint has just appeared (so it is spoken once, not per touchmove).
 */
export function createHint(element, ms = 1800) {
  const text = element.querySelector('.text');
  const close = element.querySelector('button');
  let timer = null;
  let dismissed = false;
  const hide = () => {
    clearTimeout(timer);
    element.hidden = true;
  };
  return {
    show(words, { sticky = false } = {}) {
      if (sticky && dismissed) return false;
      const appeared = element.hidden || text.textContent !== words;
      if (!element.hidden && !close.hidden && !sticky) return false; // the sticky hint stays
      text.textContent = words;
      close.hidden = !sticky;
      element.hidden = false;
      clearTimeout(timer);
      if (!sticky) timer = setTimeout(hide, ms);
      return appeared;
    },
    dismiss() {
      dismissed = true;
      if (!close.hidden) hide();
    },
    get showing() {
      return !element.hidden;
    },
  };
}
