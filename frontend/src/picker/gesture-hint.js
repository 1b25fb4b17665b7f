/**
 * The cooperative-gesture hint over the map. The wheel's ("Håll ned Ctrl …") passes after `ms`;
 * the touch hint ("Använd två fingrar …") is spoken once, politely, and stays with a close button
 * until `dismiss()` (the button, or the first two-finger pan), and is not shown again after that.
 */
import { AMBIENT } from './announcer.js';

/**
 * @param {HTMLElement} element the hint (template.js: `.gesture-hint` with `.text` and a button)
 * @param {{t: object, announce: (text: string, priority: string) => void, ms?: number}} options
 */
export function createHint(element, { t, announce, ms = 1800 }) {
  const text = element.querySelector('.text');
  const close = element.querySelector('button');
  let timer = null;
  let dismissed = false;
  const hide = () => {
    clearTimeout(timer);
    element.hidden = true;
  };
  /** True when the hint has just appeared (so it is spoken once, not per touchmove). */
  function show(words, sticky) {
    if (sticky && dismissed) return false;
    const appeared = element.hidden || text.textContent !== words;
    if (!element.hidden && !close.hidden && !sticky) return false; // the sticky hint stays
    text.textContent = words;
    close.hidden = !sticky;
    element.hidden = false;
    clearTimeout(timer);
    if (!sticky) timer = setTimeout(hide, ms);
    return appeared;
  }
  return {
    /** A wheel without Ctrl, or a one-finger drag on the map (map-view.js). */
    gesture(kind) {
      if (kind === 'wheel') show(t.gestureHintWheel, false);
      else if (show(t.gestureHintTouch, true)) announce(t.gestureHintTouch, AMBIENT);
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
