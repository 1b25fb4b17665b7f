"""Lantmäteriet's address register (Belägenhetsadress Nedladdning, vektor): ``webmap addresses
import FILE.gpkg`` without a mapping, atomic full loads, change extracts, and the attribution
that travels with every answer built from it.

The files are real GeoPackages written by GDAL in the product's layout
(:mod:`layers.registers.lm_fixture`); the database is a real PostGIS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask

from layers.registers.lm_fixture import lm_address, write_lm_addresses
from layers.registers.lm_schema import ATTRIBUTION, FARM_PLACE, METRE_PLACE, SOURCE
from layers.schema import upgrade
from tests.app_helpers import scratch_database
from webmap import create_app
from webmap.cli import main

WEBMAP = Path(sys.executable).parent / "webmap"
E0, N0 = 617_000.0, 6_921_000.0  # central Sundsvall, SWEREF 99 TM


@dataclass
class Scratch:
    app: Flask
    url: str


@pytest.fixture
def scratch(database_url: str) -> Iterator[Scratch]:
    """An empty, migrated lookup database (one per test: each test loads its own register)."""
    with scratch_database(database_url, f"register{os.getpid()}") as url:
        upgrade(url)
        app = create_app({"database_url": url, "pool_min_size": 0})
        try:
            yield Scratch(app, url)
        finally:
            app.extensions["webmap.pool"].close()


def _invoke(scratch: Scratch, *args: str) -> Any:
    return scratch.app.test_cli_runner().invoke(main, list(args))


def _register(street: str = "Registergatan", count: int = 10) -> list[dict[str, Any]]:
    return [
        lm_address(street, i, E0 + 10 * i, N0, postnummer=85231, postort="SUNDSVALL")
        for i in range(1, count + 1)
    ]


def _stored(url: str) -> dict[str, tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT source_id, street, number, letter, entrance, postcode, city, district, "
            "municipality_code, popular_name, status, object_version, ST_X(geom), ST_Y(geom) "
            "FROM lookup.addresses WHERE source = %s",
            [SOURCE],
        ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_register_is_recognised_and_mapped_without_a_mapping(
    scratch: Scratch, tmp_path: Path
) -> None:
    good = [
        lm_address("Storgränd", 5, E0, N0, bokstavstillagg="b", postnummer=85231,
                   postort="SUNDSVALL", kommundel_faststalltnamn="Sundsvall",
                   popularnamn="Gamla posthuset"),
        lm_address("Storgränd", 7, E0 + 20, N0, lagestillagg="U", lagestillaggsnummer=2,
                   postnummer=85231, postort="SUNDSVALL"),
        lm_address("Ovansjö", 3, E0 + 900, N0 + 900, adressplatstyp=FARM_PLACE,
                   gardsadressomrade_faststalltnamn="Västergården", postnummer=85590,
                   postort="SUNDSVALL", statusforbelagenhetsadress="Reserverad"),
        lm_address("Storgränd", None, E0 + 40, N0, avvikerfranstandarden=True,
                   avvikandeadressplatsbeteckning="9 C", postnummer=85231, postort="SUNDSVALL"),
        lm_address("Alnövägen", 12, E0 + 60, N0, postnummer=None, postort=None),
    ]  # fmt: skip
    bad = [
        lm_address("Storgränd", 11, 10.0, 10.0),  # not in Sweden
        lm_address("Storgränd", 13, E0, N0, statusforbelagenhetsadress="Avregistrerad"),
        lm_address("Vägen", "120-5", E0, N0, adressplatstyp=METRE_PLACE),
        lm_address("Storgränd", None, E0, N0),
    ]
    twice = lm_address("Storgränd", 15, E0, N0)
    path = tmp_path / "belagenhetsadresser_kn2281.gpkg"
    write_lm_addresses(path, [*good, *bad, twice, dict(twice)])
    result = _invoke(scratch, "addresses", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "read 11 rows: added 6, changed 0, removed 0, unchanged 0, skipped 5" in result.output
    for reason in (
        "point outside Sweden",
        "status 'Avregistrerad'",
        "metre-number address",
        "no address number",
        "the same object identity twice",
    ):
        assert reason in result.output
    assert ATTRIBUTION in result.output
    stored = _stored(scratch.url)
    ids = [r["belagenhetsadress_objektidentitet"] for r in good]
    assert stored[ids[0]][:11] == (
        "Storgränd", 5, "B", None, "85231", "SUNDSVALL", "Sundsvall", "2281", "Gamla posthuset",
        "Gällande", 1,
    )  # fmt: skip
    assert stored[ids[0]][11:] == (E0, N0)
    assert stored[ids[1]][:4] == ("Storgränd", 7, None, "U2")
    assert stored[ids[2]][:2] == ("Ovansjö Västergården", 3)
    assert stored[ids[2]][9] == "Reserverad"
    assert stored[ids[3]][:3] == ("Storgränd", 9, "C")
    assert stored[ids[4]][4:6] == (None, "Sundsvall")  # no postort: the municipality's name
    with psycopg.connect(scratch.url) as conn:
        source = conn.execute(
            "SELECT attribution, row_count, label FROM lookup.address_sources WHERE source = %s",
            [SOURCE],
        ).fetchone()
    assert source == (ATTRIBUTION, 6, path.name)


def test_answers_built_from_the_register_carry_its_attribution(
    scratch: Scratch, tmp_path: Path
) -> None:
    path = tmp_path / "register.gpkg"
    write_lm_addresses(path, _register("Attributionsgatan", 5))
    assert _invoke(scratch, "addresses", "import", str(path)).exit_code == 0
    client = scratch.app.test_client()

    found = client.get("/api/search?q=Attributionsgatan 3")
    assert found.status_code == 200
    body = found.get_json()
    assert body["features"][0]["properties"]["label"].startswith("Attributionsgatan 3")
    assert body["attribution"] == [ATTRIBUTION]
    assert client.get("/api/search?q=Ingenstansgränd").get_json()["attribution"] == []

    lon, lat = body["features"][0]["geometry"]["coordinates"]
    near = client.get(f"/api/reverse?lon={lon}&lat={lat}").get_json()
    assert near["address"]["street"] == "Attributionsgatan"
    assert near["attribution"] == [ATTRIBUTION]

    value = client.get("/api/resolve?q=Attributionsgatan 4").get_json()
    assert value["properties"]["address"]["number"] == 4
    assert value["attribution"] == [ATTRIBUTION]


def test_a_second_load_replaces_the_register(scratch: Scratch, tmp_path: Path) -> None:
    first = _register("Förstagatan", 6)
    write_lm_addresses(tmp_path / "a.gpkg", first)
    assert _invoke(scratch, "addresses", "import", str(tmp_path / "a.gpkg")).exit_code == 0
    second = _register("Andragatan", 4)
    write_lm_addresses(tmp_path / "b.gpkg", second)
    result = _invoke(scratch, "addresses", "import", str(tmp_path / "b.gpkg"))
    assert result.exit_code == 0, result.output
    assert "replaced the 6 addresses of the previous load" in result.output
    stored = _stored(scratch.url)
    assert set(stored) == {r["belagenhetsadress_objektidentitet"] for r in second}
    client = scratch.app.test_client()
    assert client.get("/api/search?q=Förstagatan").get_json()["features"] == []
    assert client.get("/api/search?q=Andragatan").get_json()["features"]


def test_marked_change_extract_applies_in_one_go_with_a_summary(
    scratch: Scratch, tmp_path: Path
) -> None:
    base = _register("Ändringsgatan", 6)
    write_lm_addresses(tmp_path / "base.gpkg", base)
    assert _invoke(scratch, "addresses", "import", str(tmp_path / "base.gpkg")).exit_code == 0
    ids = [r["belagenhetsadress_objektidentitet"] for r in base]
    moved = {**base[0], "_e": E0 + 500, "objektversion": 2, "andringstyp": "Ändrad"}
    renamed = {**base[1], "adressomrade_faststalltnamn": "Nyagatan", "objektversion": 2,
               "andringstyp": "Ändrad"}  # fmt: skip
    removed = {**base[2], "andringstyp": "Borttagen"}
    added = {**lm_address("Ändringsgatan", 40, E0 + 400, N0), "andringstyp": "Ny"}
    unknown_change = {**lm_address("Ändringsgatan", 41, E0, N0), "andringstyp": "Ändrad"}
    unknown_removal = {**lm_address("Ändringsgatan", 42, E0, N0), "andringstyp": "Borttagen"}
    bad_point = {**base[3], "_e": 5.0, "_n": 5.0, "andringstyp": "Ändrad"}
    again_added = {**base[4], "andringstyp": "Ny"}
    path = tmp_path / "changes.gpkg"
    rows = [moved, renamed, removed, added, unknown_change, unknown_removal, bad_point, again_added]
    write_lm_addresses(path, rows, extra_columns={"andringstyp": "text"})
    result = _invoke(scratch, "addresses", "import", "--changes", str(path))
    assert result.exit_code == 0, result.output
    assert "read 8 rows: added 1, changed 2, removed 1, unchanged 0, skipped 4" in result.output
    for reason in (
        "change for an unknown object identity",
        "removal of an unknown object identity",
        "invalid geometry",
        "addition of an object identity already stored",
    ):
        assert f"skipped 1: {reason}" in result.output
    stored = _stored(scratch.url)
    assert ids[2] not in stored
    assert stored[ids[0]][11] == E0 + 500 and stored[ids[0]][10] == 2
    assert stored[ids[1]][0] == "Nyagatan"
    assert stored[added["belagenhetsadress_objektidentitet"]][:2] == ("Ändringsgatan", 40)
    assert stored[ids[3]][11] == E0 + 40  # the invalid change left the address as it was
    client = scratch.app.test_client()
    hits = client.get("/api/search?q=Nyagatan 2").get_json()["features"]
    assert hits and hits[0]["properties"]["street"] == "Nyagatan"
    with psycopg.connect(scratch.url) as conn:
        streets = conn.execute(
            "SELECT count(*) FROM lookup.streets WHERE name = 'Nyagatan'"
        ).fetchone()
    assert streets == (1,)


def test_unmarked_change_file_is_a_newer_delivery_of_its_municipalities(
    scratch: Scratch, tmp_path: Path
) -> None:
    sundsvall = _register("Leveransgatan", 5)
    timra = [lm_address("Timrågatan", i, E0 + 10 * i, N0 + 20_000, kommunkod="2262",
                        kommunnamn="Timrå") for i in range(1, 4)]  # fmt: skip
    write_lm_addresses(tmp_path / "all.gpkg", [*sundsvall, *timra])
    assert _invoke(scratch, "addresses", "import", str(tmp_path / "all.gpkg")).exit_code == 0
    newer = [
        sundsvall[0],
        {**sundsvall[1], "postnummer": 85232, "objektversion": 2},
        sundsvall[2],
        lm_address("Leveransgatan", 9, E0 + 90, N0),
        {**sundsvall[4], "_e": 1.0},  # unreadable now: skipped, and so not removed either
    ]  # 4 of Sundsvall is gone; Timrå is not in this file and is left alone
    write_lm_addresses(tmp_path / "newer.gpkg", newer)
    result = _invoke(scratch, "addresses", "import", "--changes", str(tmp_path / "newer.gpkg"))
    assert result.exit_code == 0, result.output
    assert "read 5 rows: added 1, changed 1, removed 1, unchanged 2, skipped 1" in result.output
    assert "skipped 1: invalid geometry" in result.output
    assert "delivery of municipalities 2281" in result.output
    stored = _stored(scratch.url)
    assert len(stored) == 5 + 3
    assert sundsvall[3]["belagenhetsadress_objektidentitet"] not in stored
    assert stored[sundsvall[4]["belagenhetsadress_objektidentitet"]][11] == sundsvall[4]["_e"]
    assert stored[sundsvall[1]["belagenhetsadress_objektidentitet"]][4] == "85232"


def test_changes_refused_for_a_file_that_is_not_the_register(
    scratch: Scratch, tmp_path: Path
) -> None:
    path = tmp_path / "other.gpkg"
    write_lm_addresses(path, _register(), drop_columns=["kommunkod"])
    result = _invoke(scratch, "addresses", "import", "--changes", str(path))
    assert result.exit_code != 0
    assert "not in that layout" in result.output


def _wait_for_stage(process: subprocess.Popen[bytes], stage: str, rows: int = 0) -> str:
    """Read the importer's progress (stderr) until it reaches ``stage`` ("read": with ``rows``
    read); return what it said."""
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline().decode()
        if not line:
            break
        seen += line
        words = line.split()
        if words and words[0] == stage and (stage != "read" or int(words[1]) >= rows):
            return seen
    raise AssertionError(f"the import never reported {stage} {rows}:\n{seen}")


@pytest.mark.parametrize("stage", ["read", "swap"])
def test_killed_import_changes_nothing(scratch: Scratch, tmp_path: Path, stage: str) -> None:
    """Killed while streaming rows in, or while building the new table beside the live one."""
    old = _register("Gamlagatan", 8)
    write_lm_addresses(tmp_path / "old.gpkg", old)
    assert _invoke(scratch, "addresses", "import", str(tmp_path / "old.gpkg")).exit_code == 0
    client = scratch.app.test_client()
    before = client.get("/api/search?q=Gamlagatan 5").get_json()
    assert before["features"] and before["attribution"] == [ATTRIBUTION]

    big = tmp_path / "big.gpkg"
    write_lm_addresses(
        big,
        (lm_address(f"Nygata {i // 100}", i % 100 + 1, E0 + i % 1000, N0 + i // 1000)
         for i in range(160_000)),
    )  # fmt: skip
    env = {**os.environ, "WEBMAP_DATABASE_URL": scratch.url}
    process = subprocess.Popen(
        [str(WEBMAP), "addresses", "import", str(big)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_stage(process, stage, 100_000)
        # Mid-way, search answers from the old register.
        assert client.get("/api/search?q=Gamlagatan 5").get_json() == before
        assert client.get("/api/search?q=Nygata 1").get_json()["features"] == []
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL

    # The old register answers, unchanged, while and after the import dies.
    assert client.get("/api/search?q=Gamlagatan 5").get_json() == before
    assert set(_stored(scratch.url)) == {r["belagenhetsadress_objektidentitet"] for r in old}
    assert client.get("/api/search?q=Nygata 1").get_json()["features"] == []
    with psycopg.connect(scratch.url) as conn:
        half_built = conn.execute("SELECT to_regclass('lookup.addresses_next')").fetchone()
    assert half_built == (None,)
    # The dead session's lock is gone: the next import goes through.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with psycopg.connect(scratch.url) as conn:
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'active' AND pid <> pg_backend_pid()"
            ).fetchone()
        if busy == (0,):
            break
        time.sleep(0.2)
    again = _register("Tredjegatan", 3)
    write_lm_addresses(tmp_path / "again.gpkg", again)
    redo = _invoke(scratch, "addresses", "import", str(tmp_path / "again.gpkg"))
    assert redo.exit_code == 0, redo.output
    assert "replaced the 8 addresses" in redo.output


def test_failed_import_changes_nothing(scratch: Scratch, tmp_path: Path) -> None:
    """A file that breaks half-way (a damaged page: GDAL fails at feature 50 000)."""
    old = _register("Bestående gatan", 4)
    write_lm_addresses(tmp_path / "old.gpkg", old)
    assert _invoke(scratch, "addresses", "import", str(tmp_path / "old.gpkg")).exit_code == 0
    client = scratch.app.test_client()
    before = client.get("/api/search?q=Bestående gatan 2").get_json()
    damaged = tmp_path / "damaged.gpkg"
    write_lm_addresses(
        damaged,
        (lm_address(f"Trasiga {i // 50}", i % 50 + 1, E0 + i % 1000, N0 + i // 1000)
         for i in range(120_000)),
    )  # fmt: skip
    with damaged.open("r+b") as f:
        f.seek(damaged.stat().st_size // 2 // 4096 * 4096)
        f.write(b"\xff" * 4096 * 8)
    for extra in ([], ["--changes"]):
        result = _invoke(scratch, "addresses", "import", *extra, str(damaged))
        assert result.exit_code == 1, result.output
        assert "the import failed and changed nothing" in result.output
        assert "malformed" in result.output
    assert client.get("/api/search?q=Bestående gatan 2").get_json() == before
    assert client.get("/api/search?q=Trasiga 1").get_json()["features"] == []
    assert set(_stored(scratch.url)) == {r["belagenhetsadress_objektidentitet"] for r in old}
    with psycopg.connect(scratch.url) as conn:
        count = conn.execute("SELECT row_count FROM lookup.address_sources").fetchall()
    assert count == [(4,)]
