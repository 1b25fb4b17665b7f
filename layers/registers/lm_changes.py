"""A change extract of Lantmäteriet's address register: additions, changes, removals by identity.

Unlike a full load it updates ``lookup.addresses`` in place, row by row, in one transaction:
an extract is small, and readers are never blocked. The staging it starts from is
:mod:`layers.registers.lm_stage`; full loads are :mod:`layers.registers.lm_full_load`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import sql

from layers.lookup.store import lock_lookups, rebuild_streets
from layers.registers import lm_schema as lm
from layers.registers.lm_read import STAGE_COLUMNS, Skip, StagedAddress
from layers.registers.lm_stage import (
    TARGET,
    Progress,
    RegisterReport,
    delete_staged,
    record_source,
    stage_rows,
)


def _insert(conn: psycopg.Connection[Any], where: sql.Composable, source: str) -> int:
    """INSERT the staged rows matching ``where`` into ``lookup.addresses``."""
    statement = sql.SQL(
        "INSERT INTO lookup.addresses ({}) SELECT {} FROM lm_stage WHERE {} "
        "ON CONFLICT (uid) DO NOTHING"
    ).format(
        sql.SQL(", ").join(sql.Identifier(c) for c in TARGET),
        sql.SQL(", ").join(sql.SQL(e) for e in TARGET.values()),
        where,
    )
    return conn.execute(statement, {"source": source}).rowcount


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
        for c, e in TARGET.items()
        if c not in ("uid", "source", "source_id")
    )
    return conn.execute(_UPDATE.format(assignments, sql.SQL(where)), {"source": source}).rowcount


def _qualified(expression: str) -> str:
    """The stage's columns in an UPDATE … FROM lm_stage s are ``s.``-qualified."""
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
        stage_rows(conn, rows, report, total, progress)
        marked = conn.execute("SELECT count(*) FROM lm_stage WHERE change IS NOT NULL").fetchone()
        if marked and marked[0]:
            _apply_marked(conn, report, source)
        else:
            _apply_snapshot(conn, report, source)
        record_source(conn, source, label)
        if progress:
            progress("streets", report.read, total)
        rebuild_streets(conn)
    return report


def _apply_marked(conn: psycopg.Connection[Any], report: RegisterReport, source: str) -> None:
    args = {"source": source}
    unmarked = delete_staged(conn, "change IS NULL")
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
