/**
 * The picker's shadow DOM, built from its strings. Ids are local to the shadow root, so several
 * pickers on one page never collide. Text is set with textContent only (no HTML injection).
 */

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === true) node.setAttribute(key, '');
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function iconButton(part, label, glyph) {
  // The glyph is decoration; the accessible name is the label (also shown as a tooltip).
  return el('button', { type: 'button', class: 'tool', part: 'button', 'data-action': part, 'aria-label': label, title: label },
    el('span', { 'aria-hidden': 'true' }, glyph));
}

/**
 * Build the picker's DOM.
 * @param {object} t strings (i18n/*.js)
 * @param {string | null} label the question the picker answers (its `label` attribute)
 * @param {'point' | 'line' | 'polygon'} mode what the person marks
 * @returns {{root: HTMLElement, refs: Record<string, HTMLElement>}}
 */
export function buildPicker(t, label, mode = 'point') {
  const drawing = mode === 'line' || mode === 'polygon';
  const refs = {};
  const keep = (name, node) => {
    refs[name] = node;
    return node;
  };

  const search = keep('search', el('div', { class: 'search' },
    el('label', { for: 'q', class: 'label' }, t.searchLabel),
    el('p', { id: 'q-hint', class: 'hint' }, t.searchHint),
    el('div', { class: 'combo' },
      keep('input', el('input', { id: 'q', type: 'text', part: 'input', 'aria-describedby': 'q-hint error refusal', placeholder: t.searchPlaceholder, enterkeyhint: 'search' })),
      keep('listbox', el('ul', { id: 'results', class: 'results', part: 'listbox' }))),
    // The field's error sits under the field, where focus lands when the form reports it.
    keep('error', el('p', { id: 'error', class: 'error', part: 'error', hidden: true }))));

  const map = keep('map', el('div', {
    id: 'map', class: 'map', tabindex: '0', role: 'region', part: 'map',
    'aria-label': t.mapLabel, 'aria-describedby': 'map-hint refusal error',
  }));
  const mapArea = keep('mapArea', el('div', { class: 'map-area' },
    map,
    // The page's preview of the start view (preview.js), over the map until it has drawn.
    el('slot', { name: 'preview' }),
    keep('crosshair', el('div', { class: 'crosshair', 'aria-hidden': 'true' })),
    // Not aria-hidden: the touch hint is also spoken (element.js) and stays until closed.
    keep('gestureHint', el('div', { class: 'gesture-hint', part: 'gesture-hint', hidden: true },
      el('p', { class: 'text' }),
      el('button', { type: 'button', class: 'hint-close', 'data-action': 'hint-close', 'aria-label': t.gestureHintClose, title: t.gestureHintClose, hidden: true },
        el('span', { 'aria-hidden': 'true' }, '×')))),
    keep('mapStatus', el('p', { class: 'map-status', hidden: true }))));
  // Why the last choice was refused and what to do, shown beside the map (also spoken).
  const refusal = keep('refusal', el('p', { id: 'refusal', class: 'refusal', part: 'refusal', hidden: true }));

  // One tab stop for all the map's buttons (a toolbar: the arrow keys move between them, see
  // toolbar.js), so Tab goes from the map to "Välj denna plats" in one step. In line and area
  // mode the corner-editing buttons belong to it too.
  const tools = keep('tools', el('div', { class: 'tools', role: 'toolbar', 'aria-label': t.mapTools },
    iconButton('zoom-in', t.zoomIn, '+'),
    iconButton('zoom-out', t.zoomOut, '−'),
    iconButton('pan-north', t.panNorth, '↑'),
    iconButton('pan-south', t.panSouth, '↓'),
    iconButton('pan-west', t.panWest, '←'),
    iconButton('pan-east', t.panEast, '→'),
    keep('helpButton', el('button', { type: 'button', class: 'tool', part: 'button', 'data-action': 'help', 'aria-expanded': 'false', 'aria-controls': 'help', title: t.help },
      el('span', { 'aria-hidden': 'true' }, '?'), el('span', { class: 'visually-hidden' }, t.help))),
    ...(drawing
      ? [
        el('button', { type: 'button', class: 'secondary', part: 'button', 'data-action': 'remove-vertex' }, t.removeVertex),
        el('button', { type: 'button', class: 'secondary', part: 'button', 'data-action': 'undo' }, t.undo),
      ]
      : [])));

  const actions = keep('actions', drawing
    ? el('div', { class: 'actions' },
      keep('choose', el('button', { type: 'button', class: 'primary', part: 'choose', 'data-action': 'add-vertex', 'aria-describedby': 'refusal' }, t.addVertex)),
      keep('done', el('button', { type: 'button', class: 'primary', part: 'button', 'data-action': 'finish', 'aria-disabled': 'true', 'aria-describedby': 'refusal' }, t.finish(mode))),
      keep('locate', el('button', { type: 'button', class: 'secondary', part: 'button', 'data-action': 'locate', hidden: true }, t.locate)))
    : el('div', { class: 'actions' },
      keep('choose', el('button', { type: 'button', class: 'primary', part: 'choose', 'data-action': 'choose', 'aria-describedby': 'refusal' }, t.choose)),
      keep('locate', el('button', { type: 'button', class: 'secondary', part: 'button', 'data-action': 'locate' }, t.locate))));

  const help = keep('help', el('section', { id: 'help', class: 'help', 'aria-labelledby': 'help-title', hidden: true },
    el('h2', { id: 'help-title', class: 'help-title' }, t.helpTitle),
    el('dl', {}, ...[...t.helpKeys, ...(drawing ? t.helpKeysDraw : t.helpKeysPoint)].flatMap(([key, what]) => [el('dt', {}, key), el('dd', {}, what)])),
    el('button', { type: 'button', class: 'secondary', 'data-action': 'help-close' }, t.helpClose)));

  const chosen = el('div', { class: 'chosen', part: 'chosen' },
    el('p', { class: 'chosen-text' },
      el('strong', {}, `${t.chosenLabel}: `),
      keep('chosenText', el('span', { id: 'chosen-text' }, t.nothingChosen))),
    keep('chosenDetail', el('p', { class: 'chosen-detail', hidden: true })),
    // The credit the address data's licence asks for ("© Lantmäteriet (CC BY 4.0)").
    keep('chosenAttribution', el('p', { class: 'chosen-attribution', part: 'attribution', hidden: true })),
    keep('clear', el('button', { type: 'button', class: 'secondary', 'data-action': 'clear', hidden: true }, t.clear)));

  const root = el('div', { class: 'picker', part: 'picker', role: 'group', 'aria-label': label || t.pickerLabel },
    search,
    el('p', { id: 'map-hint', class: 'visually-hidden' }, drawing ? t.mapHintDraw : t.mapHint),
    mapArea,
    refusal,
    tools,
    actions,
    help,
    chosen,
    keep('live', el('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' })),
    // The author's fallback (label + text input), shown again only if the widget cannot work.
    keep('fallback', el('div', { class: 'fallback', hidden: true }, el('slot'))));
  return { root, refs };
}
