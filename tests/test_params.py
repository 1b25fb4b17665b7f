"""Whole numbers are read one way on every endpoint: ASCII digits, nothing int() stretches."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from layers.errors import InvalidInput
from webmap.http.params import optional_whole_number, parse_whole_number, whole_number

NOT_WHOLE = ["1_000", "١٢", "²", "1.0", "1e3", "+-1", "", " ", "0x10", "12" * 10]


@pytest.mark.parametrize("text", NOT_WHOLE)
def test_what_int_or_isdigit_would_take_is_not_a_whole_number(text: str) -> None:
    assert parse_whole_number(text, -(10**30), 10**30) is None
    with pytest.raises(InvalidInput, match="whole number"):
        whole_number("limit", text, -(10**30), 10**30)


def test_whole_numbers_in_range_and_out_of_it() -> None:
    assert whole_number("limit", "7", 1, 10) == 7
    assert parse_whole_number("-3", -5, 5) == -3
    assert parse_whole_number("11", 1, 10) is None
    with pytest.raises(InvalidInput, match="between 1 and 10"):
        whole_number("limit", "11", 1, 10)


def test_optional_whole_numbers_may_be_missing() -> None:
    assert optional_whole_number("srid", None, 1024, 999_999) is None
    assert optional_whole_number("srid", "  ", 1024, 999_999) is None
    assert optional_whole_number("srid", " 3006 ", 1024, 999_999) == 3006
    with pytest.raises(InvalidInput):
        optional_whole_number("srid", "3_006", 1024, 999_999)


@pytest.mark.parametrize("limit", ["١", "²", "1_0"])
def test_the_search_limit_refuses_other_digits(client: FlaskClient, limit: str) -> None:
    response = client.get("/api/search", query_string={"q": "Storgatan", "limit": limit})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == "/problems/invalid-input"
