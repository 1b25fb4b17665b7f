/**
 * The events a <webmap-picker> dispatches (bubbling, composed, on the element itself).
 *
 * - `webmap:ready`  detail: `{ map: boolean }` — the element is usable; `map` is false when the
 *   map could not load and only search (and the fallback) remain.
 * - `webmap:change` detail: `{ value: Feature | null }` — the chosen place changed (null: cleared).
 * - `webmap:error`  detail: `{ kind: 'map' | 'search' | 'lookup' | 'geolocation', message }` —
 *   something failed; the element stays usable and tells the person in its live region.
 */
export const READY = 'webmap:ready';
export const CHANGE = 'webmap:change';
export const ERROR = 'webmap:error';

/** Dispatch one of the events above from `target`. */
export function emit(target, type, detail) {
  target.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}
