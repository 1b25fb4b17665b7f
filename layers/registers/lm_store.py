"""Loading Lantmäteriet's address register into the lookup tables: full loads and change extracts.

Both run in ONE transaction: rows are COPYed into a temporary staging table batch by batch
(bounded memory), then placed with a few set-based statements, and the street search tables are
rebuilt. Until COMMIT every reader keeps seeing the previous register (PostgreSQL's MVCC), and a
failed or killed import (the server rolls back when its client disappears) changes nothing.
A change extract updates rows in place and never blocks readers; a full load builds a new table
and renames it into place at the end, so readers wait for that rename alone. A second writer
waits on :func:`lock_lookups`.

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

from layers.lookup.store import STREET_UID_SQL, lock_lookups, rebuild_streets
from layers.registers import lm_schema as lm
from layers.registers.lm_read import STAGE_COLUMNS, Skip, StagedAddress

Progress = Callable[[str, int, int], None]

#: "a" + the UUID's hex digits: the id says which register object it is (other sources' ids
#: are "a" + 15 hex digits of a content hash, so the two never collide).
ADDRESS_UID_SQL = "'a' || replace(lower(object_id), '-', '')"
#: What each staged address becomes in ``lookup.addresses`` (column → expression on the stage).
_TARGET = {
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


def _stage(
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


def _insert(conn: psycopg.Connection[Any], where: sql.Composable, source: str) -> int:
    """INSERT the staged rows matching ``where`` into ``lookup.addresses``."""
    statement = sql.SQL(
        "INSERT INTO lookup.addresses ({}) SELECT {} FROM lm_stage WHERE {} "
        "ON CONFLICT (uid) DO NOTHING"
    ).format(
        sql.SQL(", ").join(sql.Identifier(c) for c in _TARGET),
        sql.SQL(", ").join(sql.SQL(e) for e in _TARGET.values()),
        where,
    )
    return conn.execute(statement, {"source": source}).rowcount


def _record_source(
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


def load_register(
    conn: psycopg.Connection[Any],
    rows: Iterable[StagedAddress | Skip],
    label: str,
    total: int = 0,
    progress: Progress | None = None,
    source: str = lm.SOURCE,
) -> RegisterReport:
    """Replace every address of the register with the file's, atomically.

    The new address table is built beside the live one (``lookup.addresses_next``: the other
    sources' rows copied, the register's inserted, then the live table's indexes and
    constraints built in bulk, which is far faster than maintaining them row by row), the
    streets are rebuilt from it, and only then, just before COMMIT, it takes the live table's
    name. Readers wait for that rename alone (milliseconds); until COMMIT they see the old
    register.
    """
    report = RegisterReport()
    with conn.transaction():
        lock_lookups(conn)
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        _stage(conn, rows, report, total, progress)
        marked = conn.execute("SELECT count(*) FROM lm_stage WHERE change IS NOT NULL").fetchone()
        if marked and marked[0]:
            report.notes.append(
                f"{marked[0]} rows carry a change marker: this looks like a change extract "
                "(use --changes); loaded as a whole register, removals dropped"
            )
            report.skip("removal in a full load", _delete_stage(conn, "change = 'remove'"))
        if progress:
            progress("swap", report.read, total)
        taken = conn.execute(
            sql.SQL(
                "DELETE FROM lm_stage USING lookup.addresses a "
                "WHERE a.uid = {} AND a.source <> %(source)s"
            ).format(sql.SQL(ADDRESS_UID_SQL)),
            {"source": source},
        ).rowcount
        report.skip("address id already used by another source", taken)
        before = conn.execute(
            "SELECT count(*) FROM lookup.addresses WHERE source = %s", [source]
        ).fetchone()
        report.added = _build_next(conn, source)
        if before and before[0]:
            report.notes.append(f"replaced the {before[0]} addresses of the previous load")
        if progress:
            progress("streets", report.read, total)
        rebuild_streets(conn, NEXT)
        _record_source(conn, source, label, report.added)
        _swap_in(conn)  # last: readers wait for the rename, nothing more
    return report


NEXT = "addresses_next"


def _build_next(conn: psycopg.Connection[Any], source: str) -> int:
    """``lookup.addresses_next``: the other sources' rows and the staged register, indexed
    like the live table (its indexes and constraints are read from the catalogue, so one added
    by a later migration is built too). Returns the register's row count."""
    conn.execute(
        "CREATE TABLE lookup.addresses_next (LIKE lookup.addresses INCLUDING DEFAULTS "
        "INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)"
    )
    conn.execute(
        "INSERT INTO lookup.addresses_next SELECT * FROM lookup.addresses WHERE source <> %s",
        [source],
    )
    target = sql.SQL(", ").join(sql.Identifier(c) for c in _TARGET)
    values = sql.SQL(", ").join(sql.SQL(e) for e in _TARGET.values())
    added = conn.execute(
        sql.SQL(
            "INSERT INTO lookup.addresses_next ({}) SELECT {} FROM lm_stage "
            "ORDER BY municipality_code, street, number, letter"
        ).format(target, values),
        {"source": source},
    ).rowcount
    for name, definition in conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'lookup.addresses'::regclass AND contype IN ('p', 'u', 'x') "
        "ORDER BY contype, conname"
    ).fetchall():
        conn.execute(
            sql.SQL("ALTER TABLE lookup.addresses_next ADD CONSTRAINT {} {}").format(
                sql.Identifier(_next_name(name)), sql.SQL(definition)
            )
        )
    for name, definition in conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = 'lookup.addresses'::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
        "ORDER BY i.relname"
    ).fetchall():
        head, on, tail = definition.partition(" ON lookup.addresses ")
        if not on:
            raise RuntimeError(f"unexpected index definition: {definition}")
        unique = "UNIQUE " if head.startswith("CREATE UNIQUE") else ""
        conn.execute(
            sql.SQL("CREATE {}INDEX {} ON lookup.addresses_next {}").format(
                sql.SQL(unique), sql.Identifier(_next_name(name)), sql.SQL(tail)
            )
        )
    conn.execute("ANALYZE lookup.addresses_next")
    return added


