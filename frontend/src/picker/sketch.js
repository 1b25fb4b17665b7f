/**
 * Keyboard drawing of a line or polygon: the vertices, undo history and validity, with no map
 * and no DOM, so every rule is unit-tested (test/sketch.test.js).
 *
 * A person moves the map under the crosshair and presses Enter to add a vertex there; Delete
 * removes the last vertex (or the selected one, see vertex-edit.js); a selected vertex can be moved;
 * Ctrl+Z undoes the last change (add, move, delete or clear). "Done" is only
 * possible when the shape is valid: a line needs two distinct vertices, a polygon three that
 * enclose an area without its edges crossing.
 */

const EARTH_RADIUS = 6371008.8;

function same(a, b) {
  return Math.abs(a[0] - b[0]) < 1e-9 && Math.abs(a[1] - b[1]) < 1e-9;
}

function orientation(p, q, r) {
  const value = (q[1] - p[1]) * (r[0] - q[0]) - (q[0] - p[0]) * (r[1] - q[1]);
  if (Math.abs(value) < 1e-18) return 0;
  return value > 0 ? 1 : 2;
}

function onSegment(p, q, r) {
  return (
    Math.min(p[0], r[0]) <= q[0] && q[0] <= Math.max(p[0], r[0]) &&
    Math.min(p[1], r[1]) <= q[1] && q[1] <= Math.max(p[1], r[1])
  );
}

/** Whether segments a1–a2 and b1–b2 touch or cross (collinear overlaps included). */
export function segmentsIntersect(a1, a2, b1, b2) {
  const o1 = orientation(a1, a2, b1);
  const o2 = orientation(a1, a2, b2);
  const o3 = orientation(b1, b2, a1);
  const o4 = orientation(b1, b2, a2);
  if (o1 !== o2 && o3 !== o4) return true;
  return (
    (o1 === 0 && onSegment(a1, b1, a2)) ||
    (o2 === 0 && onSegment(a1, b2, a2)) ||
    (o3 === 0 && onSegment(b1, a1, b2)) ||
    (o4 === 0 && onSegment(b1, a2, b2))
  );
}

/** Whether a closed ring's non-neighbouring edges cross. */
export function ringSelfIntersects(vertices) {
  const n = vertices.length;
  for (let i = 0; i < n; i += 1) {
    const a1 = vertices[i];
    const a2 = vertices[(i + 1) % n];
    for (let j = i + 1; j < n; j += 1) {
      const neighbours = j === i + 1 || (i === 0 && j === n - 1);
      if (neighbours) continue;
      if (segmentsIntersect(a1, a2, vertices[j], vertices[(j + 1) % n])) return true;
    }
  }
  return false;
}

/** Whether an open line's non-neighbouring segments cross. */
function lineSelfIntersects(vertices) {
  for (let i = 0; i + 1 < vertices.length; i += 1) {
    for (let j = i + 2; j + 1 < vertices.length; j += 1) {
      if (segmentsIntersect(vertices[i], vertices[i + 1], vertices[j], vertices[j + 1])) return true;
    }
  }
  return false;
}

/** Local metres east/north of `origin` (equirectangular; fine for e-service-sized shapes). */
function toMetres(point, origin) {
  const rad = Math.PI / 180;
  return [
    (point[0] - origin[0]) * rad * EARTH_RADIUS * Math.cos(origin[1] * rad),
    (point[1] - origin[1]) * rad * EARTH_RADIUS,
  ];
}

/** Area in m² of a ring of lon/lat vertices (shoelace over local metres). */
export function ringArea(vertices) {
  if (vertices.length < 3) return 0;
  const local = vertices.map((v) => toMetres(v, vertices[0]));
  let twice = 0;
  for (let i = 0; i < local.length; i += 1) {
    const [x1, y1] = local[i];
    const [x2, y2] = local[(i + 1) % local.length];
    twice += x1 * y2 - x2 * y1;
  }
  return Math.abs(twice) / 2;
}

/** Length in metres of a line of lon/lat vertices. */
export function lineLength(vertices) {
  let total = 0;
  for (let i = 1; i < vertices.length; i += 1) {
    const [dx, dy] = toMetres(vertices[i], vertices[i - 1]);
    total += Math.hypot(dx, dy);
  }
  return total;
}

/**
 * @param {'line' | 'polygon'} mode
 */
export function createSketch(mode) {
  let vertices = [];
  const history = [];

  function change(next) {
    history.push(vertices);
    vertices = next;
  }

  return {
    mode,
    get vertices() {
      return vertices.map((v) => [...v]);
    },
    get count() {
      return vertices.length;
    },
    /** Add a vertex; a repeat of the last vertex is refused (returns false). */
    add(point) {
      if (vertices.length && same(vertices[vertices.length - 1], point)) return false;
      change([...vertices, [point[0], point[1]]]);
      return true;
    },
    /** Remove the last vertex (false when there is none). */
    removeLast() {
      return this.remove(vertices.length - 1);
    },
    /** Remove the vertex at `index` (false when there is none). */
    remove(index) {
      if (!(index >= 0 && index < vertices.length)) return false;
      change(vertices.filter((_, i) => i !== index));
      return true;
    },
    /** Move the vertex at `index` to `point` (one undo step; false when there is none). */
    move(index, point) {
      if (!(index >= 0 && index < vertices.length)) return false;
      change(vertices.map((v, i) => (i === index ? [point[0], point[1]] : v)));
      return true;
    },
    clear() {
      if (!vertices.length) return;
      change([]);
    },
    /** Undo the last add, move, remove or clear (false when there is nothing to undo). */
    undo() {
      if (!history.length) return false;
      vertices = history.pop();
      return true;
    },
    /** Why the shape cannot be finished yet, or null when it can. */
    problem() {
      const needed = mode === 'polygon' ? 3 : 2;
      if (vertices.length < needed) return 'tooFew';
      if (mode === 'polygon') {
        if (ringSelfIntersects(vertices)) return 'crosses';
        if (ringArea(vertices) < 1) return 'noArea';
      } else if (lineSelfIntersects(vertices)) {
        return 'crosses';
      }
      return null;
    },
    /** The shape as GeoJSON geometry (EPSG:4326); polygons are closed, counter-clockwise. */
    geometry() {
      const coords = vertices.map((v) => [v[0], v[1]]);
      if (mode === 'line') return { type: 'LineString', coordinates: coords };
      let twice = 0;
      for (let i = 0; i < coords.length; i += 1) {
        const [x1, y1] = coords[i];
        const [x2, y2] = coords[(i + 1) % coords.length];
        twice += x1 * y2 - x2 * y1;
      }
      const ring = twice < 0 ? [...coords].reverse() : coords; // RFC 7946: exterior CCW
      return { type: 'Polygon', coordinates: [[...ring, [...ring[0]]]] };
    },
    /** A point that represents the shape for lookups: the vertices' mean. */
    centre() {
      const n = vertices.length || 1;
      return [vertices.reduce((s, v) => s + v[0], 0) / n, vertices.reduce((s, v) => s + v[1], 0) / n];
    },
    /** Area (polygon, m²) or length (line, m). */
    measure() {
      return mode === 'polygon' ? ringArea(vertices) : lineLength(vertices);
    },
  };
}
