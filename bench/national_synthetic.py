"""The SYNTHETIC national address register (3.7 million) that ``bench/national.py`` imports.

Nothing in the file is a real address. It is built from real patterns:

* street names: Malmö's register (../shared/data/malmo/adresser.csv), Stockholm's OSM addresses
  (osm/stockholm-ostermalm.osm) and Elverum's (extra/, Norwegian spellings made Swedish), then
  their stems recombined with their suffixes ("Ystad" + "gatan") once a town has used them up;
  names every Swedish town has (Storgatan, Kyrkogatan …) in most towns, as in the real register;
* house numbers: each street takes the number sequence (with letters, 12A) of a real street of
  those registers;
* places: all 290 municipalities of Lantmäteriet's 1:1 million map (ak_riks.zip, code and
  name); addresses per municipality in proportion to the population of its built-up areas
  (mb_riks.zip, BEF) with a floor, 85 % of streets inside a built-up area (weighted by its
  population; its name is the postort) and the rest anywhere in the municipality; every point is
  inside its municipality's polygon.

The file is written with :func:`layers.registers.lm_fixture.write_lm_addresses` (the product's
columns, SWEREF 99 TM) once into the temp directory and reused (:func:`national_file`). It
lives apart from the import and the measurement (bench/national.py): it is the larger half, and
it changes for other reasons (bump :data:`GENERATOR_VERSION` when it does).
"""

from __future__ import annotations

import csv
import itertools
import random
import re
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from layers.registers.lm_fixture import lm_address, write_lm_addresses

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared" / "data"
MALMO_CSV = SHARED / "malmo" / "adresser.csv"
STOCKHOLM_OSM = SHARED / "osm" / "stockholm-ostermalm.osm"
ELVERUM_CSV = SHARED / "extra" / "elverum_adresser_25833.csv"
MUNICIPALITIES_ZIP = SHARED / "lantmateriet-1milj" / "ak_riks.zip"
BUILT_UP_ZIP = SHARED / "lantmateriet-1milj" / "mb_riks.zip"
NATIONAL = 3_700_000
#: Bump when the generator changes, so a cached file of an older generator is not reused.
GENERATOR_VERSION = 1
#: Share of streets anchored inside a built-up area (the rest: anywhere in the municipality).
URBAN_SHARE = 0.85
#: Every municipality gets at least this much weight (people), so the smallest still have
#: a few thousand addresses, as they do.
WEIGHT_FLOOR = 6_000
#: Names most Swedish towns have, and the chance a town of over 2,000 people has each.
COMMON_NAMES: dict[str, float] = {
    "Storgatan": 0.8, "Kyrkogatan": 0.5, "Skolgatan": 0.6, "Järnvägsgatan": 0.4,
    "Stationsvägen": 0.4, "Industrivägen": 0.6, "Parkvägen": 0.5, "Kungsgatan": 0.35,
    "Drottninggatan": 0.3, "Nygatan": 0.4, "Torggatan": 0.3, "Skogsvägen": 0.5,
    "Ringvägen": 0.4, "Västra vägen": 0.2, "Östra Storgatan": 0.15, "Södra vägen": 0.25,
    "Norra vägen": 0.25, "Prästgårdsvägen": 0.3, "Björkvägen": 0.5, "Sjövägen": 0.3,
}  # fmt: skip
_SUFFIXES = (
    "gatan", "vägen", "väg", "gränd", "stigen", "backen", "torget", "allén", "plan", "leden",
    "gången", "platsen", "liden", "slingan", "vägen", "gatan",
)  # fmt: skip
_NUMBER = re.compile(r"^\s*(\d{1,4})\s*([A-Za-zÅÄÖåäö]?)")


@dataclass
class Town:
    """A built-up area (tätort or smaller) of one municipality: where its streets go."""

    name: str
    people: float
    geom: Any


@dataclass
class Municipality:
    code: str
    name: str
    geom: Any
    towns: list[Town] = field(default_factory=list)

    @property
    def people(self) -> float:
        return sum(t.people for t in self.towns)


def _parse_number(text: str) -> tuple[int, str | None] | None:
    match = _NUMBER.match(text or "")
    if not match or int(match.group(1)) == 0:
        return None
    return int(match.group(1)), (match.group(2).upper() or None)


def _swedish(name: str) -> str:
    """Elverum's Norwegian spellings as a Swedish register would have them."""
    for a, b in (("vegen", "vägen"), ("veien", "vägen"), ("gata", "gatan"), ("ø", "ö"),
                 ("Ø", "Ö"), ("æ", "ä"), ("Æ", "Ä"), ("gatann", "gatan")):  # fmt: skip
        name = name.replace(a, b)
    return name


