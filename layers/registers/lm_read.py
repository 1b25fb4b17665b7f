"""Reading Lantmäteriet's address GeoPackage in bounded batches, one staging row per address.

The file is read ``BATCH`` features at a time (pyogrio's ``skip_features``/``max_features``; the
GPKG driver seeks by index), through :mod:`layers.ingest.gdal_policy` like every other file from
outside, so a national file of 3.7 million points never sits in memory whole. Each row becomes
a :class:`StagedAddress` (what the lookup tables hold) or a skip reason.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import shapely

from layers.errors import InvalidInput
from layers.ingest import gdal_policy
from layers.lookup.normalize import parse_house_number
from layers.registers import lm_schema as lm
from layers.sources import file_info

BATCH = 50_000
#: SWEREF 99 TM box around Sweden with a margin (metres): a point outside is not an address.
_E_RANGE = (180_000.0, 1_090_000.0)
_N_RANGE = (6_080_000.0, 7_700_000.0)


class StagedAddress(NamedTuple):
    """One address of the product as the lookup tables want it (SWEREF 99 TM); a tuple in
    the staging table's column order, so COPY takes it as it is."""

    object_id: str
    object_version: int | None
    status: str
    street: str
    number: int
    letter: str | None
    entrance: str | None
    postcode: str | None
    city: str | None
    district: str | None
    municipality_code: str
    municipality_name: str | None
    popular_name: str | None
    e: float
    n: float
    change: str | None = None


STAGE_COLUMNS: tuple[str, ...] = StagedAddress._fields


@dataclass(frozen=True)
class Skip:
    """A row not staged, and why (counted in the summary)."""

    reason: str
    object_id: str | None = None


@dataclass(frozen=True)
class LmFile:
    """An opened product file: its layer, how many features, which columns say what."""

    path: Path
    layer: str
    features: int
    columns: dict[str, str]  # product column (lower case) → the file's spelling
    id_column: str
    version_column: str | None
    change_column: str | None


def recognise(path: Path, layer: str | None = None) -> LmFile | None:
    """The product's layout in ``path`` (a GeoPackage), or None when it is another file."""
    if path.suffix.lower() != ".gpkg":
        return None
    names = [layer] if layer else [str(n) for n, _ in _layers(path)]
    for name in names:
        info = file_info(path, name)
        columns = {str(c).lower(): str(c) for c in info["fields"]}
        if not lm.is_lm_address_layer(list(columns)):
            continue
        id_column = next(columns[c] for c in lm.ID_COLUMNS if c in columns)
        version = next((columns[c] for c in lm.VERSION_COLUMNS if c in columns), None)
        change = next((columns[c] for c in lm.CHANGE_COLUMNS if c in columns), None)
        crs = str(info.get("crs") or "")
        if crs and crs.upper() != f"EPSG:{lm.SRID}":
            raise InvalidInput(
                f"{path.name}: Lantmäteriet's address layer {name!r} is in {crs}; the product "
                "is delivered in SWEREF 99 TM (EPSG:3006). Order it in SWEREF 99 TM."
            )
        if info.get("geometry_type") not in ("Point", "Point Z", "PointZ", "Unknown"):
            raise InvalidInput(f"{path.name}: layer {name!r} is not a point layer.")
        return LmFile(
            path, name, int(info.get("features") or 0), columns, id_column, version, change
        )
    return None


def _layers(path: Path) -> Any:
    local = gdal_policy.local_file(path)
    fmt = gdal_policy.vector_format(local)
    return gdal_policy.vector_layers(gdal_policy.checked_vector(local, fmt), fmt)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)  # "å" as a + ring would not match "å"
    return " ".join(text.split()) or None


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else int(value)
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else None


def _postcode(value: Any) -> str | None:
    number = _int(value)
    return f"{number:05d}" if number is not None and 10_000 <= number <= 99_999 else None


def _street(row: dict[str, Any]) -> str | None:
    area = _text(row.get("adressomrade_faststalltnamn"))
    farm = _text(row.get("gardsadressomrade_faststalltnamn"))
    if row.get("adressplatstyp") == lm.FARM_PLACE and farm:
        # Swedish standard SS 637003: a farm address is written "<village> <farm> <number>".
        return f"{area} {farm}" if area else farm
    return area


def stage_row(row: dict[str, Any], e: float | None, n: float | None) -> StagedAddress | Skip:
    """One product row (attributes by product column name) → a staged address or a skip."""
    object_id = _text(row.get("id"))
    if not object_id:
        return Skip("no object identity (belagenhetsadress_objektidentitet)")
    change = _text(row.get("change"))
    if change is not None:
        kind = lm.CHANGE_KINDS.get(change.lower())
        if kind is None:
            return Skip(f"unknown kind of change {change!r}", object_id)
        change = kind
        if kind == "remove":  # a removal needs nothing but the identity
            return _removal(object_id, row)
    if e is None or n is None or not (math.isfinite(e) and math.isfinite(n)):
        return Skip("invalid geometry (no point)", object_id)
    if not (_E_RANGE[0] <= e <= _E_RANGE[1] and _N_RANGE[0] <= n <= _N_RANGE[1]):
        return Skip("invalid geometry (point outside Sweden in SWEREF 99 TM)", object_id)
    status = _text(row.get("statusforbelagenhetsadress")) or ""
    if status not in (lm.STATUS_CURRENT, lm.STATUS_RESERVED):
        return Skip(f"status {status or '(empty)'!r} (only Gällande and Reserverad)", object_id)
    code = _text(row.get("kommunkod"))
    if not code or not code.isdigit() or len(code) > 4:
        return Skip("no municipality code (kommunkod)", object_id)
    street = _street(row)
    if not street:
        return Skip("no address area name (adressomrade_faststalltnamn)", object_id)
    number, letter, entrance = _designation(row)
    if number is None:
        return Skip(letter or "no address number", object_id)
    return StagedAddress(
        object_id=object_id,
        object_version=_int(row.get("version")),
        status=status,
        street=street,
        number=number,
        letter=letter,
        entrance=entrance,
        postcode=_postcode(row.get("postnummer")),
        city=_text(row.get("postort")),
        district=_text(row.get("kommundel_faststalltnamn")),
        municipality_code=code.zfill(4),
        municipality_name=_text(row.get("kommunnamn")),
        popular_name=_text(row.get("popularnamn")),
        e=float(e),
        n=float(n),
        change=change,
    )


