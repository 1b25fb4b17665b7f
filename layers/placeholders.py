"""psycopg's named placeholders (``%(name)s``) as PostgreSQL's own positional ones (``$n``).

Why: the two hot statements, the tile query (``tiles.lean_sql``) and the search
(``layers.lookup.search_cache``), are converted once per statement text and then run many
times without psycopg's per-call conversion, which they outgrow (psycopg keeps converted
queries only up to 4 KB, and its conversion is Python on every call). One converter, so both
read a statement exactly as psycopg would.
"""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(rb"%\((\w+)\)s|%%|%")


def positional(named: bytes) -> tuple[bytes, tuple[str, ...]]:
    """``named`` with ``$n`` for ``%(name)s`` (one number per distinct name, in order of first
    use) and ``%`` for ``%%``, and the names in ``$n`` order. A lone ``%`` is a ValueError, as
    psycopg refuses it."""
    names: list[str] = []

    def number(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        if name is None:
            if match.group(0) == b"%%":
                return b"%"
            raise ValueError(f"a lone % in the statement at {match.start()}")
        text = name.decode("ascii")
        if text not in names:
            names.append(text)
        return b"$%d" % (names.index(text) + 1)

    return _PLACEHOLDER.sub(number, named), tuple(names)
