"""``webmap properties import`` of Lantmäteriet's property register (Fastighetsindelning
Nedladdning, vektor), with real PostGIS and real GeoPackage files.

The files are SYNTHETIC (layers.lookup.synthetic_register): a square kilometre of Sundsvall's
real municipality polygon (ak_riks) cut into invented units "Sundsvall Skönsberg 1:12" …, one of
them in two parts, plus a kvarter and a samfällighet.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import shapely
from pyproj import Transformer

from layers.lookup.fastighetsindelning import (
    LAYER,
    RegisterArea,
    designation,
    display_name,
    open_register,
)
from layers.lookup.property_register import STAGE_DDL, import_register, swap_in
from layers.lookup.query import parse_query
from layers.lookup.records import ImportReport
from layers.lookup.search import SearchOptions, search, search_statement
from layers.lookup.store import load_municipalities, lock_lookups
from layers.lookup.synthetic_register import (
    REGISTER_AREAS,
    SYNTHETIC_AREAS_SQL,
    TRAKT_ENDS,
    TRAKT_STARTS,
    SyntheticUnit,
    split_into_units,
    write_register_file,
)
from layers.schema import upgrade
from layers.sources import read_features
from tests.app_helpers import scratch_database
from webmap import create_app
from webmap.cli import main

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PROJECT = Path(__file__).resolve().parent.parent
ATTRIBUTION = "© Lantmäteriet (CC BY 4.0)"
# Skönsberg, north of Sundsvall's centre (WGS 84), and a 600 m square there in SWEREF 99 TM.
_E, _N = Transformer.from_crs(4326, 3006, always_xy=True).transform(17.305, 62.405)


def _sundsvall() -> shapely.Geometry:
    """Sundsvall's real municipality polygon (all its parts) from ak_riks."""
    parts = [
        shapely.from_wkb(feature.wkb)
        for feature in read_features(DATA_DIR / "lantmateriet" / "ak_riks.zip", None, "ISO-8859-1")
        if str(feature.attributes.get("KOM_KOD")).zfill(4) == "2281"
    ]
    assert parts, "Sundsvall is not in ak_riks"
    return shapely.union_all(parts)


def synthetic_units(trakt: str = "Skönsberg") -> list[SyntheticUnit]:
    """36 units 1:12 … 1:47 over 600 m × 600 m; 1:13 has two areas (the second far apart)."""
    window = shapely.box(_E - 300, _N - 300, _E + 300, _N + 300)
    land = shapely.intersection(_sundsvall(), window)
    units = split_into_units(land, "2281", "Sundsvall", trakt, 100.0, first_unit=12)
    assert len(units) >= 30, "the window should be mostly land"
    last = units.pop()
    two_parts = SyntheticUnit(
        "2281", "Sundsvall", trakt, "1", 13, (units[1].areas[0], last.areas[0])
    )
    units[1] = two_parts
    kvarter = SyntheticUnit(
        "2281", "Sundsvall", "Rosenbad", None, 2,
        (shapely.box(_E + 400, _N, _E + 450, _N + 50),),
    )  # fmt: skip
    samfallighet = SyntheticUnit(
        "2281", "Sundsvall", trakt, "s", 3,
        (shapely.box(_E + 400, _N + 100, _E + 450, _N + 150),), objekttyp="Samfällighet",
    )  # fmt: skip
    return [*units, kvarter, samfallighet]


@pytest.fixture(scope="module")
def scratch(database_url: str) -> Iterator[str]:
    with scratch_database(database_url, "propreg") as url:
        upgrade(url)
        with psycopg.connect(url) as conn:
            load_municipalities(conn, DATA_DIR / "lantmateriet" / "ak_riks.zip")
        yield url


@pytest.fixture(scope="module")
def register_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("register") / "fastighetsindelning_kn2281.gpkg"
    write_register_file(path, synthetic_units())
    return path


@pytest.fixture(scope="module")
def app(scratch: str) -> Iterator[Any]:
    application = create_app({"database_url": scratch, "pool_min_size": 0})
    yield application
    application.extensions["webmap.pool"].close()


@pytest.fixture(scope="module")
def imported(app: Any, register_file: Path) -> Any:
    result = app.test_cli_runner().invoke(main, ["properties", "import", str(register_file)])
    assert result.exit_code == 0, result.output
    return result


