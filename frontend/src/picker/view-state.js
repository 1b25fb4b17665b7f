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
  const credits = value?.properties.attribution || [];
  if (refs.chosenAttribution) {
    refs.chosenAttribution.textContent = credits.length ? t.dataSource(credits.join(', ')) : '';
    refs.chosenAttribution.hidden = credits.length === 0;
  }
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
  if (!refs.refusal || !text) return;
  setWarning(refs.refusal, text);
  revealNearFocus(refs.refusal);
}

/**
 * Scroll (only if needed) so the message is in view and so is the control that has focus: the
 * message is placed beside the map and the buttons, so on a 360 × 740 phone both fit, and the
 * person reads why without hunting for it. Focus itself does not move.
 */
export function revealNearFocus(message) {
  // Next frame: a form's validation moves focus to the field after its `invalid` event.
  requestAnimationFrame(() => {
    if (message.hidden) return;
    const root = message.getRootNode();
    const focused = root.activeElement || document.activeElement;
    message.scrollIntoView({ block: 'nearest' });
    if (focused && focused !== document.body) focused.scrollIntoView({ block: 'nearest' });
  });
}

/**
 * The refusal beside the map as one object: shown and spoken (`say`), and which kind it is, so
 * the next success, or a zoom that makes "zoom in" moot, can clear it.
 */
export function createRefusal(refs, say) {
  return {
    kind: null,
    show(text, kind = 'other') {
      this.kind = kind;
      say(text);
      showRefusal(refs, text);
    },
    clear() {
      this.kind = null;
      hideRefusal(refs);
    },
  };
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
  revealNearFocus(error);
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