def street_patterns() -> tuple[list[str], list[list[tuple[int, str | None]]]]:
    """Real street names and real number sequences (sorted, with letters), from all sources."""
    streets: dict[str, set[tuple[int, str | None]]] = defaultdict(set)
    if MALMO_CSV.exists():
        with MALMO_CSV.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                number = _parse_number(row["gatunummer"])
                if row["gata"] and number:
                    streets[row["gata"].strip()].add(number)
    if STOCKHOLM_OSM.exists():
        for _event, node in ET.iterparse(STOCKHOLM_OSM):
            if node.tag == "node":
                tags = {t.get("k"): t.get("v") for t in node.findall("tag")}
                number = _parse_number(tags.get("addr:housenumber") or "")
                if tags.get("addr:street") and number:
                    streets[str(tags["addr:street"]).strip()].add(number)
                node.clear()
    if ELVERUM_CSV.exists():
        with ELVERUM_CSV.open(encoding="utf-8-sig") as f:
            for row in csv.DictReader(f, delimiter=";"):
                number = _parse_number(f"{row['nummer']}{row['bokstav']}")
                if row["adressenavn"] and number:
                    streets[_swedish(row["adressenavn"].strip())].add(number)
    if not streets:
        raise SystemExit(f"needs the shared sample data in {SHARED}, which is absent")
    names = sorted(streets)
    sequences = [sorted(v, key=lambda n: (n[0], n[1] or "")) for v in streets.values()]
    return names, sequences


def _recombined(names: list[str]) -> list[str]:
    """Stems of the real names with the real suffixes: "Ystad" + "gatan", "Lilla Ystad" …"""
    stems = sorted(
        {n[: -len(s)] for n in names for s in _SUFFIXES if n.endswith(s) and len(n) > len(s) + 2}
    )
    suffixes = sorted(set(_SUFFIXES))
    made = [f"{stem}{suffix}" for stem in stems for suffix in suffixes]
    rng = random.Random(7)
    rng.shuffle(made)
    return made


def _read(path: Path) -> tuple[list[Any], dict[str, Any]]:
    import pyogrio.raw

    meta, _fids, geometries, columns = pyogrio.raw.read(f"/vsizip/{path}", encoding="ISO-8859-1")
    return list(shapely.from_wkb(geometries)), dict(zip(meta["fields"], columns, strict=True))


def municipalities() -> list[Municipality]:
    """The 290 municipalities (polygons joined by code) with their built-up areas."""
    shapes, columns = _read(MUNICIPALITIES_ZIP)
    parts: dict[str, list[Any]] = defaultdict(list)
    names: dict[str, str] = {}
    for geom, code, name in zip(shapes, columns["KOM_KOD"], columns["KOMMUNNAMN"], strict=True):
        parts[str(code).zfill(4)].append(geom)
        names[str(code).zfill(4)] = str(name)
    result = {
        code: Municipality(code, names[code], shapely.make_valid(shapely.union_all(geoms)))
        for code, geoms in sorted(parts.items())
    }
    for m in result.values():
        shapely.prepare(m.geom)
    areas, built = _read(BUILT_UP_ZIP)
    # A tätort drawn as several polygons carries its whole population on each, and one
    # polygon may span municipalities (Stockholm's): share people out by area, and give each
    # municipality its part of the polygon.
    whole: dict[tuple[Any, str], float] = defaultdict(float)
    keys = [(n if n > 0 else -i, str(name)) for i, (n, name) in enumerate(
        zip(built["TATNR"], built["NAMN1"], strict=True))]  # fmt: skip
    for geom, key in zip(areas, keys, strict=True):
        whole[key] += geom.area
    owners = list(result.values())
    tree = shapely.STRtree([m.geom for m in owners])
    for geom, people, key in zip(areas, built["BEF"], keys, strict=True):
        if key[1] in ("", "None") or not whole[key]:
            continue
        for index in tree.query(geom, predicate="intersects"):
            part = shapely.intersection(owners[index].geom, geom)
            if part.area < 1.0:
                continue
            share = float(people or 0) * part.area / whole[key]
            owners[index].towns.append(Town(key[1], max(share, 30.0), part))
    for m in result.values():
        m.towns.sort(key=lambda t: -t.people)
        if not m.towns:  # no built-up area on the 1:1 million map: the whole municipality
            m.towns.append(Town(m.name, 500.0, m.geom))
    return list(result.values())


def _inside(geom: Any, rng: np.random.Generator, count: int, within: Any) -> np.ndarray:
    """``count`` random points inside both ``geom`` and ``within`` (rejection sampling)."""
    x0, y0, x1, y1 = geom.bounds
    found: list[np.ndarray] = []
    have = 0
    for _ in range(60):
        xs = rng.uniform(x0, x1, max(64, count * 4))
        ys = rng.uniform(y0, y1, max(64, count * 4))
        ok = shapely.contains_xy(geom, xs, ys) & shapely.contains_xy(within, xs, ys)
        found.append(np.column_stack([xs[ok], ys[ok]]))
        have += int(ok.sum())
        if have >= count:
            break
    points = np.concatenate(found) if found else np.empty((0, 2))
    if len(points) < count:  # a sliver: its point on surface, in the municipality when it is
        p = geom.intersection(within).point_on_surface()
        if p.is_empty:
            p = within.point_on_surface()
        points = np.vstack([points, np.tile([p.x, p.y], (count - len(points), 1))])
    return points[:count]