def _labels(client: Any, q: str) -> list[str]:
    found = client.get("/api/search", query_string={"q": q}).get_json()
    return [
        f["properties"]["label"] for f in found["features"] if f["properties"]["kind"] == "property"
    ]


def test_the_file_follows_the_product_layout(register_file: Path) -> None:
    with closing(sqlite3.connect(register_file)) as db:
        kind = db.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = ?", [LAYER]
        ).fetchone()
        columns = [r[1] for r in db.execute(f"PRAGMA table_info({LAYER})")]
        geometry = db.execute(
            "SELECT column_name, geometry_type_name, srs_id FROM gpkg_geometry_columns"
        ).fetchone()
        sample = db.execute(f"SELECT kommunnamn, trakt, block, enhet FROM {LAYER}").fetchone()
    assert kind == ("features",)
    for column in ("objektidentitet", "registerenhetsreferens", "objekttyp", "senastandrad",
                   "lanskod", "kommunkod", "kommunnamn", "trakt", "block", "enhet",
                   "omradesnummer", "samjelittera", "osakertlage", "etikett"):  # fmt: skip
        assert column in columns
    assert geometry == ("geom", "MULTIPOLYGON", 3006)
    assert sample == ("SUNDSVALL", "SKÖNSBERG", "1", 12)  # the register writes capitals
    opened = open_register(register_file)
    rows = list(opened.rows)
    assert opened.srid == 3006 and opened.count == len(rows) == 38
    first = rows[0]
    assert isinstance(first, RegisterArea)
    assert designation(first.register_area, first.district, first.block, first.unit) == (
        "Sundsvall Skönsberg 1:12"
    )


def test_designations_are_written_as_names() -> None:
    assert display_name("SKÖNSBERG") == "Skönsberg"
    assert display_name("ÖSTRA KARUP") == "Östra Karup"
    assert display_name("S:T OLOF") == "S:t Olof"
    assert display_name("NORRA-HAGA") == "Norra-Haga"
    assert display_name("von Platen") == "von Platen"
    assert designation("STOCKHOLM", "ROSENBAD", None, 2) == "Stockholm Rosenbad 2"
    assert designation("SUNDSVALL", "SKÖNSBERG", "S", 3) == "Sundsvall Skönsberg s:3"


def test_import_stores_one_row_per_register_unit(imported: Any, scratch: str) -> None:
    assert "stored 37" in imported.output
    assert "1 units have several areas" in imported.output
    with psycopg.connect(scratch) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT register_id), count(*) FILTER "
            "(WHERE attribution = %s AND NOT fictional AND municipality_code = '2281') "
            "FROM lookup.properties",
            [ATTRIBUTION],
        ).fetchone()
        two = conn.execute(
            "SELECT ST_NumGeometries(geom), ST_Intersects(point, geom), municipality_name "
            "FROM lookup.properties WHERE designation = 'Sundsvall Skönsberg 1:13'"
        ).fetchall()
        kinds = conn.execute(
            "SELECT designation, block, unit FROM lookup.properties "
            "WHERE designation IN ('Sundsvall Rosenbad 2', 'Sundsvall Skönsberg s:3') "
            "ORDER BY 1"
        ).fetchall()
    assert row == (37, 37, 37)
    assert two == [(2, True, "Sundsvall")]
    assert kinds == [("Sundsvall Rosenbad 2", 2, None), ("Sundsvall Skönsberg s:3", None, 3)]


def test_search_is_staged_and_typo_tolerant(imported: Any, app: Any) -> None:
    client = app.test_client()
    twelve = [f"Sundsvall Skönsberg 1:{n}" for n in range(12, 20)]
    assert _labels(client, "skönsberg 1:1")[:8] == twelve
    assert _labels(client, "SKONSBERG 1:1")[:8] == twelve  # case and diacritics fold
    assert _labels(client, "Sundsvall Skönsberg 1:12")[0] == "Sundsvall Skönsberg 1:12"
    assert _labels(client, "skonsbrg 1:12")[0] == "Sundsvall Skönsberg 1:12"  # a typo
    assert _labels(client, "sköns")[:2] == ["Sundsvall Skönsberg 1:12", "Sundsvall Skönsberg 1:13"]
    assert _labels(client, "rosenbad 2") == ["Sundsvall Rosenbad 2"]
    assert _labels(client, "skönsberg s:") == ["Sundsvall Skönsberg s:3"]
    # Two areas, one unit, one result.
    assert _labels(client, "skönsberg 1:13") == ["Sundsvall Skönsberg 1:13"]
    found = client.get("/api/search", query_string={"q": "skönsberg 1:13"}).get_json()
    props = found["features"][0]["properties"]
    assert props["attribution"] == ATTRIBUTION and props["fictional"] is False
    # The answer's own list credits the property register too, for clients that show only it.
    assert ATTRIBUTION in found["attribution"]


