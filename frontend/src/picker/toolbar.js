/**
 * The map's buttons as one WAI-ARIA toolbar: a single tab stop, the arrow keys move between the
 * buttons (Home and End go to the ends), and the last button used keeps the tab stop. Why: seven
 * to nine buttons in the tab order put the next form field 10+ Tab presses after the map; as a
 * toolbar it is one, and pointer users lose nothing (every button stays visible and clickable).
 */

const NEXT = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

/** @param {HTMLElement} group the element with role="toolbar" */
export function createToolbar(group) {
  const buttons = () => [...group.querySelectorAll('button')].filter((b) => !b.hidden && !b.disabled);

  function stopAt(target) {
    for (const button of group.querySelectorAll('button')) button.tabIndex = button === target ? 0 : -1;
  }

  group.addEventListener('keydown', (event) => {
    const list = buttons();
    const at = list.indexOf(event.target);
    if (at < 0 || event.altKey || event.ctrlKey || event.metaKey) return;
    let to = null;
    if (event.key in NEXT) to = (at + NEXT[event.key] + list.length) % list.length;
    else if (event.key === 'Home') to = 0;
    else if (event.key === 'End') to = list.length - 1;
    if (to === null) return;
    event.preventDefault();
    stopAt(list[to]);
    list[to].focus();
  });
  // A clicked button (or one reached otherwise) becomes the group's tab stop.
  group.addEventListener('focusin', (event) => {
    if (event.target.closest?.('button')) stopAt(event.target);
  });
  stopAt(buttons()[0]);
}

/**
 * Run `actions[name]` when a button with `data-action="name"` inside `root` is clicked (one
 * listener for every button of the picker, toolbar or not).
 */
export function onAction(root, actions) {
  root.addEventListener('click', (event) => {
    const button = event.target.closest?.('[data-action]');
    if (button && actions[button.dataset.action]) actions[button.dataset.action]();
  });
}
