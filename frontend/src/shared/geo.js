/** Places the maps start from, in EPSG:4326 (lon, lat). */

/** Sweden's extent (west, south, east, north), from the 1:1 miljon municipality layer. */
export const SWEDEN_EXTENT = [10.59, 55.13, 24.18, 69.06];

/** The sample data's detailed area: Östermalm, Stockholm. */
export const OSTERMALM = { center: [18.07, 59.338], zoom: 15 };

/** Whether the person asked the system for less motion; animations then jump. */
export function prefersReducedMotion() {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}
