"""Checking and repairing geometries, vectorised with shapely 2, and the report that says what.

Every feature ends up stored, repaired (``make_valid``, keeping the original dimension so a
polygon layer stays polygonal) or rejected with its index and the reason; nothing disappears
silently. A layer holds one geometry family (points, lines or polygons): a file that mixes them is
refused unless the uploader says which family to keep.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from layers.ingest.budget import Deadline, run_bounded
from layers.ingest.errors import MixedGeometry, TooLarge
from layers.ingest.limits import IngestLimits, setting_name

#: At most this many repaired/rejected features are listed one by one (counts are always exact).
MAX_LISTED = 200
FAMILIES = ("point", "line", "polygon")
# shapely type ids: 0 Point, 1 LineString, 2 LinearRing, 3 Polygon, 4-6 Multi*, 7 collection.
_FAMILY_OF_TYPE = {
    0: "point",
    4: "point",
    1: "line",
    2: "line",
    5: "line",
    3: "polygon",
    6: "polygon",
}
_DIMENSION = {"point": 0, "line": 1, "polygon": 2}
GeometryArray = NDArray[Any]


@dataclass
class ValidationReport:
    """What happened to the features of one upload; serialised into the version's report."""

    features_read: int = 0
    stored: int = 0
    repaired_count: int = 0
    rejected_count: int = 0
    repaired: list[dict[str, object]] = field(default_factory=list)
    rejected: list[dict[str, object]] = field(default_factory=list)
    rejected_reasons: Counter[str] = field(default_factory=Counter)

    def reject(self, index: int, reason: str) -> None:
        self.rejected_count += 1
        self.rejected_reasons[reason] += 1
        if len(self.rejected) < MAX_LISTED:
            self.rejected.append({"index": index, "reason": reason})

    def repair(self, index: int, reason: str) -> None:
        self.repaired_count += 1
        if len(self.repaired) < MAX_LISTED:
            self.repaired.append({"index": index, "reason": reason})

    def merge(self, other: ValidationReport) -> None:
        """Add a later chunk's report to this one (indexes stay in file order)."""
        self.stored += other.stored
        self.repaired_count += other.repaired_count
        self.rejected_count += other.rejected_count
        self.rejected_reasons.update(other.rejected_reasons)
        self.repaired.extend(other.repaired[: MAX_LISTED - len(self.repaired)])
        self.rejected.extend(other.rejected[: MAX_LISTED - len(self.rejected)])

    def as_dict(self) -> dict[str, object]:
        return {
            "features_read": self.features_read,
            "stored": self.stored,
            "repaired_count": self.repaired_count,
            "rejected_count": self.rejected_count,
            "rejected_by_reason": dict(self.rejected_reasons),
            "repaired": self.repaired,
            "rejected": self.rejected,
            "listed_at_most": MAX_LISTED,
        }


def family_of(type_ids: NDArray[Any]) -> NDArray[Any]:
    """The family name of each type id ('' for collections and missing geometries)."""
    lookup = np.array(["", "", "", "", "", "", "", ""], dtype=object)
    for type_id, family in _FAMILY_OF_TYPE.items():
        lookup[type_id] = family
    result = np.full(len(type_ids), "", dtype=object)
    known = type_ids >= 0
    result[known] = lookup[type_ids[known]]
    return result