def _postcode(municipality: str, town: str, street: int) -> int:
    """A made-up five-digit postcode per town (a few per town, as real ones are)."""
    base = 10_000 + zlib.crc32(f"{municipality}|{town}".encode()) % 8_900 * 10
    return base + street % 4


def national_rows(total: int = NATIONAL, seed: int = 13) -> Iterator[dict[str, Any]]:
    """``total`` made-up addresses in the product's columns, municipality by municipality."""
    names, sequences = street_patterns()
    extra = _recombined(names)
    places = municipalities()
    weights = np.array([m.people + WEIGHT_FLOOR for m in places])
    quotas = np.floor(weights / weights.sum() * total).astype(int)
    quotas[: total - int(quotas.sum())] += 1
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    for m, quota in zip(places, quotas.tolist(), strict=True):
        town_weights = [t.people for t in m.towns]
        used: dict[str, set[str]] = defaultdict(set)
        pool = names[:]
        rng.shuffle(pool)
        spare = itertools.cycle(extra[rng.randrange(len(extra)) :] + extra)
        big = list({t.name: t for t in reversed(m.towns) if t.people > 2_000}.values())
        big = big[::-1] or m.towns[:1]
        # The common names first, in the bigger towns (Storgatan in most of them).
        planned: list[tuple[str, Town]] = [
            (name, town)
            for town in big
            for name, chance in COMMON_NAMES.items()
            if rng.random() < chance
        ]
        # Streets outside the built-up areas: anywhere in the municipality, posted to its
        # biggest town.
        rural = Town(m.towns[0].name, 0.0, m.geom)
        made = 0
        streets: list[tuple[str, Town, list[tuple[int, str | None]]]] = []
        while made < quota:
            if planned:
                name, town = planned.pop(0)
            else:
                urban = rng.random() < URBAN_SHARE
                town = rng.choices(m.towns, town_weights)[0] if urban else rural
                name = pool.pop() if pool else next(spare)
                while name in used[town.name]:
                    name = pool.pop() if pool else next(spare)
            used[town.name].add(name)
            numbers = sequences[rng.randrange(len(sequences))][: quota - made]
            streets.append((name, town, numbers))
            made += len(numbers)
        yield from _street_rows(m, streets, rng, nrng)


def _street_rows(
    m: Municipality,
    streets: list[tuple[str, Town, list[tuple[int, str | None]]]],
    rng: random.Random,
    nrng: np.random.Generator,
) -> Iterator[dict[str, Any]]:
    """The addresses of one municipality's streets: numbers along a line from a point in the
    street's town, odd on one side and even on the other; points outside the municipality are
    moved to the street's start."""
    by_town: dict[int, list[int]] = defaultdict(list)
    for i, (_name, town, _numbers) in enumerate(streets):
        by_town[id(town)].append(i)
    anchors = np.zeros((len(streets), 2))
    for indexes in by_town.values():
        town = streets[indexes[0]][1]
        anchors[indexes] = _inside(town.geom, nrng, len(indexes), m.geom)
    for i, (name, town, numbers) in enumerate(streets):
        angle = rng.uniform(0, np.pi)
        dx, dy = np.cos(angle), np.sin(angle)
        steps = np.array([n for n, _letter in numbers], dtype=float)
        along = (steps - steps.min()) * 6.0
        side = np.where(steps % 2 == 1, 9.0, -9.0)
        xs = anchors[i, 0] + along * dx - side * dy + nrng.uniform(-2, 2, len(steps))
        ys = anchors[i, 1] + along * dy + side * dx + nrng.uniform(-2, 2, len(steps))
        outside = ~shapely.contains_xy(m.geom, xs, ys)
        xs[outside], ys[outside] = anchors[i, 0], anchors[i, 1]
        postcode = _postcode(m.code, town.name, i)
        for (number, letter), e, n in zip(numbers, xs.tolist(), ys.tolist(), strict=True):
            yield lm_address(
                name, number, e, n, kommunkod=m.code, kommunnamn=m.name,
                bokstavstillagg=letter, postnummer=postcode, postort=town.name.upper(),
                kommundel_faststalltnamn=town.name,
                belagenhetsadress_objektidentitet=str(
                    uuid.UUID(int=rng.getrandbits(128), version=4)),
            )  # fmt: skip


def national_file(total: int) -> Path:
    """The synthetic file for ``total`` rows, written once into the temp directory."""
    path = Path(tempfile.gettempdir()) / f"webmap-national-v{GENERATOR_VERSION}-{total}.gpkg"
    if path.exists():
        print(f"  reusing {path} ({path.stat().st_size / 2**20:.0f} MiB)")
        return path
    began = time.perf_counter()
    partial = path.with_suffix(".partial.gpkg")
    partial.unlink(missing_ok=True)
    written = write_lm_addresses(partial, national_rows(total))
    partial.rename(path)
    print(f"  wrote {written:,} rows to {path} in {time.perf_counter() - began:.0f} s "
          f"({path.stat().st_size / 2**20:.0f} MiB)")  # fmt: skip
    return path
