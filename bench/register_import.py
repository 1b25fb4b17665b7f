"""Timing of ``webmap addresses import`` for Lantmäteriet's address register, and of a change
extract, on a SYNTHETIC file in the product's layout (layers/registers/lm_fixture.py).

    .venv/bin/python bench/register_import.py [--rows 500000] [--changes 0.01] [--runs 2]

The file is made up: Malmö's street names (../shared/data/malmo/adresser.csv) spread over 40
municipality codes, about 25 addresses per street like the national register (3.7 M addresses
on some 150 000 streets), points on a grid in SWEREF 99 TM. It is written once per size into the
system temp directory and reused. The import runs through the same code as the command
(layers.registers.lm_read + lm_store) into a scratch database, and prints each stage's time,
rows per second, the peak memory of this process (bounded: the file is read in batches) and a
linear extrapolation to 3.7 million rows. The machine is shared: run it twice and quote both.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

sys.path[0] = str(Path(__file__).resolve().parent.parent)
from bench.bench_db import create_database
from layers.registers import lm_read, lm_store
from layers.registers.lm_fixture import lm_address, write_lm_addresses

PROJECT = Path(__file__).resolve().parent.parent
MALMO_CSV = PROJECT.parent / "shared" / "data" / "malmo" / "adresser.csv"
DATABASE = "webmap_bench_register"
NATIONAL = 3_700_000
MUNICIPALITIES = [f"{c:04d}" for c in range(1201, 1241)]


def _street_names() -> list[str]:
    if MALMO_CSV.exists():
        with MALMO_CSV.open(encoding="utf-8") as f:
            names = sorted({row["gata"] for row in csv.DictReader(f) if row["gata"]})
        if names:
            return names
    return [f"Syntetgatan {i}" for i in range(2000)]


def synthetic_rows(count: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """``count`` made-up addresses: streets of 1–49 numbers, one grid cell per municipality."""
    rng = random.Random(seed)
    names = _street_names()
    made = 0
    street = 0
    while made < count:
        code = MUNICIPALITIES[street % len(MUNICIPALITIES)]
        name = names[(street // len(MUNICIPALITIES)) % len(names)]
        if street >= len(names) * len(MUNICIPALITIES):
            name = f"{name} {street // (len(names) * len(MUNICIPALITIES)) + 1}"
        e0 = 300_000 + (int(code) - 1200) * 12_000
        n0 = 6_200_000 + (street % 997) * 900
        for number in range(1, min(rng.randint(1, 49), count - made) + 1):
            yield lm_address(
                name, number, e0 + number * 12.0, n0 + rng.random() * 40,
                kommunkod=code, kommunnamn=f"Kommun {code}", postnummer=20000 + street % 70000,
                postort="SYNTETSTAD", belagenhetsadress_objektidentitet=str(
                    uuid.UUID(int=rng.getrandbits(128), version=4)),
            )  # fmt: skip
            made += 1
        street += 1


class Stages:
    """Wall time of each stage the importer reports through its progress callback."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.last = self.start
        self.stage = "read"
        self.times: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != self.stage:
            self.times[self.stage] = now - self.last
            self.stage, self.last = stage, now
        if stage == "read" and done % 100_000 == 0:
            print(f"    read {done}/{total} ({now - self.start:.0f} s)", flush=True)

    def finish(self) -> float:
        now = time.perf_counter()
        self.times[self.stage] = now - self.last
        return now - self.start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--changes", type=float, default=0.01, help="share changed afterwards")
    parser.add_argument("--runs", type=int, default=2, help="full loads (the 2nd replaces)")
    args = parser.parse_args()
    print("SYNTHETIC data in the layout of Lantmäteriet's Belägenhetsadress (not real addresses)")
    path = Path(tempfile.gettempdir()) / f"webmap-bench-register-{args.rows}.gpkg"
    if not path.exists():
        began = time.perf_counter()
        write_lm_addresses(path, synthetic_rows(args.rows))
        print(f"  wrote {path} in {time.perf_counter() - began:.0f} s")
    url = create_database(DATABASE)
    register = lm_read.recognise(path)
    assert register is not None
    with psycopg.connect(url) as conn:
        for run in range(1, args.runs + 1):
            stages = Stages()
            report = lm_store.load_register(
                conn, lm_read.read_rows(register), path.name, register.features, stages
            )
            total = stages.finish()
            parts = ", ".join(f"{k} {v:.0f} s" for k, v in stages.times.items())
            print(f"  full load {run} ({'empty' if run == 1 else 'replacing'} register): "
                  f"{report.added} rows in {total:.0f} s ({parts}); "
                  f"{report.added / total:,.0f} rows/s; 3.7 M at this rate: "
                  f"{NATIONAL / (report.added / total) / 60:.1f} min")  # fmt: skip
        changed = int(args.rows * args.changes)
        changes = Path(tempfile.gettempdir()) / f"webmap-bench-register-changes-{changed}.gpkg"
        if not changes.exists():
            # A third each: new addresses, moved ones (same identities as the file's first
            # rows, one version later) and removals (the next ones).
            third = changed // 3
            rows = [{**r, "andringstyp": "Ny"} for r in synthetic_rows(third, seed=2)]
            existing = list(synthetic_rows(2 * third))
            rows += [
                {**r, "_e": r["_e"] + 5.0, "objektversion": 2, "andringstyp": "Ändrad"}
                for r in existing[:third]
            ]
            rows += [{**r, "andringstyp": "Borttagen"} for r in existing[third:]]
            write_lm_addresses(changes, rows, extra_columns={"andringstyp": "text"})
        extract = lm_read.recognise(changes)
        assert extract is not None
        began = time.perf_counter()
        report = lm_store.apply_changes(conn, lm_read.read_rows(extract), changes.name)
        print(f"  change extract of {changed} rows: {time.perf_counter() - began:.0f} s "
              f"({report.lines()[0]})")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