def check_limits(geometries: GeometryArray, limits: IngestLimits) -> None:
    """Refuse absurd vertex counts before any work is spent on them (413, naming the limit).

    Runs on the parsed file before the database is touched: repairing, simplifying and storing
    all grow with the vertex count, and a single repair grows faster than linearly.
    """
    counts = shapely.get_num_coordinates(geometries)
    if counts.size and int(counts.max()) > limits.max_feature_vertices:
        index = int(counts.argmax())
        over = int(np.count_nonzero(counts > limits.max_feature_vertices))
        raise TooLarge(
            f"Feature {index} has {int(counts.max()):,} vertices; at most "
            f"{limits.max_feature_vertices:,} per feature are accepted"
            + (f" ({over} features are over the limit)." if over > 1 else "."),
            limit=setting_name("max_feature_vertices"),
            value=limits.max_feature_vertices,
            actual=int(counts.max()),
            feature=index,
            features_over_limit=over,
            hint="Split the feature into parts (e.g. cut a long line or a large polygon along "
            "a grid in QGIS: Vector → Geoprocessing → Split with lines), or simplify it to the "
            "detail a web map shows (ogr2ogr -simplify 0.1 for 10 cm in a metric CRS).",
        )
    total = int(counts.sum())
    if total > limits.max_vertices:
        raise TooLarge(
            f"The layer has {total:,} vertices; at most {limits.max_vertices:,} are accepted.",
            limit=setting_name("max_vertices"),
            value=limits.max_vertices,
            actual=total,
            hint=f"Split the data into {-(-total // limits.max_vertices)} or more layers "
            "(by area or by feature type), or simplify very detailed geometries first.",
        )


def choose_family(geometries: GeometryArray, wanted: str | None) -> str:
    """The layer's geometry family; :class:`MixedGeometry` when mixed and not chosen."""
    families = family_of(shapely.get_type_id(geometries))
    names, numbers = np.unique(families.astype(str), return_counts=True)
    counts = Counter({str(n): int(c) for n, c in zip(names, numbers, strict=True) if n})
    if wanted is not None:
        if wanted not in FAMILIES:
            raise MixedGeometry(f"geometry_type is one of {', '.join(FAMILIES)}.")
        return wanted
    if len(counts) > 1:
        summary = ", ".join(f"{n} {family}s" for family, n in counts.most_common())
        firsts = {family: int(np.flatnonzero(families == family)[0]) for family in counts if family}
        raise MixedGeometry(
            f"The layer mixes geometry types ({summary}). A layer holds one kind: split the "
            "file, or upload again with geometry_type=point, line or polygon to keep that kind "
            "(the others are then listed as rejected).",
            counts=dict(counts),
            first_index=firsts,
        )
    return counts.most_common(1)[0][0] if counts else "polygon"


def _collection_to_multi(geometry: Any, family: str) -> Any:
    """A collection's parts of ``family`` as one Multi* geometry (None when there are none)."""
    parts = [
        p for p in shapely.get_parts(geometry) if _FAMILY_OF_TYPE.get(p.geom_type_id) == family
    ]
    if not parts:
        return None
    if family == "point":
        return shapely.multipoints(parts)
    if family == "line":
        return shapely.multilinestrings(parts)
    return shapely.multipolygons(
        [q for p in parts for q in shapely.get_parts(p)]  # flatten multipolygons
    )


