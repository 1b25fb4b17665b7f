/**
 * The page's preview of the map (an `<img slot="preview">` inside <webmap-picker>, drawn by the
 * server from /api/staticmap, see docs/widget.md): a picture of the place at once, while this
 * script downloads and the map starts. It sits in the map's box, above the live map, and gives
 * way once the map has drawn its first tiles — faded out over 200 ms so the change is not a
 * flash, or at once when the person asks for reduced motion — and at once when the map fails
 * (the text fallback then takes the box). Until then it is hidden from assistive technology:
 * the map under it, already focusable and named, is what a screen reader should meet.
 */
import { prefersReducedMotion } from '../shared/geo.js';

const FADE_MS = 200;

/**
 * @param {HTMLElement} host the <webmap-picker>
 * @returns {{leave: (now?: boolean) => void}}
 */
export function takePreview(host) {
  const image = host.querySelector(':scope > [slot="preview"]');
  if (!image) return { leave() {} };
  image.setAttribute('aria-hidden', 'true');
  let gone = false;
  const remove = () => {
    gone = true;
    image.remove();
  };
  return {
    leave(now = false) {
      if (gone) return;
      if (now || prefersReducedMotion() || !image.complete) {
        remove();
        return;
      }
      image.addEventListener('transitionend', remove, { once: true });
      // transitionend never comes when the style was not applied (a page overriding it).
      setTimeout(remove, FADE_MS * 2);
      image.classList.add('leaving');
    },
  };
}
