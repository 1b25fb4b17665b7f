/**
 * "Where is the crosshair now?" for people who cannot see the map: when the map has stopped
 * moving for a moment, look up the place under the crosshair and speak it as an ambient message
 * ("Zoomnivå 17. Vid hårkorset: Fastighet …, nära Linnégatan 2."). Ambient, so anything the
 * person asked for wins (see announcer.js); debounced, so panning with the arrow keys costs one
 * lookup per pause, not one per step; the previous lookup is aborted when the map moves again.
 */
import { AMBIENT } from './announcer.js';
import { describePlace } from './value.js';

/**
 * @param {{reverse: (lon: number, lat: number, o: {signal: AbortSignal}) => Promise<object>,
 *   t: object, announce: (text: string, priority: string) => void, delay?: number,
 *   setTimeout?: typeof setTimeout, clearTimeout?: typeof clearTimeout}} options
 */
export function createWhereabouts(options) {
  const { t, announce } = options;
  const delay = options.delay ?? 600;
  const later = options.setTimeout || ((fn, ms) => setTimeout(fn, ms));
  const cancel = options.clearTimeout || ((id) => clearTimeout(id));
  let timer = null;
  let controller = null;

  async function speak({ center, zoomText, canLook }) {
    if (!canLook) {
      if (zoomText) announce(zoomText, AMBIENT);
      return;
    }
    controller?.abort();
    const own = new AbortController();
    controller = own;
    let place = '';
    try {
      const found = await options.reverse(center[0], center[1], { signal: own.signal });
      place = describePlace({ address: found.address, property: found.property }, t);
    } catch (error) {
      if (error.name === 'AbortError') return;
    }
    if (own.signal.aborted) return;
    const text = [zoomText, place ? t.atCrosshair(place) : ''].filter(Boolean).join(' ');
    if (text) announce(text, AMBIENT);
  }

  return {
    /**
     * The map stopped at `center` (lon, lat); `zoomText` is said first when the zoom changed;
     * `canLook` is false when zoomed out too far for a place to mean anything.
     */
    moved(state) {
      if (timer !== null) cancel(timer);
      controller?.abort();
      timer = later(() => {
        timer = null;
        speak(state);
      }, delay);
    },
    destroy() {
      if (timer !== null) cancel(timer);
      controller?.abort();
    },
  };
}
