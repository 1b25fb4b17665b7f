/**
 * The `/embed` page's link to its parent: every `webmap:change` is posted to the parent window,
 * but only to the origin the server allow-listed (its `<meta name="webmap-parent-origin">`), never
 * to "*": the value can name where a citizen lives.
 */
import { CHANGE } from './events.js';

export function connectEmbed(doc = document, target = window.parent) {
  const meta = doc.querySelector('meta[name="webmap-parent-origin"]');
  const origin = meta && meta.getAttribute('content');
  if (!origin || target === window) return false;
  doc.addEventListener(CHANGE, (event) => {
    target.postMessage({ type: CHANGE, value: event.detail.value }, origin);
  });
  return true;
}