def _next_name(name: str) -> str:
    return f"{name[:57]}_next"


def _swap_in(conn: psycopg.Connection[Any]) -> None:
    """``addresses_next`` becomes ``addresses`` (its sequence, constraint and index names too)."""
    constraints = [
        r[0]
        for r in conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'lookup.addresses'::regclass "
            "AND contype IN ('p', 'u', 'x')"
        ).fetchall()
    ]
    indexes = [
        r[0]
        for r in conn.execute(
            "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = 'lookup.addresses'::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
        ).fetchall()
    ]
    sequence = conn.execute("SELECT pg_get_serial_sequence('lookup.addresses', 'id')").fetchone()
    # Waits for readers of the old table to finish their statement (milliseconds), not longer.
    conn.execute("SET LOCAL lock_timeout = '60s'")
    if sequence and sequence[0]:
        conn.execute(
            sql.SQL("ALTER SEQUENCE {} OWNED BY lookup.addresses_next.id").format(
                sql.SQL(sequence[0])
            )
        )
    conn.execute("DROP TABLE lookup.addresses")
    conn.execute("ALTER TABLE lookup.addresses_next RENAME TO addresses")
    for name in constraints:
        conn.execute(
            sql.SQL("ALTER TABLE lookup.addresses RENAME CONSTRAINT {} TO {}").format(
                sql.Identifier(_next_name(name)), sql.Identifier(name)
            )
        )
    for name in indexes:
        conn.execute(
            sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                sql.Identifier("lookup", _next_name(name)), sql.Identifier(name)
            )
        )


def _delete_stage(conn: psycopg.Connection[Any], where: str) -> int:
    return conn.execute(sql.SQL("DELETE FROM lm_stage WHERE {}").format(sql.SQL(where))).rowcount


_STORED = sql.SQL(
    "EXISTS (SELECT 1 FROM lookup.addresses a "
    "WHERE a.source = %(source)s AND a.source_id = lm_stage.object_id)"
)
_UPDATE = sql.SQL(
    "UPDATE lookup.addresses a SET {} FROM lm_stage s "
    "WHERE a.source = %(source)s AND a.source_id = s.object_id AND {}"
)


def _update(conn: psycopg.Connection[Any], where: str, source: str) -> int:
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(c), sql.SQL(_qualified(e)))
        for c, e in _TARGET.items()
        if c not in ("uid", "source", "source_id")
    )
    return conn.execute(_UPDATE.format(assignments, sql.SQL(where)), {"source": source}).rowcount


def _qualified(expression: str) -> str:
    """The stage's columns in an UPDATE … FROM lm_stage s are ``s.``-qualified."""
    import re

    names = {c for c in STAGE_COLUMNS}
    return re.sub(
        r"\b([a-z_]+)\b(?!\s*\()",
        lambda m: f"s.{m.group(1)}" if m.group(1) in names else m.group(1),
        expression,
    )


