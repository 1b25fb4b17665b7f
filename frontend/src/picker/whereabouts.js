/**
 * "Where is the crosshair now?" for people who cannot see the map: when the map has stopped
 * moving for a moment, and when it gets keyboard focus, look up the place under the crosshair
 * and speak it as an ambient message ("Zoomnivå 17. Vid hårkorset: Fastighet …, nära
 * Linnégatan 2, i Stockholms kommun."). Where no address is near it still says something to go
 * by: the municipality ("ingen adress i närheten, i Haninge kommun"), or that the crosshair is
 * outside every Swedish municipality. Ambient, so anything the person asked for wins (see
 * announcer.js); debounced, so panning with the arrow keys costs one lookup per pause, not one
 * per step; the previous lookup is aborted when the map moves again.
 */
import { AMBIENT } from './announcer.js';
import { describePlace } from './value.js';

/** The lookup's answer in words: the place, else its municipality, else that there is none. */
export function crosshairPlace(found, t) {
  const { address, property, municipality } = found;
  if (address || property) return describePlace({ address, property, municipality }, t);
  return municipality?.name ? t.noAddressIn(municipality.name) : t.noMunicipality;
}

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
      place = crosshairPlace(found, t);
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
     * `canLook` is false when zoomed out too far for a place to mean anything. `wait`: 0 when
     * the map has just got focus (nothing is moving, say it now).
     */
    moved(state, wait = delay) {
      if (timer !== null) cancel(timer);
      controller?.abort();
      timer = later(() => {
        timer = null;
        speak(state);
      }, wait);
    },
    destroy() {
      if (timer !== null) cancel(timer);
      controller?.abort();
    },
  };
}
