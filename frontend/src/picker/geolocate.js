/**
 * "Använd min position": one position fix, with a message a person can act on when it fails
 * (permission denied is the common case and gets its own words).
 */

/**
 * @param {{t: object, onPosition: (lonLat: [number, number]) => void,
 *   onFailure: (text: string, error: GeolocationPositionError) => void,
 *   geolocation?: Geolocation}} options
 */
export function locate({ t, onPosition, onFailure, geolocation = navigator.geolocation }) {
  geolocation.getCurrentPosition(
    (position) => onPosition([position.coords.longitude, position.coords.latitude]),
    (error) => onFailure(error.code === 1 ? t.locateDenied : t.locateFailed, error),
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}
