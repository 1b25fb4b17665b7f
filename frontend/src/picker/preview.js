/**
 * The page's preview of the map (an `<img slot="preview">` inside <webmap-picker>, drawn by the
 * server from /api/staticmap, see docs/widget.md): a picture of the place at once, while this
 * script downloads and the map starts. It sits in the map's box, above the live map, and gives
 * way once the map has drawn its first tiles — faded out over 200 ms so the change is not a
 * flash, or at once when the person asks for reduced motion — and at once when the map fails
 * (the text fallback then takes the box). Until then it is hidden from assistive technology:
 * the map under it, already focusable and named, is what a screen reader should meet.
 *
 * The preview is an `<img>` or a `<picture>` (a narrower picture for phone-width pages, chosen
 * by a media source); the slot's styles reach only the slotted element, so a picture's `<img>`
 * is given its place here (filling the box, at its own scale, centred like the map).
 */
import { prefersReducedMotion } from '../shared/geo.js';

const FADE_MS = 200;
const PICTURE_IMAGE = {
  display: 'block', width: '100%', height: '100%', 'max-width': 'none', 'max-height': 'none',
  margin: '0', padding: '0', border: '0', 'object-fit': 'none', 'object-position': 'center',
};

/**
 * @param {HTMLElement} host the <webmap-picker>
 * @returns {{leave: (now?: boolean) => void}}
 */
export function takePreview(host) {
  const image = host.querySelector(':scope > [slot="preview"]');
  if (!image) return { leave() {} };
  image.setAttribute('aria-hidden', 'true');
  const img = image.localName === 'picture' ? image.querySelector('img') : image;
  if (img && img !== image) {
    for (const [property, value] of Object.entries(PICTURE_IMAGE)) img.style.setProperty(property, value, 'important');
  }
  let gone = false;
  const remove = () => {
    gone = true;
    image.remove();
  };
  return {
    leave(now = false) {
      if (gone) return;
      if (now || prefersReducedMotion() || !img?.complete) {
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