def validate(
    geometries: GeometryArray,
    offset: int,
    family: str,
    report: ValidationReport,
    unreadable: NDArray[np.bool_] | None = None,
    deadline: Deadline | None = None,
) -> tuple[GeometryArray, NDArray[np.bool_]]:
    """Repair what can be repaired; returns the geometries and a mask of those to store.

    ``offset`` is the index of the first geometry in the file, so reported indexes are the
    feature's position in the upload (0-based). With a ``deadline``, repairs stop when it
    passes (:class:`~layers.ingest.errors.BudgetExceeded`).
    """
    # force_2d copies every geometry; only pay for it when there is a Z or M to drop.
    has_extra = shapely.has_z(geometries) | shapely.has_m(geometries)
    geoms = shapely.force_2d(geometries) if has_extra.any() else geometries.copy()
    keep = np.ones(len(geoms), dtype=bool)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(missing):
        broken = unreadable is not None and bool(unreadable[i])
        report.reject(
            offset + int(i),
            "unreadable geometry (e.g. a ring of fewer than 4 points)"
            if broken
            else "empty or missing geometry",
        )
    keep &= ~missing
    type_ids = shapely.get_type_id(geoms)
    for i in np.flatnonzero(keep & (type_ids == 7)):
        converted = _collection_to_multi(geoms[i], family)
        if converted is None:
            report.reject(offset + int(i), f"geometry collection without {family} parts")
            keep[i] = False
        else:
            geoms[i] = converted
    families = family_of(shapely.get_type_id(geoms))
    for i in np.flatnonzero(keep & (families != family)):
        report.reject(offset + int(i), f"{families[i] or 'unknown'} in a {family} layer")
        keep[i] = False
    coordinates, owner = shapely.get_coordinates(geoms, return_index=True)
    coords_ok = np.ones(len(geoms), dtype=bool)
    coords_ok[np.unique(owner[~np.isfinite(coordinates).all(axis=1)])] = False
    for i in np.flatnonzero(keep & ~coords_ok):
        report.reject(offset + int(i), "coordinates that are not finite numbers")
        keep[i] = False
    invalid = np.flatnonzero(keep & ~shapely.is_valid(geoms))
    for i, repaired in zip(invalid, _repaired(geoms[invalid], family, deadline), strict=True):
        reason = str(shapely.is_valid_reason(geoms[i])).split("[")[0]
        if repaired is None:
            report.reject(offset + int(i), f"invalid ({reason}) and collapses when repaired")
            keep[i] = False
        else:
            geoms[i] = repaired
            report.repair(offset + int(i), reason)
    return geoms, keep


#: Invalid features up to this many vertices are repaired in this process, one by one with a
#: deadline check between them: ``make_valid`` takes at most ~0.5 s for them even on random
#: points. Larger ones are repaired in a child process that is killed when the deadline passes.
REPAIR_IN_PROCESS_VERTICES = 256


def repair_one(geometry: Any, family: str) -> Any:
    """``geometry`` made valid keeping its family (a polygon stays polygonal); None when the
    repair collapses it (a ring of zero area) or leaves it invalid."""
    repaired = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
    if (
        shapely.get_type_id(repaired) == 7
        or family_of(np.array([shapely.get_type_id(repaired)]))[0] != family
    ):
        repaired = _collection_to_multi(repaired, family)
    if repaired is None or shapely.is_empty(repaired) or not shapely.is_valid(repaired):
        return None
    return repaired


def repair_wkb(wkbs: list[bytes], family: str) -> list[bytes | None]:
    """:func:`repair_one` over WKB (what crosses to the repair process and back)."""
    out: list[bytes | None] = []
    for wkb in wkbs:
        repaired = repair_one(shapely.from_wkb(wkb), family)
        out.append(None if repaired is None else bytes(shapely.to_wkb(repaired)))
    return out


def _repaired(geoms: GeometryArray, family: str, deadline: Deadline | None) -> list[Any]:
    """The repaired form of each (invalid) geometry, None where it collapses."""
    if deadline is None:
        return [repair_one(g, family) for g in geoms]
    vertices = shapely.get_num_coordinates(geoms)
    out: list[Any] = [None] * len(geoms)
    for i in np.flatnonzero(vertices <= REPAIR_IN_PROCESS_VERTICES):
        deadline.check("repairing invalid geometries")
        out[i] = repair_one(geoms[i], family)
    large = np.flatnonzero(vertices > REPAIR_IN_PROCESS_VERTICES)
    if large.size:
        wkbs = [bytes(w) for w in shapely.to_wkb(geoms[large])]
        repaired = run_bounded(repair_wkb, (wkbs, family), deadline, "repairing invalid geometries")
        for i, wkb in zip(large, repaired, strict=True):
            out[i] = None if wkb is None else shapely.from_wkb(wkb)
    return out


def dimension(family: str) -> int:
    """The topological dimension of a family (0 points, 1 lines, 2 polygons)."""
    return _DIMENSION[family]