def _removal(object_id: str, row: dict[str, Any]) -> StagedAddress:
    code = _text(row.get("kommunkod")) or "0000"
    return StagedAddress(
        object_id, None, "", "", 0, None, None, None, None, None, code.zfill(4), None, None,
        0.0, 0.0, "remove",
    )  # fmt: skip


def _designation(row: dict[str, Any]) -> tuple[int | None, str | None, str | None]:
    """(number, letter, entrance); when number is None the second item is the skip reason."""
    if row.get("avvikerfranstandarden") in (True, 1, "1", "true", "Ja", "ja"):
        text = _text(row.get("avvikandeadressplatsbeteckning")) or ""
        parsed = parse_house_number(text)
        if parsed is None or parsed.number > 99_999:
            return None, "designation deviating from the standard, not a house number", None
        return parsed.number, parsed.letter, parsed.entrance
    if row.get("adressplatstyp") == lm.METRE_PLACE:
        return None, "metre-number address (metertalsadressplats): no house number", None
    number = _int(row.get("adressplatsnummer"))
    if number is None:
        return None, "no address number (adressplatsnummer)", None
    if not 0 <= number <= 99_999:
        return None, "address number out of range (the standard allows 1–9999)", None
    letter = _text(row.get("bokstavstillagg"))
    position = _text(row.get("lagestillagg"))
    position_number = _int(row.get("lagestillaggsnummer"))
    entrance = None
    if position:
        entrance = f"{position.upper()}{position_number or ''}"
    return number, letter.upper() if letter else None, entrance


def read_rows(source: LmFile, batch: int = BATCH) -> Iterator[StagedAddress | Skip]:
    """Every feature of the file, ``batch`` at a time, as staged addresses or skips."""
    local = gdal_policy.local_file(source.path)
    fmt = gdal_policy.vector_format(local)
    path = gdal_policy.checked_vector(local, fmt)
    gdal_policy.vector_info(path, fmt, layer=source.layer)  # checks the driver
    wanted = {
        "id": source.id_column,
        "version": source.version_column,
        "change": source.change_column,
        **{c: source.columns.get(c) for c in _USED},
    }
    read_columns = sorted({c for c in wanted.values() if c})

    def batch_at(offset: int) -> tuple[Any, Any, Any]:
        meta, _fids, geometries, columns = gdal_policy.vector_read(
            path,
            fmt,
            layer=source.layer,
            columns=read_columns,
            skip_features=offset,
            max_features=batch,
        )
        return meta, geometries, columns

    # GDAL reads the next batch (in a thread: pyogrio releases the GIL while GDAL works) while
    # this one is turned into rows; two batches in memory at most.
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(batch_at, 0)
        offset = 0
        while True:
            meta, geometries, columns = pending.result()
            if len(geometries) == 0:
                break
            offset += len(geometries)
            pending = reader.submit(batch_at, offset)
            yield from _rows(meta, geometries, columns, wanted)


def _rows(
    meta: Any, geometries: Any, columns: Any, wanted: dict[str, str | None]
) -> Iterator[StagedAddress | Skip]:
    by_name = {str(name): columns[i] for i, name in enumerate(meta["fields"])}
    points = shapely.from_wkb(geometries, on_invalid="ignore")
    xs = shapely.get_x(points).tolist()
    ys = shapely.get_y(points).tolist()
    # Whole columns to Python lists at once (C speed), then rows are plain dicts.
    lists = {
        key: by_name[col].tolist() if col and col in by_name else None
        for key, col in wanted.items()
    }
    present = [(key, values) for key, values in lists.items() if values is not None]
    for i in range(len(geometries)):
        row = {key: values[i] for key, values in present}
        yield stage_row(row, xs[i], ys[i])


#: The product columns the lookup uses (the rest are not read).
_USED = (
    "statusforbelagenhetsadress",
    "adressplatstyp",
    "kommunkod",
    "kommunnamn",
    "kommundel_faststalltnamn",
    "adressomrade_faststalltnamn",
    "gardsadressomrade_faststalltnamn",
    "adressplatsnummer",
    "bokstavstillagg",
    "lagestillagg",
    "lagestillaggsnummer",
    "avvikerfranstandarden",
    "avvikandeadressplatsbeteckning",
    "postnummer",
    "postort",
    "popularnamn",
)
