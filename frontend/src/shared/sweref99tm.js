/**
 * SWEREF 99 TM (EPSG:3006) ⇄ longitude, latitude (ETRS89 ≈ WGS 84 at the centimetre), in the
 * browser, without proj4.
 *
 * Why hand-written: proj4 with its definitions parser would add tens of KB to a widget that must
 * stay ≤ 150 KB gzipped, and OpenLayers' own `ol/proj/utm` is documented as approximate
 * (decimetres). These are Krüger's series as Lantmäteriet publishes them for the Gauss conformal
 * projection ("Gauss Konforma projektion (transversal Mercator), Krügers formler"), to the 8th
 * power of the eccentricity: well under a millimetre inside Sweden.
 *
 * SWEREF 99 TM: GRS 80 ellipsoid, central meridian 15° E, scale 0.9996, false easting 500 000 m,
 * false northing 0 (a UTM zone 33 on GRS 80). Coordinates here are [easting, northing]: x first,
 * as OpenLayers and GeoJSON order them (EPSG's own axis order for 3006 is northing first).
 */

const A = 6378137; // GRS 80 semi-major axis (m)
const F = 1 / 298.257222101; // GRS 80 flattening
const LON0 = (15 * Math.PI) / 180;
const K0 = 0.9996;
const FALSE_EASTING = 500000;

const E2 = F * (2 - F);
const N = F / (2 - F);
const A_ROOF = (A / (1 + N)) * (1 + (N * N) / 4 + (N ** 4) / 64);

// Forward: latitude → conformal latitude, and the series' coefficients.
const LAT_A = E2;
const LAT_B = (5 * E2 ** 2 - E2 ** 3) / 6;
const LAT_C = (104 * E2 ** 3 - 45 * E2 ** 4) / 120;
const LAT_D = (1237 * E2 ** 4) / 1260;
const BETA = [
  N / 2 - (2 * N ** 2) / 3 + (5 * N ** 3) / 16 + (41 * N ** 4) / 180,
  (13 * N ** 2) / 48 - (3 * N ** 3) / 5 + (557 * N ** 4) / 1440,
  (61 * N ** 3) / 240 - (103 * N ** 4) / 140,
  (49561 * N ** 4) / 161280,
];

// Inverse.
const DELTA = [
  N / 2 - (2 * N ** 2) / 3 + (37 * N ** 3) / 96 - N ** 4 / 360,
  N ** 2 / 48 + N ** 3 / 15 - (437 * N ** 4) / 1440,
  (17 * N ** 3) / 480 - (37 * N ** 4) / 840,
  (4397 * N ** 4) / 161280,
];
const INV_A = E2 + E2 ** 2 + E2 ** 3 + E2 ** 4;
const INV_B = -(7 * E2 ** 2 + 17 * E2 ** 3 + 30 * E2 ** 4) / 6;
const INV_C = (224 * E2 ** 3 + 889 * E2 ** 4) / 120;
const INV_D = -(4279 * E2 ** 4) / 1260;

/**
 * Longitude, latitude (degrees) → SWEREF 99 TM easting, northing (metres).
 * @param {[number, number]} lonLat
 * @returns {[number, number]} [e, n]
 */
export function toSweref99tm([lon, lat]) {
  const phi = (lat * Math.PI) / 180;
  const dLambda = (lon * Math.PI) / 180 - LON0;
  const s2 = Math.sin(phi) ** 2;
  const phiStar = phi - Math.sin(phi) * Math.cos(phi) * (LAT_A + LAT_B * s2 + LAT_C * s2 ** 2 + LAT_D * s2 ** 3);
  const xiPrime = Math.atan2(Math.tan(phiStar), Math.cos(dLambda));
  const etaPrime = Math.atanh(Math.cos(phiStar) * Math.sin(dLambda));
  let xi = xiPrime;
  let eta = etaPrime;
  for (let j = 1; j <= 4; j += 1) {
    xi += BETA[j - 1] * Math.sin(2 * j * xiPrime) * Math.cosh(2 * j * etaPrime);
    eta += BETA[j - 1] * Math.cos(2 * j * xiPrime) * Math.sinh(2 * j * etaPrime);
  }
  return [K0 * A_ROOF * eta + FALSE_EASTING, K0 * A_ROOF * xi];
}

/**
 * SWEREF 99 TM easting, northing (metres) → longitude, latitude (degrees).
 * @param {[number, number]} en [e, n]
 * @returns {[number, number]} [lon, lat]
 */
export function fromSweref99tm([e, n]) {
  const xi = n / (K0 * A_ROOF);
  const eta = (e - FALSE_EASTING) / (K0 * A_ROOF);
  let xiPrime = xi;
  let etaPrime = eta;
  for (let j = 1; j <= 4; j += 1) {
    xiPrime -= DELTA[j - 1] * Math.sin(2 * j * xi) * Math.cosh(2 * j * eta);
    etaPrime -= DELTA[j - 1] * Math.cos(2 * j * xi) * Math.sinh(2 * j * eta);
  }
  const phiStar = Math.asin(Math.sin(xiPrime) / Math.cosh(etaPrime));
  const dLambda = Math.atan2(Math.sinh(etaPrime), Math.cos(xiPrime));
  const s2 = Math.sin(phiStar) ** 2;
  const phi = phiStar + Math.sin(phiStar) * Math.cos(phiStar) * (INV_A + INV_B * s2 + INV_C * s2 ** 2 + INV_D * s2 ** 3);
  return [((LON0 + dLambda) * 180) / Math.PI, (phi * 180) / Math.PI];
}
