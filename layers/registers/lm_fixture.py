"""GeoPackages in the layout of Lantmäteriet's address product, for tests and benchmarks.

Tests build small files row by row (:func:`lm_address`); ``bench/`` can build a synthetic
national file with :func:`write_lm_addresses` over a generator, in batches, so memory stays
bounded at millions of rows. Nothing here is real data: every file written says so in its
layer description.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from layers.registers.lm_schema import FIELDS, GEOMETRY, LAYER, SRID, STATUS_CURRENT, STREET_PLACE

_BATCH = 50_000
_NUMPY_TYPES: dict[str, Any] = {
    "text": object,
    "int": np.int32,
    "bool": np.bool_,
    "datetime": "datetime64[ms]",
}
_EMPTY = {"text": None, "int": 0, "bool": False, "datetime": np.datetime64("NaT")}


def lm_address(
    street: str,
    number: str | int | None,
    e: float,
    n: float,
    *,
    kommunkod: str = "2281",
    kommunnamn: str = "Sundsvall",
    **attributes: Any,
) -> dict[str, Any]:
    """One row as the product has it (a street address in force unless told otherwise).

    ``attributes`` are further product columns by name (``bokstavstillagg="A"``,
    ``postnummer=85231``, ``statusforbelagenhetsadress="Reserverad"`` …); ``extra_columns`` of
    :func:`write_lm_addresses` name any column that is not the product's (a change marker).
    """
    row: dict[str, Any] = {
        "belagenhetsadress_objektidentitet": str(uuid.uuid4()),
        "objektversion": 1,
        "versiongiltigfran": datetime(2025, 2, 1, 12, 0),
        "statusforbelagenhetsadress": STATUS_CURRENT,
        "adressplatstyp": STREET_PLACE,
        "adressomradestyp": "Gatuadressområde",
        "lanskod": kommunkod[:2],
        "kommunkod": kommunkod,
        "kommunnamn": kommunnamn,
        "kommundel_faststalltnamn": kommunnamn,
        "adressomrade_faststalltnamn": street,
        "adressplatsnummer": None if number is None else str(number),
        "avvikerfranstandarden": False,
        "insamlingslage": "Byggnad",
        "_e": e,
        "_n": n,
    }
    row.update(attributes)
    return row


def _column(rows: list[dict[str, Any]], name: str, kind: str) -> tuple[Any, Any]:
    values = [r.get(name) for r in rows]
    mask = np.array([v is None for v in values], dtype=bool)
    filled = [_EMPTY[kind] if v is None else v for v in values]
    if kind == "datetime":
        return np.array(filled, dtype="datetime64[ms]"), mask
    return np.array(filled, dtype=_NUMPY_TYPES[kind]), mask


def write_lm_addresses(
    path: Path,
    rows: Iterable[dict[str, Any]],
    *,
    extra_columns: dict[str, str] | None = None,
    drop_columns: Iterable[str] = (),
    batch: int = _BATCH,
) -> int:
    """Write ``rows`` (from :func:`lm_address`) as the product's GeoPackage; return the count.

    ``extra_columns`` (name → "text"/"int") adds columns the product does not have, and
    ``drop_columns`` leaves some out, so tests can build wrong files on purpose.
    """
    import pyogrio.raw

    fields: dict[str, str] = {k: v for k, v in FIELDS.items() if k not in set(drop_columns)}
    fields.update(extra_columns or {})
    written = 0
    iterator: Iterator[dict[str, Any]] = iter(rows)
    while chunk := list(islice(iterator, batch)):
        points = shapely.points([r["_e"] for r in chunk], [r["_n"] for r in chunk])
        wkb = np.array(shapely.to_wkb(points), dtype=object)
        columns = [_column(chunk, name, kind) for name, kind in fields.items()]
        pyogrio.raw.write(
            str(path),
            wkb,
            [c[0] for c in columns],
            list(fields),
            field_mask=[c[1] for c in columns],
            layer=LAYER,
            driver="GPKG",
            geometry_type="Point",
            crs=f"EPSG:{SRID}",
            append=written > 0,
            layer_options={
                "GEOMETRY_NAME": GEOMETRY,
                "DESCRIPTION": "Synthetic test data in the layout of Lantmäteriet's "
                "Belägenhetsadress Nedladdning, vektor (not real addresses)",
            },
        )
        written += len(chunk)
    if written == 0:
        raise ValueError("write_lm_addresses needs at least one row")
    return written