def apply_changes(
    conn: psycopg.Connection[Any],
    rows: Iterable[StagedAddress | Skip],
    label: str,
    total: int = 0,
    progress: Progress | None = None,
    source: str = lm.SOURCE,
) -> RegisterReport:
    """Apply a change extract in one transaction: additions, changes, removals by identity.

    Rows with a change marker (:data:`lm_schema.CHANGE_COLUMNS`) are applied as marked. A file
    without markers is a newer delivery of whole municipalities: for each municipality in it,
    new identities are added, identities with another version (or other content) changed, and
    stored identities missing from the file removed.
    """
    report = RegisterReport()
    with conn.transaction():
        lock_lookups(conn)
        _stage(conn, rows, report, total, progress)
        marked = conn.execute("SELECT count(*) FROM lm_stage WHERE change IS NOT NULL").fetchone()
        if marked and marked[0]:
            _apply_marked(conn, report, source)
        else:
            _apply_snapshot(conn, report, source)
        _record_source(conn, source, label)
        if progress:
            progress("streets", report.read, total)
        rebuild_streets(conn)
    return report


def _apply_marked(conn: psycopg.Connection[Any], report: RegisterReport, source: str) -> None:
    args = {"source": source}
    unmarked = _delete_stage(conn, "change IS NULL")
    report.skip("row without a change marker in a change extract", unmarked)
    known_add = conn.execute(
        sql.SQL("DELETE FROM lm_stage WHERE change = 'add' AND {}").format(_STORED), args
    ).rowcount
    report.skip("addition of an object identity already stored", known_add)
    unknown_change = conn.execute(
        sql.SQL("DELETE FROM lm_stage WHERE change = 'change' AND NOT {}").format(_STORED), args
    ).rowcount
    report.skip("change for an unknown object identity", unknown_change)
    unknown_removal = conn.execute(
        sql.SQL("DELETE FROM lm_stage WHERE change = 'remove' AND NOT {}").format(_STORED), args
    ).rowcount
    report.skip("removal of an unknown object identity", unknown_removal)
    report.removed = conn.execute(
        "DELETE FROM lookup.addresses a USING lm_stage s WHERE a.source = %(source)s "
        "AND a.source_id = s.object_id AND s.change = 'remove'",
        args,
    ).rowcount
    report.changed = _update(conn, "s.change = 'change'", source)
    report.added = _insert(conn, sql.SQL("change = 'add'"), source)


_SAME = sql.SQL(
    "a.street = s.street AND a.number = s.number AND a.letter IS NOT DISTINCT FROM s.letter "
    "AND a.entrance IS NOT DISTINCT FROM s.entrance "
    "AND a.postcode IS NOT DISTINCT FROM s.postcode "
    "AND a.city IS NOT DISTINCT FROM coalesce(s.city, s.municipality_name) "
    "AND a.district IS NOT DISTINCT FROM s.district "
    "AND a.municipality_code = s.municipality_code "
    "AND a.popular_name IS NOT DISTINCT FROM s.popular_name AND a.status = s.status "
    "AND a.object_version IS NOT DISTINCT FROM s.object_version "
    "AND ST_Equals(a.geom, ST_SetSRID(ST_MakePoint(s.e, s.n), 3006))"
)


def _apply_snapshot(conn: psycopg.Connection[Any], report: RegisterReport, source: str) -> None:
    args = {"source": source}
    municipalities = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT municipality_code FROM lm_stage ORDER BY 1"
        ).fetchall()
    ]
    report.notes.append(
        "no change markers: applied as a newer delivery of municipalities "
        + ", ".join(municipalities)
    )
    report.removed = conn.execute(
        "DELETE FROM lookup.addresses a WHERE a.source = %(source)s "
        "AND a.municipality_code = ANY(%(codes)s) "
        "AND NOT EXISTS (SELECT 1 FROM lm_stage s WHERE s.object_id = a.source_id) "
        "AND NOT EXISTS (SELECT 1 FROM lm_skipped k WHERE k.object_id = a.source_id)",
        {**args, "codes": municipalities},
    ).rowcount
    report.unchanged = conn.execute(
        sql.SQL(
            "DELETE FROM lm_stage s USING lookup.addresses a WHERE a.source = %(source)s "
            "AND a.source_id = s.object_id AND {}"
        ).format(_SAME),
        args,
    ).rowcount
    report.changed = _update(conn, "true", source)
    report.added = _insert(conn, sql.SQL("NOT {}").format(_STORED), source)
