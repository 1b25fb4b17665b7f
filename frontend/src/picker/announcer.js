/**
 * One live region per picker, two priorities, debounced.
 *
 * Why priorities: while someone pans with the arrow keys the map produces a stream of ambient
 * facts (zoom level, "zoom in to choose"); what they asked for (the place they chose, search
 * results, a refusal) must never be drowned by it. So:
 *   - `user` messages are spoken after a short delay (`userDelay`), replace anything pending and
 *     hold ambient messages back for `quietAfterUser` ms after they were spoken;
 *   - `ambient` messages are debounced (`ambientDelay`): only the last of a burst is spoken, and
 *     never while a user message is pending.
 * Identical consecutive text gets an invisible toggle so screen readers speak it again.
 * Timing functions are injectable, so tests run with fake timers (see test/announcer.test.js);
 * the DEFRA interactive-map announcer is the model, with priorities added.
 */

export const USER = 'user';
export const AMBIENT = 'ambient';

const DEFAULTS = { userDelay: 100, ambientDelay: 700, quietAfterUser: 2000 };

/**
 * @param {{textContent: string}} region the live region (role=status, aria-live=polite)
 * @param {{userDelay?: number, ambientDelay?: number, quietAfterUser?: number,
 *          setTimeout?: typeof setTimeout, clearTimeout?: typeof clearTimeout,
 *          now?: () => number}} [options]
 */
export function createAnnouncer(region, options = {}) {
  const config = { ...DEFAULTS, ...options };
  const later = options.setTimeout || ((fn, ms) => setTimeout(fn, ms));
  const cancel = options.clearTimeout || ((id) => clearTimeout(id));
  const now = options.now || (() => Date.now());
  let pending = null; // { text, priority }
  let timer = null;
  let lastText = '';
  let toggle = false;
  let userSpokenAt = -Infinity;

  function speak() {
    timer = null;
    if (!pending) return;
    const { text, priority } = pending;
    pending = null;
    if (priority === USER) userSpokenAt = now();
    // Same words again: add a zero-width marker so the region's text changes and is re-read.
    toggle = text === lastText ? !toggle : false;
    lastText = text;
    region.textContent = toggle ? `${text}\u200b` : text;
  }

  function schedule(delay) {
    if (timer !== null) cancel(timer);
    timer = later(speak, delay);
  }

  return {
    /**
     * Queue `text`; `priority` is USER (default) or AMBIENT.
     * @param {string} text
     * @param {'user' | 'ambient'} [priority]
     */
    announce(text, priority = USER) {
      if (!text) return;
      if (priority === AMBIENT) {
        if (pending && pending.priority === USER) return;
        const quietLeft = userSpokenAt + config.quietAfterUser - now();
        pending = { text, priority };
        schedule(Math.max(config.ambientDelay, quietLeft));
        return;
      }
      pending = { text, priority: USER };
      schedule(config.userDelay);
    },
    /** What is waiting to be spoken (for tests and debugging). */
    get pending() {
      return pending ? { ...pending } : null;
    },
    /** Forget anything pending and empty the region. */
    clear() {
      if (timer !== null) cancel(timer);
      timer = null;
      pending = null;
      lastText = '';
      region.textContent = '';
    },
    destroy() {
      if (timer !== null) cancel(timer);
      timer = null;
      pending = null;
    },
  };
}
