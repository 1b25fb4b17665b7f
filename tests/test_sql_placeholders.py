"""The one converter of psycopg's ``%(name)s`` to PostgreSQL's ``$n`` (layers/placeholders.py),
which the tile statement and the search statement are both run through."""

from __future__ import annotations

import pytest

from layers.placeholders import positional


def test_names_are_numbered_by_first_use_and_repeats_share_a_number() -> None:
    text, names = positional(b"SELECT %(b)s, %(a)s, %(b)s, '100%%'")
    assert text == b"SELECT $1, $2, $1, '100%'"
    assert names == ("b", "a")


def test_a_lone_percent_is_refused_as_psycopg_refuses_it() -> None:
    with pytest.raises(ValueError, match="lone %"):
        positional(b"SELECT 5 % 3")
