"""What a full load and a change extract of Lantmäteriet's address register share: the stage.

Both read the file into a temporary table first (``lm_stage``, COPYed batch by batch, so memory
stays bounded however big the file), count what they had to skip and why
(:class:`RegisterReport`), map each staged row to a row of ``lookup.addresses`` the same way
(:data:`TARGET`) and record the source's attribution. Only what they then do with the stage
differs: :mod:`layers.registers.lm_full_load` and :mod:`layers.registers.lm_changes`.

Address ids are the object identity ("a" + the UUID's 32 hex digits), so an address keeps its id
when its street is renamed, and a change extract finds it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from layers.lookup.store import STREET_UID_SQL
from layers.registers import lm_schema as lm
from layers.registers.lm_read import STAGE_COLUMNS, Skip, StagedAddress

#: ``(stage, done, total)``: told as the read advances and when a new stage begins.
Progress = Callable[[str, int, int], None]

#: "a" + the UUID's hex digits: the id says which register object it is (other sources' ids
#: are "a" + 15 hex digits of a content hash, so the two never collide).
ADDRESS_UID_SQL = "'a' || replace(lower(object_id), '-', '')"
#: What each staged address becomes in ``lookup.addresses`` (column → expression on the stage).
TARGET = {
    "uid": ADDRESS_UID_SQL,
    "street": "street",
    "street_uid": STREET_UID_SQL,
    "number": "number",
    "letter": "letter",
    "entrance": "entrance",
    "postcode": "postcode",
    "city": "coalesce(city, municipality_name)",
    "municipality_code": "municipality_code",
    "district": "district",
    "source": "%(source)s",
    "source_id": "object_id",
    "object_version": "object_version",
    "popular_name": "popular_name",
    "status": "status",
    "geom": "ST_SetSRID(ST_MakePoint(e, n), 3006)",
}


@dataclass
class RegisterReport:
    """What a load or a change extract did: counts, and why rows were skipped."""

    read: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def skip(self, reason: str, count: int = 1) -> None:
        """Count ``count`` rows skipped for ``reason``."""
        if count:
            self.skipped[reason] += count

    def lines(self) -> list[str]:
        """The summary printed at the end, most frequent skip reason first."""
        total = sum(self.skipped.values())
        out = [
            f"read {self.read} rows: added {self.added}, changed {self.changed}, "
            f"removed {self.removed}, unchanged {self.unchanged}, skipped {total}"
        ]
        out += [f"  skipped {n}: {reason}" for reason, n in self.skipped.most_common()]
        out += [f"  note: {note}" for note in self.notes]
        out.append(f"  attribution: {lm.ATTRIBUTION}")
        return out


def stage_rows(
    conn: psycopg.Connection[Any],
    rows: Iterable[StagedAddress | Skip],
    report: RegisterReport,
    total: int,
    progress: Progress | None,
) -> None:
    """COPY the usable rows into ``lm_stage``; count the rest; drop repeated identities."""
    conn.execute(
        """
        CREATE TEMP TABLE lm_stage (
            seq bigserial, object_id text NOT NULL, object_version integer, status text,
            street text, number integer, letter text, entrance text, postcode text, city text,
            district text, municipality_code text, municipality_name text, popular_name text,
            e double precision, n double precision, change text
        ) ON COMMIT DROP
        """
    )
    conn.execute("CREATE TEMP TABLE lm_skipped (object_id text) ON COMMIT DROP")
    skipped: list[str] = []  # identities of skipped rows: a change extract must not remove them
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in STAGE_COLUMNS)
    with conn.cursor().copy(sql.SQL("COPY lm_stage ({}) FROM STDIN").format(columns)) as copy:
        for item in rows:
            report.read += 1
            if isinstance(item, Skip):
                report.skip(item.reason)
                if item.object_id:
                    skipped.append(item.object_id)
            else:
                copy.write_row(item)
            if progress and report.read % 50_000 == 0:
                progress("read", report.read, total)
    if progress:
        progress("read", report.read, total)
    if skipped:
        with conn.cursor().copy("COPY lm_skipped (object_id) FROM STDIN") as copy:
            for object_id in skipped:
                copy.write_row((object_id,))
    repeated = conn.execute(
        "DELETE FROM lm_stage s USING lm_stage t WHERE s.object_id = t.object_id AND s.seq > t.seq"
    ).rowcount
    report.skip("the same object identity twice in the file (the first was used)", repeated)
    conn.execute("CREATE INDEX ON lm_stage (object_id)")
    conn.execute("ANALYZE lm_stage")


def record_source(
    conn: psycopg.Connection[Any], source: str, label: str, rows: int | None = None
) -> None:
    """The source's attribution and size in ``lookup.address_sources`` (``rows`` when known,
    else counted)."""
    conn.execute(
        """
        INSERT INTO lookup.address_sources (source, label, attribution, product, loaded_at,
            row_count)
        VALUES (%(source)s, %(label)s, %(attribution)s, %(product)s, now(),
            coalesce(%(rows)s, (SELECT count(*) FROM lookup.addresses WHERE source = %(source)s)))
        ON CONFLICT (source) DO UPDATE SET label = EXCLUDED.label,
            attribution = EXCLUDED.attribution, product = EXCLUDED.product,
            loaded_at = EXCLUDED.loaded_at, row_count = EXCLUDED.row_count
        """,
        {
            "source": source,
            "label": label,
            "attribution": lm.ATTRIBUTION,
            "product": lm.PRODUCT,
            "rows": rows,
        },
    )


def delete_staged(conn: psycopg.Connection[Any], where: str) -> int:
    """Drop the staged rows matching ``where`` (fixed SQL text, never input); how many."""
    return conn.execute(sql.SQL("DELETE FROM lm_stage WHERE {}").format(sql.SQL(where))).rowcount
