"""A full load of Lantmäteriet's address register: every address of it replaced, atomically.

The new address table is built beside the live one and renamed into place just before COMMIT,
rather than deleting and inserting millions of rows in place: building indexes in bulk is far
faster than maintaining them row by row, and readers wait only for the rename. The staging it
starts from is :mod:`layers.registers.lm_stage`; change extracts are
:mod:`layers.registers.lm_changes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import sql

from layers.lookup.store import lock_lookups, rebuild_streets
from layers.registers import lm_schema as lm
from layers.registers.lm_read import Skip, StagedAddress
from layers.registers.lm_stage import (
    ADDRESS_UID_SQL,
    TARGET,
    Progress,
    RegisterReport,
    delete_staged,
    record_source,
    stage_rows,
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
        stage_rows(conn, rows, report, total, progress)
        marked = conn.execute("SELECT count(*) FROM lm_stage WHERE change IS NOT NULL").fetchone()
        if marked and marked[0]:
            report.notes.append(
                f"{marked[0]} rows carry a change marker: this looks like a change extract "
                "(use --changes); loaded as a whole register, removals dropped"
            )
            report.skip("removal in a full load", delete_staged(conn, "change = 'remove'"))
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
        record_source(conn, source, label, report.added)
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
    target = sql.SQL(", ").join(sql.Identifier(c) for c in TARGET)
    values = sql.SQL(", ").join(sql.SQL(e) for e in TARGET.values())
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
