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

/** Show an error under the field and mark its controls invalid (announced via describedby). */
export function showError(refs, text) {
  const { error, input, map } = refs;
  if (!error || !text) return;
  error.textContent = text;
  error.hidden = false;
  input.setAttribute('aria-invalid', 'true');
  map.setAttribute('aria-invalid', 'true');
}

export function hideError(refs) {
  const { error, input, map } = refs;
  if (!error) return;
  error.textContent = '';
  error.hidden = true;
  input.removeAttribute('aria-invalid');
  map.removeAttribute('aria-invalid');
}
