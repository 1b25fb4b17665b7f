"""Import readers: OSM (``addr:*``), CSV (Malmö's register or any columns), GeoPackage/GeoJSON.

Each reader yields :class:`AddressRecord` or :class:`Skipped` (with a reason), never raises for a
bad row, and reports its coordinate system, so one store function handles every format.
Column names are matched case-insensitively against known aliases (Swedish, English, OSM); a
``mapping`` from field to column name overrides the guess.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from pyproj import CRS

from layers.errors import InvalidInput
from layers.lookup.normalize import clean_spaces, parse_house_numbers, parse_postcode
from layers.lookup.records import AddressRecord, PropertyRecord, Skipped
from layers.sources import file_info, read_features

#: The fields an address import understands, with the column names each is recognised by.
ADDRESS_ALIASES: dict[str, tuple[str, ...]] = {
    "x": ("longitude", "lon", "lng", "x", "e", "east", "easting", "ost", "öst", "øst"),
    "y": ("latitude", "lat", "y", "n", "north", "northing", "nord"),
    "street": ("gata", "street", "gatunamn", "addr:street", "adressomrade", "adressområde"),
    "number": ("gatunummer", "housenumber", "addr:housenumber", "husnummer", "nummer", "number"),
    "address": ("adress", "address", "belagenhetsadress", "belägenhetsadress"),
    "postcode": ("postnummer", "postcode", "postnr", "addr:postcode", "zip"),
    "city": ("postort", "city", "ort", "addr:city"),
    "district": ("kommundel", "district", "stadsdel", "addr:suburb"),
    "id": ("id", "uuid", "objektidentitet", "adress_id"),
}
PROPERTY_ALIASES: dict[str, tuple[str, ...]] = {
    "designation": ("designation", "fastighetsbeteckning", "beteckning", "fastighet", "name"),
    "id": ("id", "uuid", "objektidentitet"),
}


@dataclass
class AddressSource:
    """An opened address file: its rows, and the EPSG code of their coordinates."""

    srid: int
    rows: Iterator[AddressRecord | Skipped]


def detect_format(path: Path) -> str:
    """Return "osm", "csv" or "vector" (anything else GDAL reads: GeoPackage, GeoJSON …)."""
    name = path.name.lower()
    if name.endswith((".osm", ".osm.xml", ".osm.pbf", ".pbf")):
        return "osm"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    return "vector"


def resolve_columns(
    columns: list[str], aliases: Mapping[str, tuple[str, ...]], mapping: Mapping[str, str]
) -> dict[str, str]:
    """Field → column name: the explicit ``mapping`` first, then the first alias present."""
    by_lower = {c.strip().lower(): c for c in columns}
    unknown = set(mapping) - set(aliases)
    if unknown:
        raise InvalidInput(
            f"Unknown field(s) in the mapping: {', '.join(sorted(unknown))}; "
            f"known: {', '.join(aliases)}."
        )
    found: dict[str, str] = {}
    for name, options in aliases.items():
        if name in mapping:
            column = by_lower.get(mapping[name].strip().lower())
            if column is None:
                raise InvalidInput(f"The file has no column {mapping[name]!r} (mapped to {name}).")
            found[name] = column
            continue
        for option in options:
            if option in by_lower:
                found[name] = by_lower[option]
                break
    return found


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = clean_spaces(str(value))
    return text or None


def addresses_from_values(
    values: Mapping[str, Any], x: float | None, y: float | None, source_id: str | None
) -> Iterator[AddressRecord | Skipped]:
    """The address(es) of one row ("12-14" is two), or why there is none."""
    if x is None or y is None:
        yield Skipped("no coordinates")
        return
    street = _text(values.get("street"))
    number_text = _text(values.get("number"))
    full = _text(values.get("address"))
    if (street is None or number_text is None) and full:
        # "Storgatan 12A": the number is the first token that starts with a digit.
        tokens = full.split(" ")
        for i, token in enumerate(tokens[1:], start=1):
            if token[:1].isdigit():
                street = street or " ".join(tokens[:i])
                number_text = number_text or " ".join(tokens[i:])
                break
    if not street:
        yield Skipped("no street name")
        return
    if not number_text:
        yield Skipped("no house number (street only)")
        return
    numbers = parse_house_numbers(number_text)
    if not numbers:
        yield Skipped("house number not understood (text, or a range like 12-15)")
        return
    raw_postcode = _text(values.get("postcode"))
    postcode = parse_postcode(raw_postcode)
    warning = None
    if raw_postcode and postcode is None:
        warning = "dropped a postcode that is not five digits"
    elif len(numbers) > 1:
        warning = "split a range or list into one address per number (12-14: 12 and 14)"
    for number in numbers:
        yield AddressRecord(
            street=street,
            number=number,
            x=x,
            y=y,
            postcode=postcode,
            city=_text(values.get("city")),
            district=_text(values.get("district")),
            source_id=source_id,
            warning=warning,
        )


def _float(value: Any) -> float | None:
    try:
        number = float(str(value).strip().replace(",", "."))
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is not a coordinate


def read_csv_addresses(
    path: Path,
    srid: int = 4326,
    mapping: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
) -> AddressSource:
    """Addresses from a CSV file (Malmö's columns are recognised without a mapping)."""
    handle = path.open(encoding=encoding, newline="")
    first = handle.readline()
    handle.seek(0)
    if delimiter is None:
        delimiter = max(";,\t|", key=first.count)
    reader = csv.DictReader(handle, delimiter=delimiter)
    try:
        columns = resolve_columns(list(reader.fieldnames or []), ADDRESS_ALIASES, mapping or {})
        if "x" not in columns or "y" not in columns:
            raise InvalidInput(
                "Which columns hold the coordinates? Map them, e.g. --map x=E --map y=N."
            )
    except BaseException:
        handle.close()
        raise

    def rows() -> Iterator[AddressRecord | Skipped]:
        with handle:
            for line, row in enumerate(reader, start=2):
                values = {name: row.get(column) for name, column in columns.items()}
                source_id = _text(values.get("id")) or f"line {line}"
                yield from addresses_from_values(
                    values, _float(values.get("x")), _float(values.get("y")), source_id
                )

    return AddressSource(srid, rows())


def _point_of(wkb: bytes) -> tuple[float, float] | None:
    geometry = shapely.from_wkb(wkb)
    if geometry.is_empty:
        return None
    point = geometry if geometry.geom_type == "Point" else geometry.point_on_surface()
    return float(point.x), float(point.y)


def _file_srid(path: Path, layer: str | None) -> int | None:
    info = file_info(path, layer)
    crs = info.get("crs")
    return CRS.from_user_input(crs).to_epsg() if crs else None


def read_vector_addresses(
    path: Path,
    srid: int | None = None,
    mapping: Mapping[str, str] | None = None,
    layer: str | None = None,
) -> AddressSource:
    """Addresses from a GeoPackage, GeoJSON or Shapefile (points, or polygons' inner point)."""
    file_srid = srid or _file_srid(path, layer)
    if file_srid is None:
        raise InvalidInput("The file does not say its coordinate system; pass --srid.")
    columns_seen = list(file_info(path, layer)["fields"])
    columns = resolve_columns([str(c) for c in columns_seen], ADDRESS_ALIASES, mapping or {})

    def rows() -> Iterator[AddressRecord | Skipped]:
        for index, feature in enumerate(read_features(path, layer)):
            values = {name: feature.attributes.get(col) for name, col in columns.items()}
            xy = _point_of(feature.wkb)
            source_id = _text(values.get("id")) or f"feature {index}"
            yield from addresses_from_values(
                values, xy[0] if xy else None, xy[1] if xy else None, source_id
            )

    return AddressSource(file_srid, rows())


def read_osm_addresses(path: Path) -> AddressSource:
    """``addr:*`` on OSM nodes and on buildings (their inner point); farm addresses use
    ``addr:place`` where there is no street."""

    def rows() -> Iterator[AddressRecord | Skipped]:
        for layer in ("points", "multipolygons"):
            for feature in read_features(path, layer):
                tags = feature.attributes
                if not tags.get("addr:housenumber"):
                    continue  # not an address: neither read nor skipped
                values = {
                    "street": tags.get("addr:street") or tags.get("addr:place"),
                    "number": tags.get("addr:housenumber"),
                    "postcode": tags.get("addr:postcode"),
                    "city": tags.get("addr:city"),
                    "district": tags.get("addr:suburb"),
                }
                osm_id = tags.get("osm_id") or tags.get("osm_way_id")
                kind = "node" if layer == "points" else "way"
                xy = _point_of(feature.wkb)
                yield from addresses_from_values(
                    values, xy[0] if xy else None, xy[1] if xy else None, f"{kind}/{osm_id}"
                )

    return AddressSource(4326, rows())


def open_addresses(
    path: Path,
    file_format: str | None = None,
    srid: int | None = None,
    mapping: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    layer: str | None = None,
) -> AddressSource:
    """The right reader for ``path`` (by ``file_format`` or the file name)."""
    kind = file_format or detect_format(path)
    if kind == "osm":
        return read_osm_addresses(path)
    if kind == "csv":
        return read_csv_addresses(path, srid or 4326, mapping, delimiter, encoding)
    return read_vector_addresses(path, srid, mapping, layer)


def read_properties(
    path: Path,
    srid: int | None = None,
    mapping: Mapping[str, str] | None = None,
    layer: str | None = None,
) -> tuple[int, Iterator[PropertyRecord | Skipped]]:
    """Property units (polygons with a designation) from any file GDAL reads."""
    file_srid = srid or _file_srid(path, layer)
    if file_srid is None:
        raise InvalidInput("The file does not say its coordinate system; pass --srid.")
    fields = [str(c) for c in file_info(path, layer)["fields"]]
    columns = resolve_columns(fields, PROPERTY_ALIASES, mapping or {})
    if "designation" not in columns:
        raise InvalidInput(
            "No designation column found; map it, e.g. --map designation=BETECKNING."
        )

    def rows() -> Iterator[PropertyRecord | Skipped]:
        for index, feature in enumerate(read_features(path, layer)):
            designation = _text(feature.attributes.get(columns["designation"]))
            if not designation:
                yield Skipped("no designation")
                continue
            geometry = shapely.from_wkb(feature.wkb)
            if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
                yield Skipped("not a polygon")
                continue
            ident = columns.get("id")
            source_id = _text(feature.attributes.get(ident)) if ident else None
            yield PropertyRecord(designation, feature.wkb, source_id or f"feature {index}")

    return file_srid, rows()