def test_reverse_answers_the_unit_containing_the_point(imported: Any, app: Any) -> None:
    to_wgs = Transformer.from_crs(3006, 4326, always_xy=True)
    units = synthetic_units()
    client = app.test_client()
    for unit, area in ((units[0], units[0].areas[0]), (units[1], units[1].areas[1])):
        inside = shapely.point_on_surface(area)
        lon, lat = to_wgs.transform(inside.x, inside.y)
        here = client.get("/api/reverse", query_string={"lon": lon, "lat": lat}).get_json()
        assert here["property"] == {
            "designation": unit.designation,
            "label": unit.designation,
            "fictional": False,
            "attribution": ATTRIBUTION,
        }
        assert ATTRIBUTION in here["attribution"]
    resolved = client.get("/api/resolve", query_string={"q": "skönsberg 1:13"}).get_json()
    assert resolved["properties"]["property"]["attribution"] == ATTRIBUTION
    assert ATTRIBUTION in resolved["attribution"]


def _served(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT designation FROM lookup.properties ORDER BY 1")]


def _leftovers(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT relname FROM pg_class WHERE relname LIKE '%%\\_next%%' "
                "AND relnamespace = 'lookup'::regnamespace"
            )
        ]


def test_a_failed_reimport_changes_nothing(imported: Any, scratch: str, second: Path) -> None:
    before = _served(scratch)
    started, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []
    pid: list[int] = []

    def rows() -> Iterator[RegisterArea | str]:
        for index, row in enumerate(open_register(second).rows):
            if index == 5:
                started.set()
                release.wait(30)
            yield row

    def run() -> None:
        try:
            with psycopg.connect(scratch) as conn:
                pid.append(conn.info.backend_pid)
                import_register(conn, rows(), 3006, "fastighetsindelning_kn2281.gpkg")
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(30)
    # Mid-way (rows streaming in): the old register still answers in full.
    assert _served(scratch) == before
    with psycopg.connect(scratch, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", [pid[0]])
    release.set()
    thread.join(30)
    assert failure and isinstance(failure[0], psycopg.Error)
    assert _served(scratch) == before
    assert _leftovers(scratch) == []


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second version of the same file: "Skönsberg" renamed "Nyberg"."""
    path = tmp_path_factory.mktemp("register2") / "fastighetsindelning_kn2281.gpkg"
    write_register_file(path, synthetic_units("Nyberg"))
    return path


def test_a_killed_import_process_changes_nothing(imported: Any, scratch: str, second: Path) -> None:
    """SIGKILL the ``webmap properties import`` process while it builds: nothing changes."""
    before = _served(scratch)
    env = os.environ | {"WEBMAP_DATABASE_URL": scratch, "PYTHONPATH": str(PROJECT)}
    # A slow build: the import waits on a lock the test holds, just before its swap.
    with (
        psycopg.connect(scratch) as holder,
        psycopg.connect(scratch, autocommit=True) as watcher,
    ):
        holder.execute("LOCK TABLE lookup.property_head_keys IN ACCESS SHARE MODE")
        process = subprocess.Popen(
            [sys.executable, "-m", "webmap.cli", "properties", "import", str(second)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            waiting = False
            for _ in range(1200):
                row = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE lookup.properties%'"
                ).fetchone()
                if (row and row[0]) or process.poll() is not None:
                    waiting = bool(row and row[0])
                    break
                time.sleep(0.1)
            output = b"" if waiting else (process.communicate(timeout=5)[0] or b"")
            assert waiting, f"the import never reached its swap: {output.decode()}"
            assert _served(scratch) == before  # built, not yet swapped: the old answers
            os.kill(process.pid, signal.SIGKILL)
            process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(30)
            if process.stdout:
                process.stdout.close()
        holder.rollback()
    for _ in range(100):  # the server ends the orphaned transaction
        if not _leftovers(scratch):
            break
        time.sleep(0.1)
    assert _served(scratch) == before
    assert _leftovers(scratch) == []


def test_reimport_swaps_in_the_new_version(
    app: Any, imported: Any, scratch: str, second: Path
) -> None:
    result = app.test_cli_runner().invoke(main, ["properties", "import", str(second)])
    assert result.exit_code == 0, result.output
    served = _served(scratch)
    assert "Sundsvall Nyberg 1:12" in served
    assert not any("Skönsberg" in d for d in served)  # same source: replaced, not added
    client = app.test_client()
    assert _labels(client, "nyberg 1:13") == ["Sundsvall Nyberg 1:13"]
    with psycopg.connect(scratch) as conn:
        names = {
            r[0]
            for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'lookup' "
                "AND tablename IN ('properties', 'property_heads', 'property_head_keys')"
            )
        }
    assert names == {
        "properties_pkey", "properties_uid_key", "properties_geom_idx", "properties_head_idx",
        "property_heads_pkey", "property_heads_trgm_idx", "property_head_keys_key_idx",
    }  # fmt: skip


def test_search_uses_the_indexes_at_a_realistic_size(database_url: str) -> None:
    """200 000 synthetic units: property search reads indexes, never a whole table."""
    with scratch_database(database_url, "propscale") as url:
        upgrade(url)
        with psycopg.connect(url) as conn:
            report = ImportReport()
            with conn.transaction():
                lock_lookups(conn)
                conn.execute(STAGE_DDL)
                conn.execute(
                    SYNTHETIC_AREAS_SQL,
                    {"count": 200_000, "x0": 400_000, "y0": 6_200_000,
                     "areas": list(REGISTER_AREAS), "starts": list(TRAKT_STARTS),
                     "ends": list(TRAKT_ENDS)},
                )  # fmt: skip
                report.read = 200_000
                swap_in(conn, 3006, "synthetic", report)
            assert report.stored == 200_000
            for text in ("björkberga 3:1", "provstad björkberga 3:12", "björkbrga 3:1", "bj"):
                statement, params = search_statement(parse_query(text), SearchOptions())
                plan = "\n".join(
                    r[0] for r in conn.execute(b"EXPLAIN " + statement.as_bytes(conn), params)
                )
                assert "Seq Scan on properties" not in plan, plan
                assert "Seq Scan on property_head_keys" not in plan, plan
                assert "property_head_keys_key_idx" in plan, plan
                assert "properties_head_idx" in plan, plan
            hits = search(conn, parse_query("björkberga 3:1"), SearchOptions())
            assert hits and all(h.designation and " Björkberga 3:1" in h.designation for h in hits)
            typo = search(conn, parse_query("bjorkbrga 3:1"), SearchOptions())
            assert typo and typo[0].designation and " Björkberga 3:1" in typo[0].designation


def test_a_file_in_a_local_zone_is_placed_right(app: Any, imported: Any, tmp_path: Path) -> None:
    """Sundsvall's own zone, SWEREF 99 17 15 (EPSG:3014): coordinates transformed on import."""
    to_zone = Transformer.from_crs(3006, 3014, always_xy=True)
    square = shapely.box(_E + 2000, _N, _E + 2060, _N + 60)
    unit = SyntheticUnit(
        "2281", "Sundsvall", "Zonberg", "4", 7,
        (shapely.transform(square, lambda xy: np.column_stack(to_zone.transform(*xy.T))),),
    )  # fmt: skip
    path = tmp_path / "fastighetsindelning_zon.gpkg"
    write_register_file(path, [unit], srid=3014)
    result = app.test_cli_runner().invoke(main, ["properties", "import", str(path)])
    assert result.exit_code == 0 and "(EPSG:3014)" in result.output, result.output
    inside = shapely.point_on_surface(square)
    lon, lat = Transformer.from_crs(3006, 4326, always_xy=True).transform(inside.x, inside.y)
    here = app.test_client().get("/api/reverse", query_string={"lon": lon, "lat": lat}).get_json()
    assert here["property"]["designation"] == "Sundsvall Zonberg 4:7"
