"""The search statement, composed once per *shape* of query and reused.

A search's SQL (:func:`layers.lookup.search_sql.search_sql`) depends on what was typed only
through its shape: which parts there are (a street, a number and whether it is a prefix, a
letter, an entrance, a town, a postcode, a whole street, a property number and its kind), the
folded street's length up to ``HEAD_LETTERS + 1``, and the options' ``limit`` and whether
``near`` and ``municipality`` were given. Every typed value is bound. So the statement is
composed for a canonical query of that shape and kept: composing it with ``psycopg.sql``,
rendering it and converting its ``%(name)s`` placeholders cost a few milliseconds of Python,
as much as PostgreSQL's own work for a typical search (bench/lookup.py), and psycopg's own
cache of converted queries skips statements longer than 4 KB, which this one always is.

The kept form uses PostgreSQL's ``$n`` placeholders and runs on a :class:`psycopg.RawCursor`:
the same text on every search of a shape, so each pooled connection prepares it on the server
after ``prepare_threshold`` (5) executions and parses it no more.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from psycopg import sql

from layers.crs import SWEREF99_TM, LonLat
from layers.lookup.properties import parse_property_query
from layers.lookup.query import SearchQuery
from layers.lookup.search_parts import SearchOptions
from layers.lookup.search_sql import HEAD_LETTERS, search_sql
from layers.placeholders import positional

#: Shapes kept per process; a few dozen occur in practice (limit × near × municipality × parts).
CACHED_SHAPES = 512


@dataclass(frozen=True)
class Shape:
    """What the statement depends on: a canonical query and options of this shape, and the
    street's folded length as the statement tells lengths apart (0, 1, 2, more)."""

    query: SearchQuery
    options: SearchOptions
    letters: int


@dataclass(frozen=True)
class Statement:
    """One shape's statement: with named placeholders (for EXPLAIN and tests) and with
    ``$n`` placeholders for :class:`psycopg.RawCursor`, whose values are ``names`` in order."""

    named: str
    positional: bytes
    names: tuple[str, ...]

    def values(self, params: dict[str, Any]) -> list[Any]:
        """The bound values in ``$n`` order from the named ``params``."""
        return [params[name] for name in self.names]


def _property_text(text: str) -> str:
    """A property text of the same shape as ``text``: no number, "s:…", "1:…" or "1"."""
    typed = parse_property_query(text)
    if typed.number is None:
        return "x"
    if typed.samfallighet:
        return "x s:"
    return "x 1:" if typed.block is not None else "x 1"


def shape(query: SearchQuery, options: SearchOptions, letters: int) -> Shape:
    """The canonical query and options with the same statement as ``query`` and ``options``.

    Values become fixed stand-ins of the same presence; flags and the limit stay as they are.
    """
    canonical = replace(
        query,
        text=_property_text(query.text),
        street="s" if query.street else "",
        number=None if query.number is None else 1,
        letter="A" if query.letter else None,
        entrance="A" if query.entrance else None,
        town="t" if query.town else None,
        postcode="00000" if query.postcode else None,
    )
    stand_in = SearchOptions(
        limit=options.limit,
        near=None if options.near is None else LonLat(0.0, 0.0),
        municipality="0000" if options.municipality else None,
        srid=SWEREF99_TM,
    )
    return Shape(canonical, stand_in, min(letters, HEAD_LETTERS + 1))


@lru_cache(maxsize=CACHED_SHAPES)
def statement(key: Shape) -> Statement:
    """The statement of ``key``, composed on first use (about as long as one search)."""
    composed: sql.Composable = search_sql(key.query, key.options, key.letters)
    # Identifiers and literals of the statement are ASCII, so its bytes are the same in every
    # client encoding and need no connection to render.
    named = composed.as_bytes(None).decode("ascii")
    converted, names = positional(named.encode("ascii"))
    return Statement(named, converted, names)
