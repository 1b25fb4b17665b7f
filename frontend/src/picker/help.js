/**
 * The keyboard help panel ("Kortkommandon"): opened by "?" on the map or its button, closed by
 * its own button, Esc or "?" again. Focus goes into the panel when it opens and back to the map
 * when it closes, so a keyboard user is never left on a button that vanished.
 */

/** @param {{help: HTMLElement, helpButton: HTMLElement, map: HTMLElement}} refs */
export function createHelp({ help, helpButton, map }) {
  /** Open (`true`), close (`false`) or toggle (no argument). */
  function toggle(show) {
    const open = show === undefined ? help.hidden : show;
    if (open === !help.hidden) return;
    help.hidden = !open;
    helpButton.setAttribute('aria-expanded', String(open));
    if (open) help.querySelector('button')?.focus();
    else map.focus();
  }
  help.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') toggle(false);
  });
  return { toggle };
}
