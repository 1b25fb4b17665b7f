/**
 * The search combobox (WAI-ARIA 1.2 "combobox with listbox popup", list autocomplete).
 *
 * Focus stays in the input; the highlighted option is announced through
 * `aria-activedescendant`. ↓/↑ move through the options, Enter picks, Esc closes the list and
 * a second Esc clears the text. The number of results is spoken through the picker's announcer.
 * It is a full alternative to the map: a person can complete the field with search alone.
 */
import { normaliseQuery } from './api.js';

const DEBOUNCE_MS = 250;
const MIN_LENGTH = 2;

/**
 * @param {{input: HTMLInputElement, listbox: HTMLElement, t: object,
 *   search: (q: string, signal: AbortSignal) => Promise<object[]>,
 *   onPick: (feature: object) => void, announce: (text: string) => void,
 *   onError?: (error: Error) => void, setTimeout?: typeof setTimeout,
 *   clearTimeout?: typeof clearTimeout, mark?: (feature: object) => string | null,
 *   summary?: (results: object[]) => string}} options `mark`: words shown (and read) in a
 *   result's option, e.g. that it is in another municipality; `summary`: said after the count
 */
export function createSearch(options) {
  const { input, listbox, t } = options;
  const later = options.setTimeout || ((fn, ms) => setTimeout(fn, ms));
  const cancel = options.clearTimeout || ((id) => clearTimeout(id));
  let results = [];
  let active = -1;
  let timer = null;
  let controller = null;
  let lastQuery = '';

  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', listbox.id);
  input.setAttribute('autocomplete', 'off');
  input.setAttribute('spellcheck', 'false');
  listbox.setAttribute('role', 'listbox');
  listbox.setAttribute('aria-label', t.searchLabel);
  listbox.hidden = true;

  function optionId(index) {
    return `${listbox.id}-${index}`;
  }

  function setActive(index) {
    active = index;
    listbox.querySelectorAll('[role="option"]').forEach((option, i) => {
      option.setAttribute('aria-selected', String(i === index));
    });
    if (index >= 0) {
      input.setAttribute('aria-activedescendant', optionId(index));
      listbox.querySelector(`#${CSS.escape(optionId(index))}`)?.scrollIntoView?.({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function open(show) {
    listbox.hidden = !show;
    input.setAttribute('aria-expanded', String(show));
    if (!show) setActive(-1);
  }

  function render() {
    listbox.replaceChildren(
      ...results.map((feature, index) => {
        const p = feature.properties || {};
        const option = document.createElement('li');
        option.id = optionId(index);
        option.setAttribute('role', 'option');
        option.setAttribute('aria-selected', 'false');
        const label = document.createElement('span');
        label.className = 'option-label';
        label.textContent = p.label || '';
        const detail = document.createElement('span');
        detail.className = 'option-detail';
        detail.textContent = [t.kinds[p.kind], p.municipality].filter(Boolean).join(' · ');
        option.append(label, detail);
        // Outside the municipality the search is biased to: said in the option's own words.
        const mark = options.mark?.(feature);
        if (mark) {
          const note = document.createElement('span');
          note.className = 'option-mark';
          note.textContent = mark;
          option.append(note);
        }
        // mousedown would move focus out of the input and close the list before the click.
        option.addEventListener('mousedown', (event) => event.preventDefault());
        option.addEventListener('click', () => pick(index));
        return option;
      }),
    );
    open(results.length > 0);
  }

  function pick(index) {
    const feature = results[index];
    if (!feature) return;
    input.value = feature.properties?.label || input.value;
    lastQuery = normaliseQuery(input.value);
    open(false);
    options.onPick(feature);
  }

  async function run(query) {
    controller?.abort();
    controller = new AbortController();
    try {
      results = await options.search(query, controller.signal);
    } catch (error) {
      if (error.name === 'AbortError') return;
      results = [];
      render();
      options.announce(t.searchFailed);
      options.onError?.(error);
      return;
    }
    render();
    const extra = results.length ? options.summary?.(results) : '';
    options.announce(results.length ? `${t.results(results.length)}${extra ? ` ${extra}` : ''}` : t.noResults);
  }

  function onInput() {
    const query = normaliseQuery(input.value);
    if (timer !== null) cancel(timer);
    if (query.length < MIN_LENGTH) {
      controller?.abort();
      results = [];
      render();
      return;
    }
    if (query === lastQuery && results.length) return;
    timer = later(() => {
      timer = null;
      lastQuery = query;
      run(query);
    }, DEBOUNCE_MS);
  }

  function onKeyDown(event) {
    const expanded = !listbox.hidden;
    switch (event.key) {
      case 'ArrowDown':
        if (!results.length) return;
        event.preventDefault();
        if (!expanded) open(true);
        setActive(active + 1 >= results.length ? 0 : active + 1);
        break;
      case 'ArrowUp':
        if (!results.length) return;
        event.preventDefault();
        if (!expanded) open(true);
        setActive(active <= 0 ? results.length - 1 : active - 1);
        break;
      case 'Enter':
        // Never submit the form from the search box: Enter picks (the first result by default).
        if (expanded && results.length) {
          event.preventDefault();
          pick(active >= 0 ? active : 0);
        } else if (input.value.trim()) {
          event.preventDefault();
        }
        break;
      case 'Escape':
        if (expanded) {
          event.preventDefault();
          open(false);
        } else if (input.value) {
          event.preventDefault();
          input.value = '';
          results = [];
          lastQuery = '';
        }
        break;
      default:
    }
  }

  function onBlur() {
    open(false);
  }

  input.addEventListener('input', onInput);
  input.addEventListener('keydown', onKeyDown);
  input.addEventListener('blur', onBlur);

  return {
    clear() {
      input.value = '';
      results = [];
      lastQuery = '';
      render();
    },
    destroy() {
      if (timer !== null) cancel(timer);
      controller?.abort();
      input.removeEventListener('input', onInput);
      input.removeEventListener('keydown', onKeyDown);
      input.removeEventListener('blur', onBlur);
    },
  };
}
