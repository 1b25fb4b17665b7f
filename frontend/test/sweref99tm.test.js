import { describe, expect, it } from 'vitest';
import { fromSweref99tm, toSweref99tm } from '../src/shared/sweref99tm.js';

// Reference pairs from PROJ (pyproj 3, EPSG:4326 → EPSG:3006, always_xy), across Sweden and to
// the edges of the zone (Strömstad's west, Haparanda's east).
const PROJ = [
  [[18.075, 59.338], [674891.058, 6581727.9368]], // Östermalm, Stockholm
  [[17.3063, 62.3908], [619229.2411, 6919843.697]], // Sundsvall
  [[11.0, 58.9], [269612.1251, 6535807.4942]],
  [[24.1, 65.8], [915084.4507, 7327768.6092]],
  [[13.0, 55.6], [373988.3716, 6163377.1163]],
  [[20.2, 69.0], [707757.7032, 7663171.3027]],
];

describe('SWEREF 99 TM', () => {
  it('projects as PROJ does, to the millimetre', () => {
    for (const [lonLat, [e, n]] of PROJ) {
      const [x, y] = toSweref99tm(lonLat);
      expect(Math.abs(x - e)).toBeLessThan(0.001);
      expect(Math.abs(y - n)).toBeLessThan(0.001);
    }
  });

  it('comes back to the same longitude and latitude (under a millimetre)', () => {
    for (const [lonLat, en] of PROJ) {
      const [lon, lat] = fromSweref99tm(en);
      // 1e-8 degrees is about a millimetre.
      expect(Math.abs(lon - lonLat[0])).toBeLessThan(1e-8);
      expect(Math.abs(lat - lonLat[1])).toBeLessThan(1e-8);
    }
  });
});
